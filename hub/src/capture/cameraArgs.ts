import { existsSync } from "node:fs"
import { CameraConfigError } from "./errors.ts"
import { buildSyntheticGraph, syntheticDefaults, type SyntheticCameraConfig } from "./syntheticSource.ts"

export type { SyntheticCameraConfig } from "./syntheticSource.ts"

/** Loops a video file as if it were a live camera. */
export interface FileCameraConfig {
  kind: "file"
  path: string
  /** Re-encode (default) so GOPs and profile are ours; false copies the file's H.264 as it is. */
  transcode?: boolean
  /** When transcoding: output rate (default 15) and, optionally, size (even numbers). */
  fps?: number
  width?: number
  height?: number
}

/** An RTSP camera; its H.264 is copied, never re-encoded. */
export interface RtspCameraConfig {
  kind: "rtsp"
  /** `rtsp://user:password@host:554/path`; credentials are redacted from logs. */
  url: string
  /** Default "tcp" (survives NAT and lossy Wi-Fi better than UDP). */
  transport?: "tcp" | "udp"
  /** Socket I/O timeout, default 10 s. */
  timeoutSeconds?: number
}

/** A V4L2 capture device (USB webcam); encoded to H.264 by us. */
export interface V4l2CameraConfig {
  kind: "v4l2"
  /** Default /dev/video0. */
  device?: string
  /** Asked of the device; defaults 1280×720 at 15 fps. */
  width?: number
  height?: number
  fps?: number
  /** Pixel format to ask the device for (most webcams give larger sizes only as mjpeg). */
  inputFormat?: "mjpeg" | "yuyv422"
}

/** Size and rate of the grayscale frames for motion detection (default 160×90 at 5 fps). */
export interface MotionOutputConfig {
  width: number
  height: number
  fps: number
}

export const motionOutputDefaults: MotionOutputConfig = { width: 160, height: 90, fps: 5 }

export type CameraConfig = (
  SyntheticCameraConfig | FileCameraConfig | RtspCameraConfig | V4l2CameraConfig
) & {
  motion?: Partial<MotionOutputConfig>
  /** Keyframe interval when we encode (synthetic, transcoded file). Default 1 s. */
  keyframeSeconds?: number
}

export interface CameraArgsDeps {
  fileExists(path: string): boolean
  /**
   * Where the caller wrote `rtspInputScript(config)` (mode 0600) for an RTSP camera: ffmpeg reads the
   * camera's URL from there, never from its command line.
   */
  rtspInputPath?: string
}

/**
 * ffmpeg's input for an RTSP camera, as an ffconcat script: the URL with its password and the RTSP
 * options. A command line is readable by every local user (`ps`, /proc/PID/cmdline); this file is the
 * hub's alone (issue 14 finding 16). One `file` entry: the concat demuxer opens the stream with the
 * `option` lines and passes its packets through unchanged.
 *
 * @throws CameraConfigError for a URL that is not RTSP or could break out of the script (control characters).
 */
export function rtspInputScript(config: RtspCameraConfig): string {
  if (!/^rtsps?:\/\//i.test(config.url))
    throw new CameraConfigError("RTSP camera URL must start with rtsp://")
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(config.url)) {
    throw new CameraConfigError("RTSP camera URL must not contain control characters")
  }
  const timeoutMicros = Math.round(positive("timeoutSeconds", config.timeoutSeconds ?? 10) * 1_000_000)
  // ffconcat quoting: inside '…' everything is literal, so a quote closes, is escaped, and reopens.
  const quoted = `'${config.url.replace(/'/g, "'\\''")}'`
  return [
    "ffconcat version 1.0",
    `file ${quoted}`,
    `option rtsp_transport ${config.transport ?? "tcp"}`,
    `option timeout ${timeoutMicros}`,
    // Probe 1 s, not 5: everything read while probing reaches us late and in one burst.
    "option analyzeduration 1000000",
    "option allowed_media_types video",
    "",
  ].join("\n")
}

/**
 * The ffmpeg arguments (without the binary) for one camera process with two outputs:
 * H.264 Annex-B with an AUD before every access unit on stdout (`pipe:1`), and raw 8-bit gray frames for
 * motion detection on fd 3 (`pipe:3`). Pure apart from `deps.fileExists`, which decides whether the
 * synthetic clock's font is there.
 *
 * @throws CameraConfigError for values ffmpeg cannot use.
 */
