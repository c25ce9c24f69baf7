import type { PeerConfig } from "werift"

/** An ICE server as signal's `GET /v1/rtc/ice-servers` hands it out (the operator's setting; none by default). */
export interface IceServer {
  urls: string | string[]
  username?: string
  credential?: string
}

/**
 * The werift configuration for live view. The privacy rule: the hub contacts no host the user did not
 * configure. werift's own default is a public STUN server, and even with `iceServers: []` it used to fall
 * back to it (a DNS lookup, a packet to a third party, and a 5 s wait when unreachable); the patch
 * in patches/werift+0.25.2.patch makes an explicit empty list mean "no STUN", and we always pass the list
 * explicitly — never werift's default. `rtcConfig.test.ts` checks that no packet leaves for another host.
 */
export function liveRtcConfig(
  opts: { iceServers?: readonly IceServer[]; additionalHostAddresses?: string[] } = {},
): Partial<PeerConfig> {
  return {
    iceServers: (opts.iceServers ?? []).map((s) => ({ ...s })),
    // Phones find the hub on the LAN (or through the operator's TURN); IPv6 link-local is no use here.
    iceUseIpv6: false,
    // werift leaves 127.0.0.1 out of its host candidates; only same-machine werift peers (the warm-up) need it:
    // Chromium never offers loopback candidates, so a browser cannot pair with it anyway.
    iceAdditionalHostAddresses: opts.additionalHostAddresses,
    // werift's SCTP refuses messages over 64 KiB; frames are sliced to fit (protocol/src/liveChunks.ts).
    maxMessageSize: 65_536,
  }
}
