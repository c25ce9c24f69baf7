/**
 * Typed errors for the media side of the hub (ffmpeg discovery, camera configuration, clip muxing). Each has
 * a stable `code` that logs and the UI can rely on.
 */
export const mediaErrorCodes = [
  "FFMPEG_NOT_FOUND",
  "FFMPEG_PATH_INVALID",
  "CAMERA_CONFIG_INVALID",
  "FRAME_INVALID",
  "CLIP_INVALID",
  "CLIP_MUX_FAILED",
  "CLIP_PROBE_FAILED",
  "USAGE_INVALID",
  "DETECTOR_UNAVAILABLE",
  "DETECTION_FAILED",
] as const
export type MediaErrorCode = (typeof mediaErrorCodes)[number]

export class MediaError extends Error {
  readonly code: MediaErrorCode
  constructor(code: MediaErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = new.target.name
    this.code = code
  }
}

/** Neither the override variable, nor a bundled binary, nor `PATH` gave us the tool. */
export class FfmpegNotFoundError extends MediaError {
  readonly tool: "ffmpeg" | "ffprobe"
  constructor(tool: "ffmpeg" | "ffprobe", envVar: string) {
    super(
      "FFMPEG_NOT_FOUND",
      `${tool} not found: install it (Debian: apt-get install ffmpeg) or set ${envVar}`,
    )
    this.tool = tool
  }
}

/** An override variable (`FFMPEG_PATH`, `FFPROBE_PATH`) points at something that is not an executable file. */
export class FfmpegPathError extends MediaError {
  readonly envVar: string
  constructor(envVar: string, value: string) {
    super(
      "FFMPEG_PATH_INVALID",
      `${envVar} is set to ${JSON.stringify(value)}, which is not an executable file`,
    )
    this.envVar = envVar
  }
}

/** A camera configuration that cannot be turned into an ffmpeg command line. */
export class CameraConfigError extends MediaError {
  constructor(message: string) {
    super("CAMERA_CONFIG_INVALID", message)
  }
}

/** Writing a clip file failed; `stderr` holds ffmpeg's last lines when ffmpeg was involved. */
export class ClipMuxError extends MediaError {
  readonly stderr: readonly string[]
  constructor(message: string, stderr: readonly string[] = [], options?: { cause?: unknown }) {
    super("CLIP_MUX_FAILED", message, options)
    this.stderr = stderr
  }
}

/** The object detector could not be loaded (model files missing, WASM failed) or died. */
export class DetectorError extends MediaError {
  constructor(
    code: "DETECTOR_UNAVAILABLE" | "DETECTION_FAILED",
    message: string,
    options?: { cause?: unknown },
  ) {
    super(code, message, options)
  }
}
