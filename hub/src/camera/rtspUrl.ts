/**
 * Camera stream URLs and the credentials in them. A camera's user name and password may arrive inside its
 * URL (`rtsp://admin:secret@192.168.1.20/stream1`, as camera manuals write them) or beside it (the set-up
 * form); ffmpeg wants them in the URL, percent-encoded, and phones and logs must never see them.
 */
import { CameraConfigError } from "../errors.ts"

/**
 * `url` with this user name and password in it, percent-encoded (so `@ : / %` and spaces survive),
 * replacing any already there. An undefined `username` leaves `url` unchanged; an empty one removes them.
 *
 * @throws CameraConfigError when `url` is not a URL with a host (the message does not repeat it).
 */
export function withCredentials(url: string, username?: string, password?: string): string {
  if (username === undefined) return url
  const parsed = parseWithHost(url)
  if (!parsed) throw new CameraConfigError("a camera address must look like rtsp://host/path")
  // encodeURIComponent, not the URL setters alone: they leave "%" as it is, which ffmpeg would decode.
  parsed.username = encodeURIComponent(username)
  parsed.password = username && password ? encodeURIComponent(password) : ""
  return parsed.href
}

/** `url` with any `user:password@` removed (for replies to phones and logs). */
export function withoutCredentials(url: string): string {
  const parsed = parseWithHost(url)
  if (!parsed) {
    // Not a URL, so the parser cannot help: drop everything up to the authority's last "@".
    return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/?#]*@/i, "$1")
  }
  parsed.username = ""
  parsed.password = ""
  return parsed.href
}

/** The user name and password embedded in a URL, decoded (undefined when absent or not a URL). */
export function credentialsOf(url: string): { username?: string; password?: string } {
  const parsed = parseWithHost(url)
  if (!parsed || (!parsed.username && !parsed.password)) return {}
  return {
    username: decodeComponent(parsed.username),
    ...(parsed.password ? { password: decodeComponent(parsed.password) } : {}),
  }
}

function parseWithHost(url: string): URL | undefined {
  if (!URL.canParse(url)) return undefined
  const parsed = new URL(url)
  // "rtsp:foo" parses, but has no authority to hold credentials.
  return parsed.host ? parsed : undefined
}

function decodeComponent(text: string): string {
  // A bare "%" someone typed into a password ("50%off") is not an escape: keep it as typed.
  const escaped = text.replace(/%(?![0-9a-f]{2})/gi, "%25")
  try {
    return decodeURIComponent(escaped)
  } catch (error) {
    // Escapes that are not UTF-8 ("%ff"): the camera compares bytes, so give them back as written.
    if (error instanceof URIError) return text
    throw error
  }
}
