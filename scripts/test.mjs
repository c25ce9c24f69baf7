// `npm test`: every check the project has, the way CI runs it. Static checks, then unit and integration
// tests (Vitest, real ffmpeg and ts-mls), then end-to-end specs (Playwright, real processes, system
// Chromium). Ends with one summary line: "N passed, N failed".
import { spawnSync } from "node:child_process"
import { mkdirSync, readFileSync, rmSync } from "node:fs"
import { join } from "node:path"
import { buildWebIfStale } from "./lib/buildWeb.mjs"
import { requirePrograms } from "./lib/prereqs.mjs"

const root = new URL("..", import.meta.url).pathname
requirePrograms(["chromium", "ffmpeg"])

const results = join(root, "test-results")
rmSync(results, { recursive: true, force: true })
mkdirSync(results, { recursive: true })

function step(title, cmd, args, env = {}) {
  console.log(`\n▶ ${title}`)
  const r = spawnSync(cmd, args, { cwd: root, stdio: "inherit", env: { ...process.env, ...env } })
  return r.status === 0
}

let passed = 0
let failed = 0
const only = process.argv.slice(2)
const wants = (name) => only.length === 0 || only.includes(name)

if (wants("static")) {
  for (const [title, script] of [
    ["typecheck", "typecheck"],
    ["lint", "lint"],
    ["format", "format:check"],
  ]) {
    if (step(title, "npm", ["run", "--silent", script])) passed++
    else failed++
  }
}

if (wants("unit")) {
  const out = join(results, "vitest.json")
  const ok = step("unit and integration tests (vitest)", "npx", [
    "vitest",
    "run",
    "--reporter=default",
    "--reporter=json",
    `--outputFile.json=${out}`,
  ])
  try {
    const report = JSON.parse(readFileSync(out, "utf8"))
    passed += report.numPassedTests
    failed += report.numFailedTests + (ok || report.numFailedTests > 0 ? 0 : 1)
  } catch {
    failed++
  }
}

if (wants("e2e")) {
  buildWebIfStale()
  const out = join(results, "playwright.json")
  const ok = step(
    "end-to-end specs (playwright, system chromium)",
    "npx",
    ["playwright", "test", "-c", "e2e/playwright.config.ts", "--reporter=list,json"],
    { PLAYWRIGHT_JSON_OUTPUT_NAME: out },
  )
  try {
    const { stats } = JSON.parse(readFileSync(out, "utf8"))
    passed += stats.expected + stats.flaky
    failed += stats.unexpected + (ok || stats.unexpected > 0 ? 0 : 1)
  } catch {
    failed++
  }
}

// CI only (it takes minutes): build HEAD twice from clean clones and require identical releases.
if (process.env.CI && wants("reproduce")) {
  const args = ["run", "--silent", "verify-build", "--", "--test-reproduce"]
  if (step("reproducible build (two clean clones)", "npm", args)) passed++
  else failed++
}

console.log(`\n${passed} passed, ${failed} failed`)
process.exit(failed === 0 && passed > 0 ? 0 : 1)
