import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import { FfmpegNotFoundError, FfmpegPathError, resolveFfmpeg, resolveFfprobe } from "./ffmpeg.ts"

let root: string
const absent = () => {
  throw new Error("Cannot find module 'ffmpeg-static'")
}

function fakeBinary(dir: string, name: string, mode = 0o755): string {
  mkdirSync(dir, { recursive: true })
  const path = join(dir, name)
  writeFileSync(path, "#!/bin/sh\n")
  chmodSync(path, mode)
  return path
}

function catchError(run: () => unknown): unknown {
  try {
    run()
  } catch (error) {
    return error
  }
  throw new Error("expected a throw")
}

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), "vigil-ffmpeg-"))
})
afterEach(() => {
  rmSync(root, { recursive: true, force: true })
})

describe("resolveFfmpeg", () => {
  it("prefers FFMPEG_PATH over everything else", () => {
    const override = fakeBinary(join(root, "custom"), "my-ffmpeg")
    fakeBinary(join(root, "bin"), "ffmpeg")
    const bundled = fakeBinary(join(root, "static"), "ffmpeg")
    const env = { FFMPEG_PATH: override, PATH: join(root, "bin") }
    expect(resolveFfmpeg(env, { requireFfmpegStatic: () => bundled })).toEqual({
      path: override,
      source: "FFMPEG_PATH",
    })
  })

  it("throws a typed error naming FFMPEG_PATH when it points nowhere", () => {
    const env = { FFMPEG_PATH: join(root, "nope"), PATH: "" }
    expect(() => resolveFfmpeg(env, { requireFfmpegStatic: absent })).toThrow(FfmpegPathError)
    expect(() => resolveFfmpeg(env, { requireFfmpegStatic: absent })).toThrow(/FFMPEG_PATH/)
  })

  it("rejects a FFMPEG_PATH that is not executable", () => {
    const file = fakeBinary(root, "ffmpeg", 0o644)
    expect(() => resolveFfmpeg({ FFMPEG_PATH: file }, { requireFfmpegStatic: absent })).toThrow(
      FfmpegPathError,
    )
  })

  it("uses ffmpeg-static when the package resolves and its binary exists", () => {
    const bundled = fakeBinary(join(root, "static"), "ffmpeg")
    fakeBinary(join(root, "bin"), "ffmpeg")
    expect(resolveFfmpeg({ PATH: join(root, "bin") }, { requireFfmpegStatic: () => bundled })).toEqual({
      path: bundled,
      source: "ffmpeg-static",
    })
  })

  it("falls back to PATH when ffmpeg-static is absent or its binary was never downloaded", () => {
    const onPath = fakeBinary(join(root, "b"), "ffmpeg")
    const env = { PATH: [join(root, "a"), "", join(root, "b")].join(":") }
    expect(resolveFfmpeg(env, { requireFfmpegStatic: absent })).toEqual({ path: onPath, source: "PATH" })
    const missing = join(root, "static", "ffmpeg")
    expect(resolveFfmpeg(env, { requireFfmpegStatic: () => missing }).source).toBe("PATH")
    expect(resolveFfmpeg(env, { requireFfmpegStatic: () => null }).source).toBe("PATH")
  })

  it("skips PATH entries whose ffmpeg is a directory or not executable", () => {
    mkdirSync(join(root, "a", "ffmpeg"), { recursive: true })
    fakeBinary(join(root, "b"), "ffmpeg", 0o644)
    const good = fakeBinary(join(root, "c"), "ffmpeg")
    const env = { PATH: ["a", "b", "c"].map((d) => join(root, d)).join(":") }
    expect(resolveFfmpeg(env, { requireFfmpegStatic: absent }).path).toBe(good)
  })

  it("throws FfmpegNotFoundError with a one-line hint when nothing is found", () => {
    const run = () => resolveFfmpeg({ PATH: join(root, "empty") }, { requireFfmpegStatic: absent })
    expect(run).toThrow(FfmpegNotFoundError)
    expect(catchError(run)).toMatchObject({
      code: "FFMPEG_NOT_FOUND",
      message: "ffmpeg not found: install it (Debian: apt-get install ffmpeg) or set FFMPEG_PATH",
    })
  })

  it("treats the real, usually uninstalled, ffmpeg-static as one more place to look", () => {
    fakeBinary(join(root, "bin"), "ffmpeg")
    expect(["ffmpeg-static", "PATH"]).toContain(resolveFfmpeg({ PATH: join(root, "bin") }).source)
  })
})

describe("resolveFfprobe", () => {
  it("prefers FFPROBE_PATH, and names it when wrong", () => {
    const override = fakeBinary(join(root, "x"), "probe")
    expect(resolveFfprobe({ FFPROBE_PATH: override }, { requireFfmpegStatic: absent })).toEqual({
      path: override,
      source: "FFPROBE_PATH",
    })
    expect(() => resolveFfprobe({ FFPROBE_PATH: join(root, "nope") })).toThrow(/FFPROBE_PATH/)
  })

  it("looks beside the resolved ffmpeg before PATH", () => {
    const ffmpeg = fakeBinary(join(root, "tools"), "ffmpeg")
    const beside = fakeBinary(join(root, "tools"), "ffprobe")
    fakeBinary(join(root, "bin"), "ffprobe")
    const env = { FFMPEG_PATH: ffmpeg, PATH: join(root, "bin") }
    expect(resolveFfprobe(env, { requireFfmpegStatic: absent })).toEqual({
      path: beside,
      source: "ffmpeg-dir",
    })
  })

  it("falls back to PATH, even when FFMPEG_PATH is broken", () => {
    const onPath = fakeBinary(join(root, "bin"), "ffprobe")
    const env = { FFMPEG_PATH: join(root, "nope"), PATH: join(root, "bin") }
    expect(resolveFfprobe(env, { requireFfmpegStatic: absent })).toEqual({ path: onPath, source: "PATH" })
  })

  it("throws FfmpegNotFoundError naming FFPROBE_PATH when nothing is found", () => {
    expect(() => resolveFfprobe({ PATH: "" }, { requireFfmpegStatic: absent })).toThrow(
      "ffprobe not found: install it (Debian: apt-get install ffmpeg) or set FFPROBE_PATH",
    )
  })
})
