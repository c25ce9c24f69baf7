/**
 * The hub's live path end to end in Node: a werift "phone" offers, the live service answers through a
 * stand-in for the space, and frames arrive sliced, sealed and in order — the cached GOP first.
 */
import { afterEach, describe, expect, it } from "vitest"
import { RTCPeerConnection } from "werift"
import {
  FrameReassembler,
  FrameReceiver,
  importFrameKey,
  randomBytes,
  toHex,
  type DeviceId,
  type FrameKey,
  type LiveAnswer,
  type SpaceId,
} from "@vigil/protocol"
import { silentLogger } from "../capture/types.ts"
import { nodeAead } from "../crypto/nodeAead.ts"
import { LiveService, type LiveSpace } from "./liveService.ts"
import { liveChannelInit } from "./liveViewer.ts"
import { liveRtcConfig } from "./rtcConfig.ts"

const loopbackOnly = {
  ...liveRtcConfig({ additionalHostAddresses: ["127.0.0.1"] }),
  iceFilterCandidatePair: (pair: { remoteCandidate: { host: string } }) =>
    pair.remoteCandidate.host === "127.0.0.1",
}

function fakeSpace() {
  const answers: LiveAnswer[] = []
  let key: FrameKey | undefined
  const space: LiveSpace = {
    spaceId: toHex(randomBytes(16)) as SpaceId,
    async openLiveSession(to, streamId, makeAnswer) {
      key = await importFrameKey(streamId, 7n, randomBytes(28), nodeAead)
      const body = await makeAnswer(key)
      answers.push({ ...body, kind: "live-answer", spaceId: space.spaceId, to, streamId, epoch: "7" })
      return key
    },
    async sendToPhone() {},
  }
  return { space, answers, key: () => key! }
}

const closers: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const c of closers.splice(0)) await c()
})

async function waitFor<T>(f: () => T | undefined, ms = 10_000): Promise<T> {
  const until = Date.now() + ms
  for (;;) {
    const v = f()
    if (v !== undefined) return v
    if (Date.now() > until) throw new Error("timed out")
    await new Promise((r) => setTimeout(r, 10))
  }
}

