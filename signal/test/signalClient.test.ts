import { createHash, randomBytes } from "node:crypto"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import { SignalClient, SignalError } from "../../protocol/src/signalClient.ts"
import { startTestRelay, type TestRelay } from "./harness.ts"

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
    await hub.addMember(spaceId, phoneDevice.deviceId)

    const clip = new Uint8Array(randomBytes(70_000))
    const blobId = sha256Hex(clip)
    expect(await hub.putBlob(spaceId, blobId, clip)).toEqual({ blobId, size: clip.length })
    expect(await phone.getBlob(spaceId, blobId)).toEqual(clip)
    expect(await phone.getBlob(spaceId, blobId, { start: 10, end: 19 })).toEqual(clip.subarray(10, 20))
    expect(await phone.getBlob(spaceId, blobId, { start: 69_990 })).toEqual(clip.subarray(69_990))
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

  it("throws SignalError with the relay's code, and NETWORK when unreachable", async () => {
    const anonymous = new SignalClient({ baseUrl: relay.url })
    const failure = await anonymous.me().catch((err: unknown) => err)
    expect(failure).toBeInstanceOf(SignalError)
    expect(failure).toMatchObject({ status: 401, code: "UNAUTHENTICATED" })

    const nowhere = new SignalClient({ baseUrl: "http://127.0.0.1:1" })
    await expect(nowhere.registerDevice("hub")).rejects.toMatchObject({ status: 0, code: "NETWORK" })
  })

  it("throws ABORTED when a long poll is cancelled", async () => {
    const phone = new SignalClient({ baseUrl: relay.url })
    await phone.registerDevice("phone")
    const controller = new AbortController()
    const polling = phone.fetchMailbox(0, 20_000, { signal: controller.signal })
    setTimeout(() => controller.abort(), 50)
    await expect(polling).rejects.toMatchObject({ code: "ABORTED" })
  })
})