export function buildCameraArgs(
  config: CameraConfig,
  deps: CameraArgsDeps = { fileExists: existsSync },
): string[] {
  const motion = resolveMotionOutput(config)
  const motionChain = `fps=${motion.fps},scale=${motion.width}:${motion.height}:flags=area,format=gray[motion]`
  const head = ["-hide_banner", "-nostdin", "-nostats", "-loglevel", "error"]
  const motionOutput = [
    "-map",
    "[motion]",
    "-an",
    "-flush_packets",
    "1",
    "-f",
    "rawvideo",
    "-pix_fmt",
    "gray",
    "pipe:3",
  ]

  switch (config.kind) {
    case "synthetic": {
      const fps = positive("fps", config.fps ?? syntheticDefaults.fps)
      evenSize(config.width ?? syntheticDefaults.width, config.height ?? syntheticDefaults.height)
      const cycle = positive("cycleSeconds", config.cycleSeconds ?? syntheticDefaults.cycleSeconds)
      const moving = positive("motionSeconds", config.motionSeconds ?? syntheticDefaults.motionSeconds)
      if (moving >= cycle) throw new CameraConfigError("motionSeconds must be shorter than cycleSeconds")
      const font = config.clockFontFile === undefined ? syntheticDefaults.clockFontFile : config.clockFontFile
      const graph = buildSyntheticGraph(config, font !== null && deps.fileExists(font) ? font : undefined)
      return [
        ...head,
        // -re paces the generated frames at their timestamps, so the source behaves like a live camera.
        ...["-re", "-f", "lavfi", "-i", graph],
        ...["-filter_complex", `[0:v:0]split=2[main][motionsrc];[motionsrc]${motionChain}`],
        ...encodeOutput(fps, config.keyframeSeconds),
        ...motionOutput,
      ]
    }
    case "file": {
      if (!config.path) throw new CameraConfigError("file camera needs a path")
      const input = ["-stream_loop", "-1", "-re", "-i", config.path]
      if (config.transcode === false) {
        return [
          ...head,
          ...input,
          ...["-filter_complex", `[0:v:0]${motionChain}`],
          // mp4toannexb first (MP4 holds length-prefixed NALs); it passes Annex-B input through untouched.
          ...copyOutput("h264_mp4toannexb,h264_metadata=aud=insert"),
          ...motionOutput,
        ]
      }
      const fps = positive("fps", config.fps ?? 15)
      const scale =
        config.width !== undefined || config.height !== undefined
          ? `scale=${evenSize(config.width ?? -2, config.height ?? -2)},`
          : ""
      return [
        ...head,
        ...input,
        ...[
          "-filter_complex",
          `[0:v:0]fps=${fps},${scale}format=yuv420p,split=2[main][motionsrc];[motionsrc]${motionChain}`,
        ],
        ...encodeOutput(fps, config.keyframeSeconds),
        ...motionOutput,
      ]
    }
    case "v4l2": {
      const device = config.device ?? "/dev/video0"
      if (!device.startsWith("/dev/")) throw new CameraConfigError("V4L2 device must be a /dev path")
      const fps = positive("fps", config.fps ?? 15)
      const size = evenSize(config.width ?? 1280, config.height ?? 720).replace(":", "x")
      return [
        ...head,
        ...["-f", "v4l2", "-thread_queue_size", "64"],
        ...(config.inputFormat ? ["-input_format", config.inputFormat] : []),
        ...["-framerate", String(fps), "-video_size", size, "-i", device],
        ...["-filter_complex", `[0:v:0]format=yuv420p,split=2[main][motionsrc];[motionsrc]${motionChain}`],
        ...encodeOutput(fps, config.keyframeSeconds),
        ...motionOutput,
      ]
    }
    case "rtsp": {
      rtspInputScript(config) // validates
      if (deps.rtspInputPath === undefined) {
        throw new CameraConfigError("an RTSP camera's URL goes to ffmpeg in a file: rtspInputPath is missing")
      }
      return [
        ...head,
        // The URL and RTSP options are in the script (rtspInputScript); only the stream's protocols may be opened.
        ...["-f", "concat", "-safe", "0", "-protocol_whitelist", "file,rtsp,rtsps,tcp,udp,tls,rtp,crypto"],
        ...["-i", deps.rtspInputPath],
        ...["-filter_complex", `[0:v:0]${motionChain}`],
        // dump_extra must run before aud=insert: the other way round SPS/PPS land in front of the AUD and the
        // access unit splitter would attach them to the previous picture.
        ...copyOutput("dump_extra=freq=keyframe,h264_metadata=aud=insert"),
        ...motionOutput,
      ]
    }
  }
}

/** The motion frame size and rate a config produces. */
export function resolveMotionOutput(config: CameraConfig): MotionOutputConfig {
  const motion = { ...motionOutputDefaults, ...config.motion }
  positive("motion.fps", motion.fps)
  if (
    !Number.isInteger(motion.width) ||
    !Number.isInteger(motion.height) ||
    motion.width <= 0 ||
    motion.height <= 0
  ) {
    throw new CameraConfigError("motion width and height must be positive integers")
  }
  return motion
}

function encodeOutput(fps: number, keyframeSeconds = 1): string[] {
  const gop = String(Math.max(1, Math.round(fps * positive("keyframeSeconds", keyframeSeconds))))
  return [
    ...["-map", "[main]", "-an", "-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency"],
    ...["-profile:v", "baseline", "-pix_fmt", "yuv420p"],
    ...["-g", gop, "-keyint_min", gop, "-sc_threshold", "0", "-x264-params", "repeat-headers=1"],
    ...["-bsf:v", "h264_metadata=aud=insert", "-flush_packets", "1", "-f", "h264", "pipe:1"],
  ]
}

function copyOutput(bitstreamFilters: string): string[] {
  return [
    ...["-map", "0:v:0", "-an", "-c:v", "copy", "-bsf:v", bitstreamFilters],
    ...["-flush_packets", "1", "-f", "h264", "pipe:1"],
  ]
}

function positive(name: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0) throw new CameraConfigError(`${name} must be a positive number`)
  return value
}

function evenSize(width: number, height: number): string {
  for (const [name, value] of [
    ["width", width],
    ["height", height],
  ] as const) {
    if (value !== -2 && (!Number.isInteger(value) || value <= 0 || value % 2 !== 0)) {
      throw new CameraConfigError(`${name} must be a positive even integer`)
    }
  }
  return `${width}:${height}`
}
