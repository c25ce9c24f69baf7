import { MediaError } from "./errors.ts"
import { runFfmpeg } from "./runFfmpeg.ts"
import type { AccessUnit } from "./types.ts"
import type { RgbImage } from "../detect/objectDetector.ts"

export interface DecodeFrameOptions {
  ffmpegPath: string
  /** From a keyframe up to the picture wanted, which is the last one. */
  accessUnits: readonly AccessUnit[]
  /** Scale down (keeping the aspect ratio) so the picture fits. Default 1280×720. */
  maxWidth?: number
  maxHeight?: number
}

/**
 * Decodes the last picture of a run of H.264 access units that starts at a keyframe, as RGB. Every picture
 * must be decoded (each depends on the one before), but only the last is scaled and converted. Used for
 * object detection and thumbnails, only when motion fires, so it costs nothing while the scene is still.
 *
 * @throws MediaError FRAME_INVALID when there is nothing to decode or ffmpeg fails.
 */
export async function decodeLastFrame(options: DecodeFrameOptions): Promise<RgbImage> {
  const units = options.accessUnits
  if (units.length === 0 || !units[0]?.keyframe) {
    throw new MediaError("FRAME_INVALID", "decoding needs access units that start with a keyframe")
  }
  const maxWidth = options.maxWidth ?? 1280
  const maxHeight = options.maxHeight ?? 720
  const ppm = await runFfmpeg(
    options.ffmpegPath,
    [
      ...["-f", "h264", "-i", "pipe:0"],
      // select keeps the n-th decoded picture only; the others are dropped before scaling.
      ...[
        "-vf",
        `select='eq(n\\,${units.length - 1})',scale=w='min(iw,${maxWidth})':h='min(ih,${maxHeight})':force_original_aspect_ratio=decrease:force_divisible_by=2`,
      ],
      ...["-frames:v", "1", "-f", "image2pipe", "-c:v", "ppm", "pipe:1"],
    ],
    "FRAME_INVALID",
    { input: units.map((u) => u.data) },
  )
  return parsePpm(ppm)
}

/**
 * Parses a binary PPM (P6, maxval 255): `P6 <width> <height> 255` and one whitespace, then RGB bytes.
 * Pure. Trailing frames (image2pipe may write more than one) are ignored.
 *
 * @throws MediaError FRAME_INVALID for anything else.
 */
export function parsePpm(bytes: Uint8Array): RgbImage {
  const fields: string[] = []
  let pos = 0
  while (fields.length < 4 && pos < bytes.length && pos < 64) {
    while (pos < bytes.length && isSpace(bytes[pos] ?? 0)) pos++
    if (bytes[pos] === 0x23) {
      // A comment runs to the end of the line.
      while (pos < bytes.length && bytes[pos] !== 0x0a) pos++
      continue
    }
    let field = ""
    while (pos < bytes.length && !isSpace(bytes[pos] ?? 0)) field += String.fromCharCode(bytes[pos++] ?? 0)
    fields.push(field)
  }
  pos++ // the single whitespace byte after maxval
  const [magic, w, h, max] = fields
  const width = Number(w)
  const height = Number(h)
  if (
    magic !== "P6" ||
    max !== "255" ||
    !(width > 0) ||
    !(height > 0) ||
    !Number.isInteger(width) ||
    !Number.isInteger(height)
  ) {
    throw new MediaError(
      "FRAME_INVALID",
      `not an 8-bit binary PPM (header ${JSON.stringify(fields.join(" "))})`,
    )
  }
  const size = width * height * 3
  if (bytes.length < pos + size) {
    throw new MediaError("FRAME_INVALID", `PPM holds ${bytes.length - pos} bytes of pixels, expected ${size}`)
  }
  return { width, height, data: bytes.slice(pos, pos + size) }
}

function isSpace(byte: number): boolean {
  return byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09
}

/**
 * Decodes a still image file (JPEG, PNG, ...) into RGB with ffmpeg, scaled down to fit the limits.
 *
 * @throws MediaError FRAME_INVALID when ffmpeg cannot read it.
 */
export async function decodeImageFile(
  ffmpegPath: string,
  path: string,
  limits: { maxWidth?: number; maxHeight?: number } = {},
): Promise<RgbImage> {
  const maxWidth = limits.maxWidth ?? 1280
  const maxHeight = limits.maxHeight ?? 720
  const ppm = await runFfmpeg(
    ffmpegPath,
    [
      ...["-i", path],
      ...[
        "-vf",
        `scale=w='min(iw,${maxWidth})':h='min(ih,${maxHeight})':force_original_aspect_ratio=decrease`,
      ],
      ...["-frames:v", "1", "-f", "image2pipe", "-c:v", "ppm", "pipe:1"],
    ],
    "FRAME_INVALID",
  )
  return parsePpm(ppm)
}
