// Builds the PWA when its sources are newer than the last build, so `npm start` never serves stale code.
import { spawnSync } from "node:child_process"
import { readdirSync, statSync } from "node:fs"
import { join } from "node:path"

const root = new URL("../..", import.meta.url).pathname

function newest(dir) {
  let latest = 0
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === "node_modules" || entry.name === "dist") continue
    const path = join(dir, entry.name)
    latest = Math.max(latest, entry.isDirectory() ? newest(path) : statSync(path).mtimeMs)
  }
  return latest
}

export function buildWebIfStale({ force = false } = {}) {
  const built = (() => {
    try {
      return statSync(join(root, "web/dist/index.html")).mtimeMs
    } catch {
      return 0
    }
  })()
  const sources = Math.max(newest(join(root, "web")), newest(join(root, "protocol/src")))
  if (!force && built > sources) return
  console.log("Building the PWA…")
  const result = spawnSync("npx", ["vite", "build", "--logLevel", "error"], {
    cwd: join(root, "web"),
    env: { ...process.env, VIGIL_QUIET_BUILD: "1" },
    stdio: "inherit",
  })
  if (result.status !== 0) {
    console.error("The PWA build failed (see above).")
    process.exit(1)
  }
}
