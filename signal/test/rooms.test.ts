import { randomBytes } from "node:crypto"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import {
  bearer,
  expectError,
  octets,
  register,
  startTestRelay,
  type TestDevice,
  type TestRelay,
} from "./harness.ts"

const ttlMs = 15 * 60 * 1000
let clock = 1_700_000_000_000
let relay: TestRelay
beforeEach(async () => {
  clock = 1_700_000_000_000
  relay = await startTestRelay({ now: () => clock, config: { roomTtlMs: ttlMs, roomTombstoneMs: ttlMs } })
})
afterEach(async () => {
  await relay.close()
})

function newRoomId(): string {
  return randomBytes(32).toString("hex")
}

async function post(device: TestDevice, roomId: string, body: Uint8Array): Promise<Response> {
  return fetch(`${relay.url}/v1/rooms/${roomId}/messages`, { method: "POST", headers: octets(device), body })
}

async function readRoom(
  device: TestDevice,
  roomId: string,
  query = "",
): Promise<{ seq: number; from: string }[]> {
  const res = await fetch(`${relay.url}/v1/rooms/${roomId}/messages${query}`, { headers: bearer(device) })
  expect(res.status).toBe(200)
  return ((await res.json()) as { messages: { seq: number; from: string }[] }).messages
}

describe("pairing rooms", () => {
  it("lets two unrelated devices exchange messages through a room", async () => {
    const hub = await register(relay, "hub")
    const phone = await register(relay, "phone")
    const roomId = newRoomId()
    expect(await (await post(hub, roomId, new Uint8Array([1]))).json()).toEqual({ seq: 1 })
    expect(await (await post(phone, roomId, new Uint8Array([2]))).json()).toEqual({ seq: 2 })
    expect(await readRoom(phone, roomId)).toMatchObject([
      { seq: 1, from: hub.deviceId },
      { seq: 2, from: phone.deviceId },
    ])
    expect((await readRoom(hub, roomId, "?after=1")).map((m) => m.seq)).toEqual([2])
  })

  it("wakes a long poll on a room", async () => {
    const [hub, phone] = [await register(relay, "hub"), await register(relay, "phone")]
    const roomId = newRoomId()
    const polling = readRoom(phone, roomId, "?after=0&wait=20000")
    for (let i = 0; i < 200 && relay.notifier.listenerCount === 0; i++)
      await new Promise((r) => setTimeout(r, 5))
    await post(hub, roomId, new Uint8Array([7]))
    expect((await polling).map((m) => m.seq)).toEqual([1])
  })

  it("expires a room roomTtlMs after creation: 410 on post, empty on read, messages purged", async () => {
    const hub = await register(relay, "hub")
    const roomId = newRoomId()
    await post(hub, roomId, new Uint8Array([1]))
    clock += ttlMs - 1
    expect((await post(hub, roomId, new Uint8Array([2]))).status).toBe(201)
    expect(await readRoom(hub, roomId)).toHaveLength(2)

    clock += 1
    expect(await readRoom(hub, roomId)).toEqual([])
    await expectError(await post(hub, roomId, new Uint8Array([3])), 410, "ROOM_EXPIRED")
    // Purged from the store, not only hidden: reading "as of" the past finds nothing either.
    expect(await relay.store.listRoomMessages(roomId as never, 0, 100, 0)).toEqual([])

    // Once the tombstone is gone too, the id starts a fresh room.
    clock += ttlMs
    expect(await (await post(hub, roomId, new Uint8Array([4]))).json()).toEqual({ seq: 1 })
  })

  it("holds at most 32 messages", async () => {
    const hub = await register(relay, "hub")
    const roomId = newRoomId()
    for (let i = 1; i <= 32; i++) expect((await post(hub, roomId, new Uint8Array([i]))).status).toBe(201)
    await expectError(await post(hub, roomId, new Uint8Array([33])), 429, "ROOM_FULL")
  })

  it("caps room messages at 16 KiB and needs authentication", async () => {
    const hub = await register(relay, "hub")
    const roomId = newRoomId()
    await expectError(await post(hub, roomId, new Uint8Array(16 * 1024 + 1)), 413, "TOO_LARGE")
    expect((await post(hub, roomId, new Uint8Array(16 * 1024))).status).toBe(201)
    await expectError(await fetch(`${relay.url}/v1/rooms/${roomId}/messages`), 401, "UNAUTHENTICATED")
    await expectError(
      await fetch(`${relay.url}/v1/rooms/abc/messages`, { headers: bearer(hub) }),
      400,
      "VALIDATION",
    )
  })
})
