import { execFile } from "node:child_process"
import { promisify } from "node:util"
import { z } from "zod"
import { MediaError } from "../capture/errors.ts"

const run = promisify(execFile)

/** What ffprobe says about a clip file's first video stream. */
export interface ClipProbe {
  formatName: string
  codec: string
  profile: string
  pixelFormat: string
  width: number
  height: number
  durationSeconds: number
  frames: number
  /** The first packet is a keyframe, so playback can start at 0. */
  startsWithKeyframe: boolean
}

const probeSchema = z.object({
  streams: z
    .array(
      z.object({
        codec_type: z.string(),
        codec_name: z.string(),
        profile: z.string().optional(),
        pix_fmt: z.string().optional(),
        width: z.number(),
        height: z.number(),
        nb_frames: z.string().optional(),
        /** With `-count_packets`: fragmented MP4 has no frame count in its header. */
        nb_read_packets: z.string().optional(),
      }),
    )
    .min(1),
  format: z.object({ format_name: z.string(), duration: z.string() }),
})
const packetsSchema = z.object({ packets: z.array(z.object({ flags: z.string() })) })

/**
 * Runs ffprobe (`-count_packets -show_streams -show_format -of json`) on a clip and checks its first packet.
 *
 * @throws MediaError CLIP_PROBE_FAILED when ffprobe fails or the file has no video stream.
 */
export async function probeClip(ffprobePath: string, path: string): Promise<ClipProbe> {
  try {
    const common = ["-v", "error", "-select_streams", "v:0", "-of", "json"]
    const [info, packets] = await Promise.all([
      run(ffprobePath, [...common, "-count_packets", "-show_streams", "-show_format", path]),
      run(ffprobePath, [
        ...common,
        "-show_packets",
        "-read_intervals",
        "%+#1",
        "-show_entries",
        "packet=flags",
        path,
      ]),
    ])
    const parsed = probeSchema.parse(JSON.parse(info.stdout))
    const stream = parsed.streams[0]
    if (!stream || stream.codec_type !== "video") throw new Error("no video stream")
    const firstPacket = packetsSchema.parse(JSON.parse(packets.stdout)).packets[0]
    return {
      formatName: parsed.format.format_name,
      codec: stream.codec_name,
      profile: stream.profile ?? "",
      pixelFormat: stream.pix_fmt ?? "",
      width: stream.width,
      height: stream.height,
      durationSeconds: Number(parsed.format.duration),
      frames: Number(stream.nb_frames ?? stream.nb_read_packets ?? Number.NaN),
      startsWithKeyframe: firstPacket?.flags.startsWith("K") ?? false,
    }
  } catch (error) {
    throw new MediaError("CLIP_PROBE_FAILED", `ffprobe could not read ${path}`, { cause: error })
  }
}
