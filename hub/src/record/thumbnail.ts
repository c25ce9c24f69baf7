import { runFfmpeg } from "../capture/runFfmpeg.ts"
import type { RgbImage } from "../detect/objectDetector.ts"
import { MediaError } from "../capture/errors.ts"

export interface EncodeThumbnailOptions {
  ffmpegPath: string
  image: RgbImage
  /** Scaled down to at most this width, keeping the aspect ratio. Default 640. */
  maxWidth?: number
  /** ffmpeg's MJPEG quality scale, 2 (best) – 31. Default 5. */
  quality?: number
}

/**
 * Encodes an RGB picture as a JPEG for an event's thumbnail (ffmpeg's MJPEG encoder, full-range YUV 4:2:0).
 *
 * @throws MediaError CLIP_MUX_FAILED when ffmpeg fails.
 */
export async function encodeThumbnail(options: EncodeThumbnailOptions): Promise<Uint8Array> {
  const { image } = options
  if (image.data.length !== image.width * image.height * 3) {
    throw new MediaError("FRAME_INVALID", "thumbnail image size does not match its pixels")
  }
  const maxWidth = options.maxWidth ?? 640
  return runFfmpeg(
    options.ffmpegPath,
    [
      ...["-f", "rawvideo", "-pix_fmt", "rgb24", "-s", `${image.width}x${image.height}`, "-i", "pipe:0"],
      ...["-vf", `scale=w='min(iw,${maxWidth})':h=-2,format=yuvj420p`],
      ...["-frames:v", "1", "-q:v", String(options.quality ?? 5), "-f", "mjpeg", "pipe:1"],
    ],
    "CLIP_MUX_FAILED",
    { input: [image.data] },
  )
}
