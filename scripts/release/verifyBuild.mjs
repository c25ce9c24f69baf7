// `npm run verify-build -- <dirA> <dirB>`: is release folder A the same build as B? (compareReleases.mjs)
// `npm run verify-build -- --test-reproduce [--keep]`: build HEAD twice from clean clones and compare.
// Exit code 0 when the check passes, 1 when it fails, 2 on wrong usage.
import { existsSync } from "node:fs"
import { compareReleases, formatComparison } from "./compareReleases.mjs"

const usage = `Usage:
  npm run verify-build -- <release-dir-A> <release-dir-B>
      Compares two release folders (each holds a manifest.json). Prints "Reproducibility check PASSED"
      or every mismatch with its reason.
  npm run verify-build -- --test-reproduce [--keep]
      Clones HEAD twice, runs npm ci and npm run release in each, compares the two releases.
See docs/06-reproducible-builds.md.`

const args = process.argv.slice(2)
if (args.includes("-h") || args.includes("--help")) {
  console.log(usage)
  process.exit(0)
}
if (args[0] === "--test-reproduce" && args.slice(1).every((a) => a === "--keep")) {
  const { testReproduce } = await import("./testReproduce.mjs")
  const repoRoot = new URL("../..", import.meta.url).pathname
  process.exit((await testReproduce({ repoRoot, keep: args.includes("--keep") })) ? 0 : 1)
}
if (args.length !== 2 || args.some((a) => a.startsWith("-"))) {
  console.error(usage)
  process.exit(2)
}
const [dirA, dirB] = /** @type {[string, string]} */ (args)
for (const dir of [dirA, dirB]) {
  if (!existsSync(dir)) {
    console.error(`verify-build: no such folder: ${dir}`)
    process.exit(2)
  }
}
const result = compareReleases(dirA, dirB)
for (const line of formatComparison(result)) console.log(line)
process.exit(result.ok ? 0 : 1)
