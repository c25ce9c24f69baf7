import { accessSync, constants, statSync } from "node:fs"
import { createRequire } from "node:module"
import { delimiter, dirname, isAbsolute, join, resolve } from "node:path"
import { FfmpegNotFoundError, FfmpegPathError } from "./capture/errors.ts"

export { FfmpegNotFoundError, FfmpegPathError } from "./capture/errors.ts"

/** Where a binary was found, in the order they are tried. */
export type FfmpegSource = "FFMPEG_PATH" | "ffmpeg-static" | "PATH"
export type FfprobeSource = "FFPROBE_PATH" | "ffmpeg-dir" | "PATH"

export interface ResolvedFfmpeg {
  path: string
  source: FfmpegSource
}
export interface ResolvedFfprobe {
  path: string
  source: FfprobeSource
}

/** Seams for tests; production code passes nothing. */
export interface ResolveDeps {
  /** Returns what `require("ffmpeg-static")` returns (a path or null); throws when the package is absent. */
  requireFfmpegStatic?: () => unknown
  platform?: NodeJS.Platform
}

const require = createRequire(import.meta.url)

/**
 * Finds the ffmpeg binary: `FFMPEG_PATH` (which must name an executable file), then the optional
 * `ffmpeg-static` package if it installed its binary, then `ffmpeg` on `PATH`.
 *
 * @throws FfmpegPathError when `FFMPEG_PATH` is set but wrong; FfmpegNotFoundError when nothing is found.
 */
export function resolveFfmpeg(env: NodeJS.ProcessEnv = process.env, deps: ResolveDeps = {}): ResolvedFfmpeg {
  const override = env.FFMPEG_PATH
  if (override) return { path: checkOverride("FFMPEG_PATH", override), source: "FFMPEG_PATH" }

  const fromPackage = ffmpegStaticPath(deps.requireFfmpegStatic ?? (() => require("ffmpeg-static")))
  if (fromPackage) return { path: fromPackage, source: "ffmpeg-static" }

  const onPath = findOnPath("ffmpeg", env, deps.platform)
  if (onPath) return { path: onPath, source: "PATH" }
  throw new FfmpegNotFoundError("ffmpeg", "FFMPEG_PATH")
}

/**
 * Finds ffprobe: `FFPROBE_PATH`, then beside the resolved ffmpeg, then `ffprobe` on `PATH`.
 *
 * @throws FfmpegPathError when `FFPROBE_PATH` is set but wrong; FfmpegNotFoundError when nothing is found.
 */
export function resolveFfprobe(
  env: NodeJS.ProcessEnv = process.env,
  deps: ResolveDeps = {},
): ResolvedFfprobe {
  const override = env.FFPROBE_PATH
  if (override) return { path: checkOverride("FFPROBE_PATH", override), source: "FFPROBE_PATH" }

  const ffmpeg = tryResolveFfmpeg(env, deps)
  if (ffmpeg) {
    const beside = join(dirname(ffmpeg.path), executableName("ffprobe", deps.platform))
    if (isExecutableFile(beside)) return { path: beside, source: "ffmpeg-dir" }
  }

  const onPath = findOnPath("ffprobe", env, deps.platform)
  if (onPath) return { path: onPath, source: "PATH" }
  throw new FfmpegNotFoundError("ffprobe", "FFPROBE_PATH")
}

function tryResolveFfmpeg(env: NodeJS.ProcessEnv, deps: ResolveDeps): ResolvedFfmpeg | undefined {
  try {
    return resolveFfmpeg(env, deps)
  } catch (error) {
    // A missing or misconfigured ffmpeg only removes one place to look for ffprobe.
    if (error instanceof FfmpegNotFoundError || error instanceof FfmpegPathError) return undefined
    throw error
  }
}

function checkOverride(envVar: string, value: string): string {
  const path = isAbsolute(value) ? value : resolve(value)
  if (!isExecutableFile(path)) throw new FfmpegPathError(envVar, value)
  return path
}

function ffmpegStaticPath(load: () => unknown): string | undefined {
  let exported: unknown
  try {
    exported = load()
  } catch {
    // ffmpeg-static is optional and usually absent here (its install script needs GitHub).
    return undefined
  }
  if (typeof exported !== "string") return undefined
  return isExecutableFile(exported) ? exported : undefined
}

function findOnPath(name: string, env: NodeJS.ProcessEnv, platform: NodeJS.Platform = process.platform) {
  const file = executableName(name, platform)
  for (const dir of (env.PATH ?? "").split(delimiter)) {
    // An empty PATH entry means the current directory; we do not run binaries from there.
    if (!dir) continue
    const candidate = join(dir, file)
    if (isExecutableFile(candidate)) return candidate
  }
  return undefined
}

function executableName(name: string, platform: NodeJS.Platform = process.platform): string {
  return platform === "win32" ? `${name}.exe` : name
}

function isExecutableFile(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false
    accessSync(path, constants.X_OK)
    return true
  } catch {
    return false
  }
}
