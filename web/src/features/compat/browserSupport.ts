/**
 * What this browser, in this context, lets Vigil do: checked before anything else at start-up (main.ts),
 * so a phone that cannot run the app gets one screen that says why and what to do, never a JavaScript
 * error (issue 13).
 *
 * Pure: it reads only the `globalThis`-like object it is given, so each missing capability can be tested.
 *
 * - Blockers (nothing of the app can run): not a secure context (plain http on an address other than
 *   loopback, where the browser withholds WebCrypto and service workers), no WebCrypto, no IndexedDB.
 *   The keys live in IndexedDB and every clip is decrypted with WebCrypto.
 * - Limits (the app runs without one feature): no service workers (no notifications, no offline shell, no
 *   update gate), no WebCodecs `VideoDecoder` (no live view; clips still play), no Media Source Extensions
 *   (a clip plays once it has fully downloaded: player.ts falls back to one blob), no MP4/H.264 in
 *   `<video>` (clips cannot play).
 */
import { decodeInvite } from "@vigil/protocol"

/** The part of `globalThis` the check reads; every member may be missing, as in an old browser. */
export interface BrowserEnv {
  isSecureContext?: boolean
  location?: { protocol: string; hostname: string; hash: string }
  crypto?: { subtle?: unknown }
  indexedDB?: unknown
  navigator?: { serviceWorker?: unknown }
  VideoDecoder?: unknown
  MediaSource?: unknown
  document?: { createElement(tag: "video"): { canPlayType?(type: string): string } }
}

export type Blocker =
  /**
   * The page is not a secure context. `plainHttp` when it came over http (the usual case: a LAN address);
   * `httpsUrl` is the same pairing link on the relay's https app when the page's `#pair=` invite names one.
   */
  | { kind: "insecure-context"; plainHttp: boolean; httpsUrl?: string }
  | { kind: "no-webcrypto" }
  | { kind: "no-indexeddb" }

export type Limit =
  | { kind: "no-service-worker" }
  | { kind: "no-live-view" }
  | { kind: "clips-whole-file" }
  | { kind: "no-clip-playback" }

export type BrowserSupport =
  | { kind: "blocked"; blocker: Blocker }
  | {
      kind: "supported"
      limits: Limit[]
      /** Live view can run (WebCodecs `VideoDecoder`). */
      live: boolean
    }

/** The codec of the hub's clips (H.264 constrained baseline in fragmented MP4). */
const clipVideoType = 'video/mp4; codecs="avc1.42E01E"'

/** Checks, in order of what a person must fix first, what the app can do here. */
export function checkBrowserSupport(env: BrowserEnv): BrowserSupport {
  // `isSecureContext` undefined is a browser older than the check itself; the checks below still apply.
  if (env.isSecureContext === false) {
    const plainHttp = env.location?.protocol === "http:"
    const httpsUrl = env.location ? httpsPairingUrl(env.location.hash) : undefined
    return {
      kind: "blocked",
      blocker: { kind: "insecure-context", plainHttp, ...(httpsUrl ? { httpsUrl } : {}) },
    }
  }
  if (typeof env.crypto?.subtle !== "object" || env.crypto.subtle === null) {
    return { kind: "blocked", blocker: { kind: "no-webcrypto" } }
  }
  if (env.indexedDB === undefined || env.indexedDB === null) {
    return { kind: "blocked", blocker: { kind: "no-indexeddb" } }
  }
  const limits: Limit[] = []
  if (env.navigator?.serviceWorker === undefined) limits.push({ kind: "no-service-worker" })
  const live = typeof env.VideoDecoder === "function"
  if (!live) limits.push({ kind: "no-live-view" })
  const video = env.document?.createElement("video")
  // No answer (no DOM to ask) is taken as yes: the player says so itself if a clip will not decode.
  const playsMp4 = video?.canPlayType ? video.canPlayType(clipVideoType) !== "" : true
  if (!playsMp4) limits.push({ kind: "no-clip-playback" })
  else if (typeof env.MediaSource !== "function") limits.push({ kind: "clips-whole-file" })
  return { kind: "supported", limits, live }
}

/**
 * The same `#pair=` fragment on the https app of the relay the invite names, or undefined when the
 * fragment carries no invite or its relay is not https. The invite's expiry is not checked here: the https
 * app says so itself, in its own words.
 */
export function httpsPairingUrl(hash: string): string | undefined {
  const code = new URLSearchParams(hash.replace(/^#/, "")).get("pair")
  if (!code) return undefined
  let signal: URL
  try {
    signal = new URL(decodeInvite(code, 0).signal)
  } catch {
    return undefined
  }
  if (signal.protocol !== "https:") return undefined
  const base = signal.href.endsWith("/") ? signal.href : `${signal.href}/`
  return `${base}#${new URLSearchParams({ pair: code }).toString()}`
}
