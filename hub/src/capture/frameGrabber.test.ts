import { describe, expect, it } from "vitest"
import { resolveFfmpeg } from "../ffmpeg.ts"
import { runFfmpeg } from "./runFfmpeg.ts"
import { AnnexBSplitter } from "./annexB.ts"
import { MediaError } from "./errors.ts"
import { decodeLastFrame, parsePpm } from "./frameGrabber.ts"
import { encodeThumbnail } from "../record/thumbnail.ts"

const ascii = (text: string) => new TextEncoder().encode(text)
const concat = (...parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let at = 0
  for (const p of parts) {
    out.set(p, at)
    at += p.length
  }
  return out
}

describe("parsePpm", () => {
  it("reads width, height and RGB bytes, with comments and a second frame after", () => {
    const pixels = Uint8Array.of(1, 2, 3, 4, 5, 6)
    const image = parsePpm(concat(ascii("P6\n# made by a test\n2 1\n255\n"), pixels, ascii("P6 ...")))
    expect(image).toEqual({ width: 2, height: 1, data: pixels })
  })

  it("refuses other formats and short data with a typed error", () => {
    expect(() => parsePpm(ascii("P5\n2 1\n255\n\0\0"))).toThrow(MediaError)
    expect(() => parsePpm(ascii("P6\n2 1\n65535\n"))).toThrow(MediaError)
    expect(() => parsePpm(concat(ascii("P6\n2 2\n255\n"), new Uint8Array(5)))).toThrow(/expected 12/)
  })
})

let ffmpeg: string | undefined
try {
  ffmpeg = resolveFfmpeg().path
} catch {
  ffmpeg = undefined
}

describe.skipIf(!ffmpeg)("decodeLastFrame and encodeThumbnail with real ffmpeg", () => {
  it("decodes the last picture of a GOP as RGB, scaled to fit, and encodes a JPEG thumbnail", async () => {
    // 20 pictures, one GOP: black for 19, then white. Only the last one is returned.
    const h264 = await runFfmpeg(
      ffmpeg ?? "",
      [
        ...[
          "-f",
          "lavfi",
          "-i",
          "color=c=black:s=1920x1080:r=10:d=2,drawbox=c=white:t=fill:enable='gte(n,19)'",
        ],
        ...[
          "-c:v",
          "libx264",
          "-preset",
          "ultrafast",
          "-g",
          "100",
          "-bsf:v",
          "h264_metadata=aud=insert",
          "-f",
          "h264",
          "pipe:1",
        ],
      ],
      "FRAME_INVALID",
    )
    const splitter = new AnnexBSplitter()
    const units = [...splitter.push(h264), ...splitter.flush()]
    expect(units).toHaveLength(20)
    const image = await decodeLastFrame({ ffmpegPath: ffmpeg ?? "", accessUnits: units })
    expect([image.width, image.height]).toEqual([1280, 720])
    expect(image.data[0]).toBeGreaterThan(230)
    const before = await decodeLastFrame({ ffmpegPath: ffmpeg ?? "", accessUnits: units.slice(0, 10) })
    expect(before.data[0]).toBeLessThan(25)

    const jpeg = await encodeThumbnail({ ffmpegPath: ffmpeg ?? "", image })
    expect(Array.from(jpeg.subarray(0, 3))).toEqual([0xff, 0xd8, 0xff])
    expect(Array.from(jpeg.subarray(-2))).toEqual([0xff, 0xd9])
  })

  it("refuses a run that does not start on a keyframe", async () => {
    await expect(decodeLastFrame({ ffmpegPath: ffmpeg ?? "", accessUnits: [] })).rejects.toThrow(MediaError)
  })
})
