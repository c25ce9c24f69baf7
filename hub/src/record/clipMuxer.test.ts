import { spawnSync } from "node:child_process"
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { AnnexBSplitter } from "../capture/annexB.ts"
import { ClipMuxError, FfmpegNotFoundError, MediaError } from "../capture/errors.ts"
import type { AccessUnit } from "../capture/types.ts"
import { resolveFfmpeg, resolveFfprobe } from "../ffmpeg.ts"
import { muxClip } from "./clipMuxer.ts"
import { probeClip } from "./probeClip.ts"

function findTools(): { ffmpeg: string; ffprobe: string } | undefined {
  try {
    return { ffmpeg: resolveFfmpeg().path, ffprobe: resolveFfprobe().path }
  } catch (error) {
    if (error instanceof FfmpegNotFoundError) return undefined
    throw error
  }
}
const tools = findTools()

function topLevelBoxes(bytes: Buffer): string[] {
  const out: string[] = []
  for (let at = 0; at + 8 <= bytes.length;) {
    const size = bytes.readUInt32BE(at)
    out.push(bytes.toString("latin1", at + 4, at + 8))
    if (size < 8) break
    at += size
  }
  return out
}

describe.skipIf(!tools)("muxClip (real ffmpeg)", () => {
  const ffmpeg = tools?.ffmpeg ?? ""
  const ffprobe = tools?.ffprobe ?? ""
  let dir: string
  let units: AccessUnit[]

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "vigil-mux-"))
    // 3 s of 15 fps baseline H.264 with AUDs and a keyframe every 15 frames: what a camera process emits.
    const encoded = spawnSync(ffmpeg, [
      ...["-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i", "testsrc=s=320x180:r=15:d=3"],
      ...["-c:v", "libx264", "-preset", "ultrafast", "-profile:v", "baseline", "-pix_fmt", "yuv420p"],
      ...["-g", "15", "-keyint_min", "15", "-sc_threshold", "0", "-x264-params", "repeat-headers=1"],
      ...["-bsf:v", "h264_metadata=aud=insert", "-f", "h264", "pipe:1"],
    ])
    expect(encoded.status, String(encoded.stderr)).toBe(0)
    const splitter = new AnnexBSplitter()
    units = [...splitter.push(encoded.stdout), ...splitter.flush()]
  })
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it("writes a fragmented H.264 MP4 starting at a keyframe, with one frame per access unit", async () => {
    expect(units).toHaveLength(45)
    const clip = units.slice(15, 45)
    const outPath = join(dir, "clip.mp4")
    await muxClip({ ffmpegPath: ffmpeg, accessUnits: clip, fps: 15, outPath })
    const probe = await probeClip(ffprobe, outPath)
    expect(probe).toMatchObject({
      codec: "h264",
      profile: "Constrained Baseline",
      pixelFormat: "yuv420p",
      width: 320,
      height: 180,
      frames: 30,
      startsWithKeyframe: true,
    })
    expect(probe.formatName).toContain("mp4")
    expect(probe.durationSeconds).toBeCloseTo(2, 1)
    expect(readdirSync(dir)).toEqual(["clip.mp4"])
    // Fragmented for Media Source Extensions: ftyp, a moov that announces fragments (mvex), then moof+mdat.
    const boxes = topLevelBoxes(readFileSync(outPath))
    expect(boxes.slice(0, 3)).toEqual(["ftyp", "moov", "moof"])
    expect(boxes.filter((b) => b === "moof")).toHaveLength(2)
    expect(readFileSync(outPath).includes(Buffer.from("mvex"))).toBe(true)
  })

  it("refuses a clip that does not start on a keyframe, or is empty", async () => {
    const outPath = join(dir, "bad.mp4")
    await expect(
      muxClip({ ffmpegPath: ffmpeg, accessUnits: units.slice(1), fps: 15, outPath }),
    ).rejects.toThrow(MediaError)
    await expect(muxClip({ ffmpegPath: ffmpeg, accessUnits: [], fps: 15, outPath })).rejects.toMatchObject({
      code: "CLIP_INVALID",
    })
  })

  it("fails with ClipMuxError and leaves no file when ffmpeg cannot read the data", async () => {
    const garbage: AccessUnit[] = [{ data: new Uint8Array(4096).fill(7), keyframe: true, index: 0 }]
    const outPath = join(dir, "garbage.mp4")
    await expect(muxClip({ ffmpegPath: ffmpeg, accessUnits: garbage, fps: 15, outPath })).rejects.toThrow(
      ClipMuxError,
    )
    expect(existsSync(outPath) || existsSync(`${outPath}.tmp`)).toBe(false)
  })

  it("fails with ClipMuxError when the ffmpeg binary cannot be started", async () => {
    const outPath = join(dir, "nobinary.mp4")
    const run = muxClip({ ffmpegPath: join(dir, "no-ffmpeg"), accessUnits: units, fps: 15, outPath })
    await expect(run).rejects.toThrow(ClipMuxError)
    expect(existsSync(`${outPath}.tmp`)).toBe(false)
  })
})
