import { randomBytes } from "node:crypto"
import { afterEach, describe, expect, it } from "vitest"
import type { PushSender, PushSendResult } from "../../src/push/pushSender.ts"
import type { PushSubscriptionRecord } from "../../src/store/metaStore.ts"
import {
  bearer,
  consentToJoin,
  createSpaceWithMember,
  enroll,
  expectError,
  octets,
  register,
  sha256Hex,
  startTestRelay,
  type TestDevice,
  type TestRelay,
} from "../harness.ts"

/** Issue 14 ("Security review findings"), the relay's half: one describe per finding. */

class CountingPushSender implements PushSender {
  readonly sent: string[] = []
  async send(subscription: PushSubscriptionRecord): Promise<PushSendResult> {
    this.sent.push(subscription.deviceId)
    return { kind: "sent" }
  }
}

let relay: TestRelay | undefined
afterEach(async () => {
  await relay?.close()
  relay = undefined
})

const pushConfig = { pushHosts: ["push.example"] }
const subscription = () => ({
  endpoint: `https://push.example/send/${randomBytes(8).toString("hex")}`,
  keys: {
    p256dh: Buffer.concat([Buffer.from([4]), randomBytes(64)]).toString("base64url"),
    auth: randomBytes(16).toString("base64url"),
  },
})

async function createSpace(r: TestRelay, hub: TestDevice): Promise<string> {
  const res = await fetch(`${r.url}/v1/spaces`, { method: "POST", headers: bearer(hub) })
  expect(res.status).toBe(201)
  return ((await res.json()) as { spaceId: string }).spaceId
}

const addMember = (r: TestRelay, hub: TestDevice, spaceId: string, device: TestDevice, query = "") =>
  fetch(`${r.url}/v1/spaces/${spaceId}/members/${device.deviceId}${query}`, {
    method: "PUT",
    headers: bearer(hub),
  })

const mail = (r: TestRelay, from: TestDevice, to: TestDevice) =>
  fetch(`${r.url}/v1/devices/${to.deviceId}/mailbox`, {
    method: "POST",
    headers: octets(from),
    body: new Uint8Array([1]),
  })

const claim = (r: TestRelay, hub: TestDevice, roomId: string) =>
  fetch(`${r.url}/v1/rooms/${roomId}/owner`, { method: "PUT", headers: bearer(hub) })

const postToRoom = (r: TestRelay, device: TestDevice, roomId: string) =>
  fetch(`${r.url}/v1/rooms/${roomId}/messages`, {
    method: "POST",
    headers: octets(device),
    body: new Uint8Array([2]),
  })

