/**
 * Turns ffmpeg's stderr into something a person can act on. Pure functions over lines of text.
 */

/** Known ffmpeg complaints and what they mean for a camera, most specific first. */
const failureReasons: ReadonlyArray<readonly [RegExp, string]> = [
  [/401 Unauthorized|authorization failed|403 Forbidden/i, "camera refused credentials"],
  [/Connection refused|No route to host|Network is unreachable|Host is unreachable/i, "no route to camera"],
  [
    /Name or service not known|Temporary failure in name resolution|Failed to resolve hostname/i,
    "camera host name does not resolve",
  ],
  [/Connection timed out|Operation timed out|timeout/i, "camera did not answer in time"],
  [/404 Not Found|454 Session Not Found/i, "camera has no stream at that path"],
  [/No such file or directory/i, "input file not found"],
  [/Unknown encoder|Encoder not found/i, "this ffmpeg lacks a needed encoder (libx264)"],
  [/No such filter|Error initializing (complex )?filter/i, "this ffmpeg lacks a needed filter"],
  [/Invalid data found when processing input/i, "camera sent data ffmpeg cannot read"],
  [/Stream map .* matches no streams|does not contain any stream/i, "camera stream has no video"],
]

/**
 * The reason a camera's ffmpeg failed, from its last stderr lines; undefined when nothing is recognised.
 */
export function describeFfmpegFailure(lines: readonly string[]): string | undefined {
  for (const [pattern, reason] of failureReasons) {
    if (lines.some((line) => pattern.test(line))) return reason
  }
  return undefined
}

/** Hides `user:password@` in URLs so camera credentials never reach a log. */
export function redactCredentials(text: string): string {
  return text.replace(/\b([a-z][a-z0-9+.-]*:\/\/)[^/@\s]+@/gi, "$1***@")
}
