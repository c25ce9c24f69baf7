import { createHmac } from "node:crypto"
import type { IceServer } from "../config.ts"

/**
 * The ICE servers to hand a device. With a TURN shared secret, `turn:`/`turns:` entries without
 * static credentials get time-limited ones (the TURN REST API scheme coturn's `use-auth-secret`
 * checks): username `<expiry seconds>:<deviceId>`, credential base64(HMAC-SHA1(secret, username)).
 */
/** True for an entry with a `turn:` or `turns:` URL (a relay; it needs credentials). */
export function isTurnServer(server: IceServer): boolean {
  const urls = Array.isArray(server.urls) ? server.urls : [server.urls]
  return urls.some((u) => /^turns?:/i.test(u))
}

export function iceServersFor(
  servers: readonly IceServer[],
  deviceId: string,
  options: { turnSecret?: string; ttlMs: number; now: number },
): IceServer[] {
  return servers.map((server) => {
    if (options.turnSecret === undefined || !isTurnServer(server) || server.username !== undefined) {
      return { ...server }
    }
    const username = `${Math.floor((options.now + options.ttlMs) / 1000)}:${deviceId}`
    const credential = createHmac("sha1", options.turnSecret).update(username).digest("base64")
    return { ...server, username, credential }
  })
}

/** The line for operators when no TURN relay is configured (live view then works on the same network only). */
export const noTurnHint =
  "Live view works on this network only; to watch from anywhere, run coturn beside signal: see docs/07-remote-access.md"

/** True when signal hands out a TURN server, with minted (secret) or static credentials. */
export function turnConfigured(servers: readonly IceServer[], turnSecret: string | undefined): boolean {
  return servers.some(
    (server) => isTurnServer(server) && (turnSecret !== undefined || server.credential !== undefined),
  )
}
