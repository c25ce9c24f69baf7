/**
 * The hub's own errors, in one place: configuration, state files and media (ffmpeg, clips, detection).
 * Protocol failures are `VigilError`s from `@vigil/protocol`; these are the hub's, each with a stable
 * `code` that logs, the CLI and the control socket can rely on. `errorCodeOf` reads either.
 */
import { CodedError, VigilError, type ErrorCode } from "@vigil/protocol"

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

export const hubErrorCodes = [
  ...mediaErrorCodes,
  /** The hub's config (file, flags or environment) does not validate. */
  "CONFIG_INVALID",
  /** The state file is not JSON or not a Vigil state file: the hub refuses to start rather than lose keys. */
  "STATE_FILE_CORRUPT",
  /** The hub's document in the state file does not validate. */
  "HUB_STATE_CORRUPT",
] as const
export type HubErrorCode = (typeof hubErrorCodes)[number]

/** Base of the hub's errors; like `VigilError`, `code` is for programs and the message for people. */
export class HubError extends CodedError<HubErrorCode> {}

/** The stable code of a protocol or hub error; undefined for anything else (a bug or a system error). */
export function errorCodeOf(err: unknown): ErrorCode | HubErrorCode | undefined {
  return err instanceof VigilError || err instanceof HubError ? err.code : undefined
}

/** The config does not validate; the message names the first bad field. */
export class ConfigError extends HubError {
  declare readonly code: "CONFIG_INVALID"
  constructor(message: string, options?: { cause?: unknown }) {
    super("CONFIG_INVALID", message, options)
  }
}

export class StateFileError extends HubError {
  declare readonly code: "STATE_FILE_CORRUPT"
  constructor(message: string, options?: { cause?: unknown }) {
    super("STATE_FILE_CORRUPT", message, options)
  }
}

export class HubStateError extends HubError {
  declare readonly code: "HUB_STATE_CORRUPT"
  constructor(message: string, options?: { cause?: unknown }) {
    super("HUB_STATE_CORRUPT", message, options)
  }
}

/** Media failures: ffmpeg discovery, camera configuration, clip muxing, detection. */
export class MediaError extends HubError {
  declare readonly code: MediaErrorCode
  constructor(code: MediaErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options)
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