describe("issue 14 finding 1: a device joins a space only with its consent", () => {
  it("refuses hub X enrolling phone P of hub A; X's mail and push reach nothing of P", async () => {
    const sender = new CountingPushSender()
    relay = await startTestRelay({ push: { sender, publicKey: "B".repeat(87) }, config: pushConfig })
    const r = relay
    const a = await createSpaceWithMember(r)
    const p = a.phone
    expect(
      (
        await fetch(`${r.url}/v1/push/subscription`, {
          method: "PUT",
          headers: { ...bearer(p), "content-type": "application/json" },
          body: JSON.stringify(subscription()),
        })
      ).status,
    ).toBe(204)

    const x = await register(r, "hub")
    const xSpace = await createSpace(r, x)
    // X knows P's id (it leaks through any of A's messages at the relay): still refused, pending or not.
    await expectError(await addMember(r, x, xSpace, p), 403, "FORBIDDEN")
    await expectError(await addMember(r, x, xSpace, p, "?pending=1"), 403, "FORBIDDEN")
    // The same answer as for an id nobody registered: the PUT is no existence oracle.
    const ghost = { deviceId: "7".repeat(32), token: "" }
    await expectError(await addMember(r, x, xSpace, ghost), 403, "FORBIDDEN")
    // P writing into A's rooms consents to A only; X cannot take A's room over.
    const aRoom = await consentToJoin(r, a.hub, p)
    await expectError(await claim(r, x, aRoom), 403, "FORBIDDEN")
    await expectError(await addMember(r, x, xSpace, p), 403, "FORBIDDEN")

    await expectError(await mail(r, x, p), 403, "FORBIDDEN")
    const pushed = await fetch(`${r.url}/v1/spaces/${xSpace}/push`, {
      method: "POST",
      headers: { ...bearer(x), "content-type": "application/json" },
      body: JSON.stringify({ payload: "AQ==", to: [p.deviceId] }),
    })
    expect(await pushed.json()).toEqual({ sent: 0, removed: 0, failed: 0 })
    expect(sender.sent).toEqual([])
    const signalled = await fetch(`${r.url}/v1/devices/${p.deviceId}/signal`, {
      method: "POST",
      headers: octets(x),
      body: new Uint8Array([1]),
    })
    await expectError(signalled, 403, "FORBIDDEN")
  })

  it("a consent is for one membership, and expires", async () => {
    let clock = 1_000_000
    relay = await startTestRelay({ now: () => clock })
    const r = relay
    const hub = await register(r, "hub")
    const spaceId = await createSpace(r, hub)
    const phone = await register(r, "phone")
    await consentToJoin(r, hub, phone)
    // Pending (code not yet confirmed), then full: one consent covers both steps.
    expect((await addMember(r, hub, spaceId, phone, "?pending=1")).status).toBe(204)
    expect((await addMember(r, hub, spaceId, phone)).status).toBe(204)
    expect((await addMember(r, hub, spaceId, phone)).status).toBe(204) // idempotent for a member
    // Removed: the hub cannot take it back in without a new request from the phone.
    const removed = await fetch(`${r.url}/v1/spaces/${spaceId}/members/${phone.deviceId}`, {
      method: "DELETE",
      headers: bearer(hub),
    })
    expect(removed.status).toBe(204)
    await expectError(await addMember(r, hub, spaceId, phone), 403, "FORBIDDEN")

    const late = await register(r, "phone")
    await consentToJoin(r, hub, late)
    clock += 60 * 60 * 1000 + 1
    await expectError(await addMember(r, hub, spaceId, late), 403, "FORBIDDEN")
  })

  it("announcing a room claims it: a phone joining by discovery consents to the announcing hub", async () => {
    relay = await startTestRelay()
    const r = relay
    const hub = await register(r, "hub")
    const spaceId = await createSpace(r, hub)
    const neighbour = await register(r, "hub")
    const phone = await register(r, "phone")
    const roomId = randomBytes(32).toString("hex")
    const announced = await fetch(`${r.url}/v1/pairing/announcements`, {
      method: "POST",
      headers: { ...bearer(hub), "content-type": "application/json" },
      body: JSON.stringify({ roomId, name: "SG9tZQ==" }),
    })
    expect(announced.status).toBe(201)
    await expectError(await claim(r, neighbour, roomId), 403, "FORBIDDEN")
    expect((await postToRoom(r, phone, roomId)).status).toBe(201)
    expect((await addMember(r, hub, spaceId, phone, "?pending=1")).status).toBe(204)
    // A room someone already wrote into cannot be claimed afterwards to harvest consents.
    const open = randomBytes(32).toString("hex")
    expect((await postToRoom(r, phone, open)).status).toBe(201)
    await expectError(await claim(r, neighbour, open), 403, "FORBIDDEN")
    await expectError(await claim(r, phone, randomBytes(32).toString("hex")), 403, "FORBIDDEN")
  })
})

describe("issue 14 finding 3: no self-mail, and mail nobody reads expires", () => {
  it("refuses a device mailing itself, and deletes unread mail after mailboxTtlMs", async () => {
    let clock = 1_000_000
    relay = await startTestRelay({ now: () => clock, config: { mailboxTtlMs: 1000 } })
    const r = relay
    const { hub, phone } = await createSpaceWithMember(r)
    await expectError(await mail(r, phone, phone), 403, "FORBIDDEN")
    await expectError(await mail(r, hub, hub), 403, "FORBIDDEN")
    expect((await mail(r, hub, phone)).status).toBe(201)
    clock += 500
    expect((await mail(r, hub, phone)).status).toBe(201)
    clock += 600
    expect((await r.app.relay.sweep()).expiredMessages).toBe(1)
    const left = await fetch(`${r.url}/v1/mailbox?after=0`, { headers: bearer(phone) })
    expect(((await left.json()) as { messages: { seq: number }[] }).messages.map((m) => m.seq)).toEqual([2])
  })
})