describe("LiveService", () => {
  it("answers an offer and streams the cached GOP, then live frames, sealed and in order", async () => {
    const { space, answers, key } = fakeSpace()
    const service = new LiveService({
      space,
      cameras: [{ id: "cam", name: "Cam" }],
      logger: silentLogger,
      additionalHostAddresses: ["127.0.0.1"],
    })
    closers.push(() => service.close())
    const au = (n: number, size = 100) => new Uint8Array(size).fill(n)
    service.pushAccessUnit("cam", { data: au(1, 150_000), keyframe: true })
    service.pushAccessUnit("cam", { data: au(2), keyframe: false })

    const phone = new RTCPeerConnection(loopbackOnly)
    closers.push(() => phone.close())
    const dc = phone.createDataChannel("live", liveChannelInit)
    const reassembler = new FrameReassembler()
    const frames: Uint8Array[] = []
    const phoneSide: { receiver?: FrameReceiver } = {}
    let chain = Promise.resolve()
    dc.onMessage.subscribe((m) => {
      const frame = reassembler.push(new Uint8Array(m as Buffer))
      if (frame)
        chain = chain.then(async () => void frames.push((await phoneSide.receiver!.open(frame)).data))
    })
    await phone.setLocalDescription(await phone.createOffer())
    await waitFor(() => (phone.iceGatheringState === "complete" ? true : undefined))
    const deviceId = toHex(randomBytes(16)) as DeviceId
    service.handleRequest(
      {
        kind: "live-offer",
        sessionId: toHex(randomBytes(16)),
        deviceId,
        sdp: phone.localDescription!.sdp,
        issuedAt: Date.now(),
      },
      deviceId,
    )
    const answer = await waitFor(() => answers[0])
    expect(answer.to).toBe(deviceId)
    // The phone exports the same key from the same MLS epoch; the stand-in space hands it over.
    phoneSide.receiver = new FrameReceiver(key())
    await phone.setRemoteDescription({ type: "answer", sdp: answer.sdp })

    await waitFor(() => (frames.length >= 2 ? true : undefined))
    service.pushAccessUnit("cam", { data: au(3), keyframe: false })
    await waitFor(() => (frames.length >= 3 ? true : undefined))
    expect(frames.map((f) => f[0])).toEqual([1, 2, 3])
    expect(frames[0]).toHaveLength(150_000)
    expect(service.stats()[0]).toMatchObject({ state: "open", framesSent: 3, framesDropped: 0 })

    // The phone is removed from the space: its session ends now, not when its connection drops.
    expect(service.closeDevice(toHex(randomBytes(16)))).toBe(0)
    expect(service.closeDevice(deviceId)).toBe(1)
    expect(service.stats()).toEqual([])
    await waitFor(() => (dc.readyState === "closed" ? true : undefined))
    service.pushAccessUnit("cam", { data: au(4), keyframe: true })
    await new Promise((r) => setTimeout(r, 200))
    expect(frames).toHaveLength(3)
  })

  it("answers an ICE restart on the same peer connection: same channel, same stream key, frames resume", async () => {
    const { space, answers, key } = fakeSpace()
    const service = new LiveService({
      space,
      cameras: [{ id: "cam", name: "Cam" }],
      logger: silentLogger,
      additionalHostAddresses: ["127.0.0.1"],
    })
    closers.push(() => service.close())
    const au = (n: number, keyframe = false) => ({ data: new Uint8Array(100).fill(n), keyframe })
    service.pushAccessUnit("cam", au(1, true))

    const phone = new RTCPeerConnection(loopbackOnly)
    closers.push(() => phone.close())
    const dc = phone.createDataChannel("live", liveChannelInit)
    const reassembler = new FrameReassembler()
    const frames: number[] = []
    const phoneSide: { receiver?: FrameReceiver } = {}
    let chain = Promise.resolve()
    dc.onMessage.subscribe((m) => {
      const frame = reassembler.push(new Uint8Array(m as Buffer))
      if (frame)
        chain = chain.then(async () => void frames.push((await phoneSide.receiver!.open(frame)).data[0]!))
    })
    const gathered = () => waitFor(() => (phone.iceGatheringState === "complete" ? true : undefined))
    const deviceId = toHex(randomBytes(16)) as DeviceId
    const sessionId = toHex(randomBytes(16))
    const offer = (sdp: string) =>
      service.handleRequest({ kind: "live-offer", sessionId, deviceId, sdp, issuedAt: Date.now() }, deviceId)
    await phone.setLocalDescription(await phone.createOffer())
    await gathered()
    offer(phone.localDescription!.sdp)
    const first = await waitFor(() => answers[0])
    phoneSide.receiver = new FrameReceiver(key())
    await phone.setRemoteDescription({ type: "answer", sdp: first.sdp })
    await waitFor(() => (frames.length >= 1 ? true : undefined))

    // Act: the phone restarts ICE (new credentials) on its peer connection, through the same session.
    await phone.setLocalDescription(await phone.createOffer({ iceRestart: true }))
    await gathered()
    const restartOffer = phone.localDescription!.sdp
    offer(restartOffer)
    offer(restartOffer) // delivered twice: answered once
    const second = await waitFor(() => answers[1])
    await phone.setRemoteDescription({ type: "answer", sdp: second.sdp })

    // Assert: new ICE credentials on the hub's side too, and frames flow on under the first key.
    expect(second.sessionId).toBe(sessionId)
    expect(/a=ice-ufrag:(\S+)/.exec(second.sdp)?.[1]).not.toBe(/a=ice-ufrag:(\S+)/.exec(first.sdp)?.[1])
    service.pushAccessUnit("cam", au(2))
    await waitFor(() => (frames.length >= 2 ? true : undefined))
    expect(frames).toEqual([1, 2])
    await new Promise((r) => setTimeout(r, 200))
    expect(answers).toHaveLength(2)
    expect(service.stats()).toHaveLength(1)
    expect(service.stats()[0]).toMatchObject({ state: "open", framesSent: 2 })
  })
})
