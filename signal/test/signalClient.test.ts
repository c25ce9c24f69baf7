import { createHash, randomBytes } from "node:crypto"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import { WebSocket } from "ws"
import { SignalClient, SignalError, type WebSocketLike } from "../../protocol/src/signalClient.ts"
import { startTestRelay, waitUntil, type TestRelay } from "./harness.ts"

let relay: TestRelay
beforeEach(async () => {
  relay = await startTestRelay()
})
afterEach(async () => {
  await relay.close()
})

function sha256Hex(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex")
}

/** The phone asks to join (writes into a room the hub claimed), then the hub adds it. */
async function consentAndAdd(hub: SignalClient, phone: SignalClient, spaceId: string, deviceId: string) {
  const roomId = randomBytes(32).toString("hex")
  await hub.claimRoom(roomId)
  await phone.postToRoom(roomId, new Uint8Array([1]))
  await hub.addMember(spaceId, deviceId)
}

describe("SignalClient against the relay", () => {
  it("runs the happy path: register, space, member, blob, mailbox, room", async () => {
    const hub = new SignalClient({ baseUrl: `${relay.url}/` })
    const phone = new SignalClient({ baseUrl: relay.url })
    const hubDevice = await hub.registerDevice("hub")
    const phoneDevice = await phone.registerDevice("phone")
    expect(await phone.me()).toEqual({ deviceId: phoneDevice.deviceId, kind: "phone" })
    const again = new SignalClient({ baseUrl: relay.url, token: hubDevice.token })
    expect((await again.me()).deviceId).toBe(hubDevice.deviceId)

    const { spaceId } = await hub.createSpace()
    await consentAndAdd(hub, phone, spaceId, phoneDevice.deviceId)

    const clip = new Uint8Array(randomBytes(70_000))
    const blobId = sha256Hex(clip)
    expect(await hub.putBlob(spaceId, blobId, clip)).toEqual({ blobId, size: clip.length })
    expect(await phone.getBlob(spaceId, blobId)).toEqual(clip)
    expect(await phone.getBlob(spaceId, blobId, { start: 10, end: 19 })).toEqual(clip.subarray(10, 20))
    expect(await phone.getBlob(spaceId, blobId, { start: 69_990 })).toEqual(clip.subarray(69_990))
    // With a size known from a signed message, a larger body is refused instead of buffered.
    expect(await phone.getBlob(spaceId, blobId, undefined, { maxBytes: clip.length })).toEqual(clip)
    await expect(
      phone.getBlob(spaceId, blobId, undefined, { maxBytes: clip.length - 1 }),
    ).rejects.toMatchObject({
      code: "RELAY_BAD_RESPONSE",
      relayCode: "BAD_RESPONSE",
    })
    expect(await phone.getBlob(spaceId, blobId, { suffix: 3 })).toEqual(clip.subarray(-3))

    const polling = phone.fetchMailbox(0, 10_000)
    expect(await hub.sendToMailbox(phoneDevice.deviceId, new Uint8Array([1, 2, 3]))).toEqual({ seq: 1 })
    const [message, ...rest] = await polling
    expect(rest).toEqual([])
    expect(message).toMatchObject({ seq: 1, from: hubDevice.deviceId, body: new Uint8Array([1, 2, 3]) })
    await phone.ackMailbox(1)
    expect(await phone.fetchMailbox(0)).toEqual([])

    const roomId = sha256Hex(new TextEncoder().encode("pairing secret"))
    expect(await hub.postToRoom(roomId, new Uint8Array([9]))).toEqual({ seq: 1 })
    const roomMessages = await phone.readRoom(roomId, 0)
    expect(roomMessages.map((m) => [m.seq, m.from, [...m.body]])).toEqual([[1, hubDevice.deviceId, [9]]])

    await hub.removeMember(spaceId, phoneDevice.deviceId)
    await expect(phone.getBlob(spaceId, blobId)).rejects.toMatchObject({ status: 404, code: "NOT_FOUND" })
  })

  it("throws SignalError with our code and the relay's, and RELAY_UNREACHABLE when unreachable", async () => {
    const anonymous = new SignalClient({ baseUrl: relay.url })
    const failure = await anonymous.me().catch((err: unknown) => err)
    expect(failure).toBeInstanceOf(SignalError)
    expect(failure).toMatchObject({ status: 401, code: "RELAY_UNAUTHORIZED", relayCode: "UNAUTHENTICATED" })

    const nowhere = new SignalClient({ baseUrl: "http://127.0.0.1:1" })
    await expect(nowhere.registerDevice("hub")).rejects.toMatchObject({
      status: 0,
      code: "RELAY_UNREACHABLE",
      relayCode: "NETWORK",
    })
  })

  it("throws ABORTED when a long poll is cancelled", async () => {
    const phone = new SignalClient({ baseUrl: relay.url })
    await phone.registerDevice("phone")
    const controller = new AbortController()
    const polling = phone.fetchMailbox(0, 20_000, { signal: controller.signal })
    setTimeout(() => controller.abort(), 50)
    await expect(polling).rejects.toMatchObject({ code: "RELAY_ABORTED", relayCode: "ABORTED" })
  })
})