describe("issue 14 finding 7: anonymous resource exhaustion", () => {
  it("bounds registrations per address (IPv6 by /64) and spaces per hub", async () => {
    relay = await startTestRelay({
      config: { rateLimitRegistrations: { perSecond: 0.001, burst: 3 }, trustedProxies: ["127.0.0.1"] },
    })
    const r = relay
    const registerFrom = (address: string) =>
      fetch(`${r.url}/v1/devices`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-forwarded-for": address },
        body: JSON.stringify({ kind: "hub" }),
      })
    // One /64, many interface ids: one budget.
    const statuses: number[] = []
    for (let i = 1; i <= 5; i++) statuses.push((await registerFrom(`2001:db8:5:6::${i}`)).status)
    expect(statuses).toEqual([201, 201, 201, 429, 429])
    expect((await registerFrom("2001:db8:5:7::1")).status).toBe(201)

    const hub = (await (await registerFrom("198.51.100.9")).json()) as TestDevice
    const made: number[] = []
    for (let i = 0; i < 6; i++) {
      made.push((await fetch(`${r.url}/v1/spaces`, { method: "POST", headers: bearer(hub) })).status)
    }
    expect(made).toEqual([201, 201, 201, 201, 403, 403])
  })

  it("keys the per-address request limit on the IPv6 /64", async () => {
    relay = await startTestRelay({
      config: { rateLimitPerAddress: { perSecond: 0.001, burst: 4 }, trustedProxies: ["127.0.0.1"] },
    })
    const r = relay
    const statuses: number[] = []
    for (let i = 1; i <= 6; i++) {
      const res = await fetch(`${r.url}/v1/me`, { headers: { "x-forwarded-for": `2001:db8:9:9::${i}` } })
      statuses.push(res.status)
    }
    expect(statuses).toEqual([401, 401, 401, 401, 429, 429])
  })

  it("bounds members per space, pushes per space, and each push's fan-out", async () => {
    const sender = new CountingPushSender()
    relay = await startTestRelay({
      push: { sender, publicKey: "B".repeat(87) },
      config: { ...pushConfig, maxMembersPerSpace: 3, rateLimitPushPerSpace: { perSecond: 0.001, burst: 2 } },
    })
    const r = relay
    const hub = await register(r, "hub")
    const spaceId = await createSpace(r, hub)
    const phones: TestDevice[] = []
    for (let i = 0; i < 4; i++) phones.push(await register(r, "phone"))
    for (const phone of phones.slice(0, 3)) await enroll(r, hub, spaceId, phone)
    const fourth = phones[3]!
    await consentToJoin(r, hub, fourth)
    await expectError(await addMember(r, hub, spaceId, fourth), 403, "FORBIDDEN")
    for (const phone of phones) {
      await fetch(`${r.url}/v1/push/subscription`, {
        method: "PUT",
        headers: { ...bearer(phone), "content-type": "application/json" },
        body: JSON.stringify(subscription()),
      })
    }
    const push = (to?: string[]) =>
      fetch(`${r.url}/v1/spaces/${spaceId}/push`, {
        method: "POST",
        headers: { ...bearer(hub), "content-type": "application/json" },
        body: JSON.stringify({ payload: "AQ==", ...(to ? { to } : {}) }),
      })
    // A `to` naming one phone 200 times still pushes it once.
    const first = phones[0]!.deviceId
    expect(await (await push(Array<string>(200).fill(first))).json()).toEqual({
      sent: 1,
      removed: 0,
      failed: 0,
    })
    expect(await (await push()).json()).toEqual({ sent: 3, removed: 0, failed: 0 })
    await expectError(await push(), 429, "RATE_LIMITED")
    expect(sender.sent).toHaveLength(4)
  })
})

describe("issue 14 finding 8: TURN credentials only for a household in use", () => {
  it("gives none to a hub that merely made a space, nor to a pending phone; a confirmed phone opens it", async () => {
    const stun = { urls: "stun:turn.home.example:3478" }
    const turn = { urls: "turn:turn.home.example:3478" }
    relay = await startTestRelay({ config: { iceServers: [stun, turn], turnSecret: "s".repeat(16) } })
    const r = relay
    const ask = async (device: TestDevice) =>
      (
        (await (await fetch(`${r.url}/v1/rtc/ice-servers`, { headers: bearer(device) })).json()) as {
          iceServers: { urls: string }[]
        }
      ).iceServers.map((s) => s.urls)
    const hub = await register(r, "hub")
    const spaceId = await createSpace(r, hub)
    expect(await ask(hub)).toEqual([stun.urls])
    const phone = await register(r, "phone")
    await enroll(r, hub, spaceId, phone, { pending: true })
    expect(await ask(hub)).toEqual([stun.urls])
    expect(await ask(phone)).toEqual([stun.urls])
    // Another hub as a "member" does not count as a phone.
    const otherHub = await register(r, "hub")
    await enroll(r, hub, spaceId, otherHub)
    expect(await ask(hub)).toEqual([stun.urls])
    await enroll(r, hub, spaceId, phone)
    expect(await ask(hub)).toEqual([stun.urls, turn.urls])
    expect(await ask(phone)).toEqual([stun.urls, turn.urls])
  })
})

describe("issue 14 finding 14: only the hub deletes a blob for everyone", () => {
  it("a member's DELETE drops its own claim; the other phone still reads the clip", async () => {
    relay = await startTestRelay()
    const r = relay
    const { hub, phone, spaceId } = await createSpaceWithMember(r)
    const other = await register(r, "phone")
    await enroll(r, hub, spaceId, other)
    const bytes = randomBytes(64)
    const blobId = sha256Hex(bytes)
    const put = await fetch(`${r.url}/v1/spaces/${spaceId}/blobs/${blobId}`, {
      method: "PUT",
      headers: { ...octets(hub), "x-vigil-recipients": `${phone.deviceId},${other.deviceId}` },
      body: bytes,
    })
    expect(put.status).toBe(201)
    const url = `${r.url}/v1/spaces/${spaceId}/blobs/${blobId}`
    expect((await fetch(url, { method: "DELETE", headers: bearer(phone) })).status).toBe(204)
    expect((await fetch(url, { headers: bearer(other) })).status).toBe(200)
    // The last recipient's drop releases it, as its acknowledgement would.
    expect((await fetch(url, { method: "DELETE", headers: bearer(other) })).status).toBe(204)
    await expectError(await fetch(url, { headers: bearer(hub) }), 404, "NOT_FOUND")
  })
})
