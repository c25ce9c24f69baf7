// Finds the system programs the project relies on and says, in one line, how to get what is missing.
import { accessSync, constants } from "node:fs"
import { delimiter, join } from "node:path"

function onPath(name) {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    if (!dir) continue
    try {
      accessSync(join(dir, name), constants.X_OK)
      return join(dir, name)
    } catch {
      // not in this directory
    }
  }
  return undefined
}

function executable(path) {
  try {
    accessSync(path, constants.X_OK)
    return path
  } catch {
    return undefined
  }
}

export function findChromium() {
  if (process.env.CHROMIUM_PATH) return executable(process.env.CHROMIUM_PATH)
  return executable("/usr/bin/chromium") ?? onPath("chromium") ?? onPath("chromium-browser")
}

export function findFfmpeg() {
  if (process.env.FFMPEG_PATH) return executable(process.env.FFMPEG_PATH)
  return onPath("ffmpeg")
}

/** Exits with one clear line when a required program is missing. */
export function requirePrograms(names) {
  const missing = names.filter((n) => (n === "chromium" ? !findChromium() : !findFfmpeg()))
  if (missing.length === 0) return
  const envs = missing.map((n) => (n === "chromium" ? "CHROMIUM_PATH" : "FFMPEG_PATH")).join(" / ")
  console.error(
    `Missing ${missing.join(" and ")}: install with \`apt-get install ${missing.join(" ")}\` (Debian) or set ${envs}.`,
  )
  process.exit(1)
}