describe("SignalClient: blobs, pairing discovery, signalling, push", () => {
  it("manages blob recipients, acknowledgements, listing and deletion", async () => {
    const hub = new SignalClient({ baseUrl: relay.url })
    const phone = new SignalClient({ baseUrl: relay.url })
    await hub.registerDevice("hub")
    const phoneDevice = await phone.registerDevice("phone")
    const { spaceId } = await hub.createSpace()
    await consentAndAdd(hub, phone, spaceId, phoneDevice.deviceId)

    const clip = new Uint8Array(randomBytes(1000))
    const blobId = sha256Hex(clip)
    await hub.putBlob(spaceId, blobId, clip, { recipients: [phoneDevice.deviceId] })
    const listed = await phone.listBlobs(spaceId)
    expect(listed).toMatchObject({ usedBytes: 1000, nextCursor: null })
    expect(listed.blobs).toMatchObject([{ blobId, size: 1000, pendingRecipients: [phoneDevice.deviceId] }])
    expect(await phone.ackBlob(spaceId, blobId)).toEqual({ deleted: true })
    await expect(phone.getBlob(spaceId, blobId)).rejects.toMatchObject({ status: 404 })

    await hub.putBlob(spaceId, blobId, clip)
    await hub.setBlobRecipients(spaceId, blobId, [])
    await hub.deleteBlob(spaceId, blobId)
    expect((await hub.listBlobs(spaceId, { limit: 10 })).blobs).toEqual([])
  })

  it("announces a hub in pairing mode to phones behind the same address", async () => {
    const hub = new SignalClient({ baseUrl: relay.url })
    const phone = new SignalClient({ baseUrl: relay.url })
    const hubDevice = await hub.registerDevice("hub")
    await phone.registerDevice("phone")
    const roomId = sha256Hex(randomBytes(8))
    const name = new TextEncoder().encode("Front door")
    expect((await hub.announcePairing(roomId, name)).roomId).toBe(roomId)
    const [seen, ...rest] = await phone.listPairingAnnouncements()
    expect(rest).toEqual([])
    expect(seen).toMatchObject({ roomId, deviceId: hubDevice.deviceId, name })
    await hub.withdrawPairing(roomId)
    expect(await phone.listPairingAnnouncements()).toEqual([])
  })

  it("streams the mailbox and relays signals over the WebSocket", async () => {
    const hub = new SignalClient({ baseUrl: relay.url })
    const phone = new SignalClient({ baseUrl: relay.url })
    const hubDevice = await hub.registerDevice("hub")
    const phoneDevice = await phone.registerDevice("phone")
    const { spaceId } = await hub.createSpace()
    await consentAndAdd(hub, phone, spaceId, phoneDevice.deviceId)
    await hub.sendToMailbox(phoneDevice.deviceId, new Uint8Array([1]))
    expect(await hub.getIceServers()).toEqual([])

    const received: number[] = []
    const signals: string[] = []
    const webSocket = (url: string) => new WebSocket(url) as unknown as WebSocketLike
    const phoneSocket = phone.connect({
      after: 0,
      webSocket,
      onMessages: (messages) => received.push(...messages.map((m) => m.seq)),
    })
    const hubSocket = hub.connect({
      webSocket,
      onSignal: (s) => signals.push(new TextDecoder().decode(s.body)),
    })
    expect(await phoneSocket.ready).toEqual({ deviceId: phoneDevice.deviceId })
    await hubSocket.ready
    await hub.sendToMailbox(phoneDevice.deviceId, new Uint8Array([2]))
    await waitUntil(() => received.length === 2)
    expect(received).toEqual([1, 2])
    await phoneSocket.ack(2)
    expect(await phone.fetchMailbox(0)).toEqual([])

    expect(await phoneSocket.signal(hubDevice.deviceId, new TextEncoder().encode("offer"))).toBe(1)
    await waitUntil(() => signals.length === 1)
    expect(signals).toEqual(["offer"])
    expect(await hub.sendSignal(phoneDevice.deviceId, new Uint8Array([1]))).toEqual({ delivered: 1 })
    await expect(phoneSocket.signal("0".repeat(32), new Uint8Array([1]))).rejects.toMatchObject({
      code: "RELAY_UNAUTHORIZED",
      relayCode: "FORBIDDEN",
    })

    const closed = new Promise<number>((resolve) =>
      new SignalClient({ baseUrl: relay.url, token: "A".repeat(43) }).connect({
        webSocket,
        onClose: (e) => resolve(e.code),
      }),
    )
    expect(await closed).toBe(4401)
    phoneSocket.close()
    hubSocket.close()
  })

  it("registers push subscriptions and asks for pushes", async () => {
    await relay.close()
    const sent: string[] = []
    relay = await startTestRelay({
      push: {
        publicKey: "B".repeat(87),
        sender: { send: async (s) => (sent.push(s.endpoint), { kind: "sent" }) },
      },
      config: { pushHosts: ["push.example"] },
    })
    const hub = new SignalClient({ baseUrl: relay.url })
    const phone = new SignalClient({ baseUrl: relay.url })
    await hub.registerDevice("hub")
    const phoneDevice = await phone.registerDevice("phone")
    const { spaceId } = await hub.createSpace()
    await consentAndAdd(hub, phone, spaceId, phoneDevice.deviceId)
    expect(await phone.getVapidPublicKey()).toBe("B".repeat(87))
    const endpoint = "https://push.example/send/abc"
    await phone.setPushSubscription({
      endpoint,
      expirationTime: null,
      keys: {
        p256dh: Buffer.concat([Buffer.from([4]), randomBytes(64)]).toString("base64url"),
        auth: randomBytes(16).toString("base64url"),
      },
    })
    expect(await hub.push(spaceId, new Uint8Array([1, 2, 3]), { urgency: "high" })).toEqual({
      sent: 1,
      removed: 0,
      failed: 0,
    })
    expect(sent).toEqual([endpoint])
    await phone.deletePushSubscription()
    expect((await hub.push(spaceId, new Uint8Array([1]))).sent).toBe(0)
  })
})
