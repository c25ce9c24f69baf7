/**
 * werift's data channel as patched in patches/werift+0.25.2.patch (SCTP send path: DATA chunks bundled up to
 * the MTU and written straight into the packet, every queued message handed to SCTP at once, `bufferedAmount`
 * released per message once its chunks were sent). Two werift peers over 127.0.0.1; no timings asserted.
 */
import { afterEach, describe, expect, it } from "vitest"
import { RTCPeerConnection, type RTCDataChannel } from "werift"
import { liveChannelInit } from "./liveViewer.ts"
import { liveRtcConfig } from "./rtcConfig.ts"

const loopbackOnly = {
  ...liveRtcConfig({ additionalHostAddresses: ["127.0.0.1"] }),
  iceFilterCandidatePair: (pair: { remoteCandidate: { host: string } }) =>
    pair.remoteCandidate.host === "127.0.0.1",
}

const open: RTCPeerConnection[] = []
afterEach(async () => {
  await Promise.all(open.splice(0).map((pc) => pc.close()))
})

async function gathered(pc: RTCPeerConnection) {
  if (pc.iceGatheringState === "complete") return
  await new Promise<void>((resolve) => {
    const sub = pc.iceGatheringStateChange.subscribe((s) => {
      if (s === "complete") {
        sub.unSubscribe()
        resolve()
      }
    })
  })
}

async function channelPair(): Promise<[RTCDataChannel, RTCDataChannel]> {
  const a = new RTCPeerConnection(loopbackOnly)
  const b = new RTCPeerConnection(loopbackOnly)
  open.push(a, b)
  const da = a.createDataChannel("test", liveChannelInit)
  const db = b.createDataChannel("test", liveChannelInit)
  await a.setLocalDescription(await a.createOffer())
  await gathered(a)
  await b.setRemoteDescription(a.localDescription!)
  await b.setLocalDescription(await b.createAnswer())
  await gathered(b)
  await a.setRemoteDescription(b.localDescription!)
  if (da.readyState !== "open")
    await new Promise<void>((resolve) => da.stateChanged.subscribe((s) => s === "open" && resolve()))
  return [da, db]
}

/** Sizes around the chunk payload (1160 bytes at werift's 1191-byte MTU), tiny ones that share packets, big ones. */
const sizes = [1, 3, 17, 300, 1159, 1160, 1161, 2320, 4000, 16_384, 65_536]
function message(i: number): Buffer {
  const b = Buffer.alloc(sizes[i % sizes.length]!)
  for (let k = 0; k < b.length; k++) b[k] = (i * 31 + k) & 0xff
  return b
}

describe("werift data channel (patched send path)", () => {
  it("delivers a burst of mixed-size messages intact and in order, and releases bufferedAmount", async () => {
    const [da, db] = await channelPair()
    const count = 600
    const received: Buffer[] = []
    const all = new Promise<void>((resolve) =>
      db.onMessage.subscribe((m) => {
        received.push(Buffer.from(m as Buffer))
        if (received.length === count) resolve()
      }),
    )
    // All queued at once, as the live viewer queues a cached GOP: far more than the congestion window.
    for (let i = 0; i < count; i++) da.send(message(i))
    expect(da.bufferedAmount).toBeGreaterThan(0)
    await all
    received.forEach((m, i) => expect(m.equals(message(i)), `message ${i}`).toBe(true))
    expect(da.bufferedAmount).toBe(0)
  })

  it("fires bufferedAmountLow as the queue drains below the threshold", async () => {
    const [da, db] = await channelPair()
    da.bufferedAmountLowThreshold = 64 * 1024
    let lows = 0
    da.bufferedAmountLow.subscribe(() => lows++)
    const count = 40
    let got = 0
    const all = new Promise<void>((resolve) => db.onMessage.subscribe(() => ++got === count && resolve()))
    for (let i = 0; i < count; i++) da.send(Buffer.alloc(16_384, i))
    await all
    expect(lows).toBe(1)
    expect(da.bufferedAmount).toBe(0)
  })
})
