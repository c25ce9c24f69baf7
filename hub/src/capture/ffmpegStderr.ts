/**
 * Turns ffmpeg's stderr into something a person can act on. Pure functions over lines of text.
 */

/** What a camera's ffmpeg (or ffprobe) complained about, for code that must act on it. */
export type FfmpegFailureKind =
  | "auth"
  | "unreachable"
  | "no-host"
  | "timeout"
  | "not-found"
  | "no-file"
  | "no-encoder"
  | "no-filter"
  | "bad-data"
  | "no-video"

/** Known ffmpeg complaints, their kind and what they mean for a camera, most specific first. */
const failures: ReadonlyArray<readonly [RegExp, FfmpegFailureKind, string]> = [
  [/401 Unauthorized|authorization failed|403 Forbidden/i, "auth", "camera refused credentials"],
  [
    /Connection refused|No route to host|Network is unreachable|Host is unreachable/i,
    "unreachable",
    "no route to camera",
  ],
  [
    /Name or service not known|Temporary failure in name resolution|Failed to resolve hostname/i,
    "no-host",
    "camera host name does not resolve",
  ],
  // Not "?timeout=5000000", which ffmpeg prints in every RTSP connection line.
  [/timed out|\btimeout\b(?!=)/i, "timeout", "camera did not answer in time"],
  [/404 Not Found|454 Session Not Found/i, "not-found", "camera has no stream at that path"],
  [/No such file or directory/i, "no-file", "input file not found"],
  [/Unknown encoder|Encoder not found/i, "no-encoder", "this ffmpeg lacks a needed encoder (libx264)"],
  [/No such filter|Error initializing (complex )?filter/i, "no-filter", "this ffmpeg lacks a needed filter"],
  [/Invalid data found when processing input/i, "bad-data", "camera sent data ffmpeg cannot read"],
  [/Stream map .* matches no streams|does not contain any stream/i, "no-video", "camera stream has no video"],
]

function findFailure(lines: readonly string[]) {
  return failures.find(([pattern]) => lines.some((line) => pattern.test(line)))
}

/**
 * The reason a camera's ffmpeg failed, from its last stderr lines; undefined when nothing is recognised.
 */
export function describeFfmpegFailure(lines: readonly string[]): string | undefined {
  return findFailure(lines)?.[2]
}

/** The kind of failure in a camera's last stderr lines; undefined when nothing is recognised. */
export function classifyFfmpegFailure(lines: readonly string[]): FfmpegFailureKind | undefined {
  return findFailure(lines)?.[1]
}

/**
 * How far an RTSP client got, from one line of ffmpeg's `-v verbose` stderr: "connected" once the TCP
 * connection is up, "described" once the camera sent its SDP (it knows the stream); undefined otherwise.
 */
export function rtspProgressOf(line: string): "connected" | "described" | undefined {
  if (/^\[rtsp @ [^\]]+\] SDP:/.test(line)) return "described"
  if (/^\[tcp @ [^\]]+\] Successfully connected to /.test(line)) return "connected"
  return undefined
}

/**
 * Hides `user:password@` in URLs so camera credentials never reach a log. Up to the last `@` before the
 * path: a password typed with a bare `@` in it is hidden whole.
 */
export function redactCredentials(text: string): string {
  return text.replace(/\b([a-z][a-z0-9+.-]*:\/\/)[^/\s]+@/gi, "$1***@")
}
