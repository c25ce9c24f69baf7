import { describe, expect, it } from "vitest"
import { describeRelayTransportContract } from "../test/relayTransportContract.ts"
import { utf8 } from "./bytes.ts"
import { MemoryRelay } from "./memoryRelay.ts"

describeRelayTransportContract("MemoryRelay", async (limits) => {
  let now = Date.now()
  const relay = new MemoryRelay({ now: () => now, limits })
  return {
    transport: (options) => relay.transport(options),
    advance: (ms) => {
      now += ms
    },
    close: async () => undefined,
  }
})

describe("MemoryRelay", () => {
  const hex64 = "c".repeat(64)

  it("files announcements under the caller's address", async () => {
    const relay = new MemoryRelay()
    const hub = relay.transport({ address: "198.51.100.7" })
    await hub.registerDevice("hub")
    await hub.announcePairing(hex64, utf8("Hub"))
    const near = relay.transport({ address: "198.51.100.7" })
    await near.registerDevice("phone")
    const far = relay.transport({ address: "203.0.113.9" })
    await far.registerDevice("phone")
    expect((await near.listPairingAnnouncements()).map((a) => a.roomId)).toEqual([hex64])
    expect(await far.listPairingAnnouncements()).toEqual([])
  })

  it("with webPush, pushes to the space's other full members and records what it sent", async () => {
    const relay = new MemoryRelay({ webPush: true, iceServers: [{ urls: "stun:stun.example" }] })
    const hub = relay.transport()
    await hub.registerDevice("hub")
    const phone = relay.transport()
    const { deviceId } = await phone.registerDevice("phone")
    const { spaceId } = await hub.createSpace()
    await hub.claimRoom(hex64)
    await phone.postToRoom(hex64, utf8("join"))
    await hub.addMember(spaceId, deviceId)
    expect(await hub.push(spaceId, utf8("sealed"), { urgency: "normal" })).toEqual({
      sent: 1,
      removed: 0,
      failed: 0,
    })
    expect(relay.pushes).toEqual([
      { spaceId, to: [deviceId], payload: utf8("sealed"), ttlSeconds: 86_400, urgency: "normal" },
    ])
    await expect(phone.push(spaceId, utf8("x"))).rejects.toMatchObject({
      status: 403,
      relayCode: "FORBIDDEN",
    })
    await expect(hub.push(spaceId, new Uint8Array(3073))).rejects.toMatchObject({
      status: 413,
      relayCode: "TOO_LARGE",
    })
    expect(await phone.getIceServers()).toEqual([{ urls: "stun:stun.example" }])
  })

  it("hands out copies: a caller changing its bytes changes nothing stored", async () => {
    const relay = new MemoryRelay()
    const phone = relay.transport()
    await phone.registerDevice("phone")
    const body = utf8("abc")
    await phone.postToRoom(hex64, body)
    body[0] = 0
    const [read] = await phone.readRoom(hex64, 0)
    read!.body[1] = 0
    expect((await phone.readRoom(hex64, 0))[0]!.body).toEqual(utf8("abc"))
  })
})
