/**
 * The privacy rule for WebRTC: with the configuration the hub uses, werift sends no packet and makes no DNS
 * lookup for any host but the peer (werift 0.25.2 fell back to a public STUN server even with
 * `iceServers: []`; patches/werift+0.25.2.patch removes that fallback, docs/decisions/0005 names it).
 */
import dgram from "node:dgram"
import dns from "node:dns"
import { afterEach, describe, expect, it, vi } from "vitest"
import { RTCPeerConnection } from "werift"
import { liveRtcConfig } from "./rtcConfig.ts"

describe("liveRtcConfig", () => {
  afterEach(() => vi.restoreAllMocks())

  it("passes the ICE servers explicitly, none by default", () => {
    expect(liveRtcConfig().iceServers).toEqual([])
    expect(liveRtcConfig({ iceServers: [{ urls: "turn:turn.example:3478" }] }).iceServers).toEqual([
      { urls: "turn:turn.example:3478" },
    ])
  })

  it("gathers host candidates only: no DNS lookup, no packet, and no wait for a STUN server", async () => {
    const sends = vi.spyOn(dgram.Socket.prototype, "send")
    const lookups = vi.spyOn(dns, "lookup")
    // werift resolves STUN server names with the promise API.
    const promiseLookups = vi.spyOn(dns.promises, "lookup")
    const pc = new RTCPeerConnection(liveRtcConfig())
    try {
      pc.createDataChannel("live", { negotiated: true, id: 0 })
      const t0 = performance.now()
      await pc.setLocalDescription(await pc.createOffer())
      await new Promise<void>((resolve) => {
        if (pc.iceGatheringState === "complete") resolve()
        pc.iceGatheringStateChange.subscribe((s) => s === "complete" && resolve())
      })
      const gatherMs = performance.now() - t0
      const sdp = pc.localDescription!.sdp
      expect(sdp).not.toMatch(/typ (srflx|relay)/)
      expect(sends).not.toHaveBeenCalled()
      const hosts = [...lookups.mock.calls, ...promiseLookups.mock.calls].map((c) => String(c[0]))
      expect(hosts.filter((h) => !/^(0\.0\.0\.0|::|127\.0\.0\.1)$/.test(h))).toEqual([])
      // The fallback server cost a 5 s gathering wait when unreachable.
      expect(gatherMs).toBeLessThan(2000)
    } finally {
      await pc.close()
    }
  })

  it("asks only the STUN server signal configured (the household's coturn), never a public default", async () => {
    // A stand-in STUN server on loopback: it sees the binding request; nothing else may be contacted.
    const stun = dgram.createSocket("udp4")
    const requests: Buffer[] = []
    stun.on("message", (m) => requests.push(m))
    await new Promise<void>((resolve) => stun.bind(0, "127.0.0.1", resolve))
    const { port } = stun.address()
    const sends = vi.spyOn(dgram.Socket.prototype, "send")
    const lookups = vi.spyOn(dns, "lookup")
    const promiseLookups = vi.spyOn(dns.promises, "lookup")
    const pc = new RTCPeerConnection({
      ...liveRtcConfig({ iceServers: [{ urls: `stun:127.0.0.1:${port}` }] }),
      iceStunGatherTimeout: 0.2,
    } as ConstructorParameters<typeof RTCPeerConnection>[0])
    try {
      pc.createDataChannel("live", { negotiated: true, id: 0 })
      await pc.setLocalDescription(await pc.createOffer())
      await new Promise<void>((resolve) => {
        if (pc.iceGatheringState === "complete") resolve()
        pc.iceGatheringStateChange.subscribe((s) => s === "complete" && resolve())
      })
      expect(requests.length).toBeGreaterThan(0)
      // STUN binding request: message type 0x0001, magic cookie 0x2112a442.
      expect(requests[0]!.readUInt16BE(0)).toBe(0x0001)
      expect(requests[0]!.readUInt32BE(4)).toBe(0x2112a442)
      const destinations = sends.mock.calls.map((c) => c.slice(1).find((a) => typeof a === "string"))
      expect(destinations.filter((d) => d !== "127.0.0.1")).toEqual([])
      const hosts = [...lookups.mock.calls, ...promiseLookups.mock.calls].map((c) => String(c[0]))
      expect(hosts.filter((h) => !/^(0\.0\.0\.0|::|127\.0\.0\.1)$/.test(h))).toEqual([])
    } finally {
      await pc.close()
      stun.close()
    }
  })
})
