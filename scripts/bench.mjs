// `npm run bench`: runs every `bench:*` script in package.json, one after the other; each prints its
// figures and writes bench-results/<name>.json.
import { spawnSync } from "node:child_process"
import { readFileSync } from "node:fs"

const root = new URL("..", import.meta.url).pathname
const { scripts } = JSON.parse(readFileSync(new URL("package.json", new URL("..", import.meta.url)), "utf8"))
let failed = 0
for (const name of Object.keys(scripts)
  .filter((n) => n.startsWith("bench:"))
  .sort()) {
  console.log(`\n▶ ${name}`)
  if (spawnSync("npm", ["run", "--silent", name], { cwd: root, stdio: "inherit" }).status !== 0) failed++
}
process.exit(failed ? 1 : 0)
