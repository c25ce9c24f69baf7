import { randomBytes } from "node:crypto"
import { afterEach, describe, expect, it } from "vitest"
import { bearer, expectError, register, startTestRelay, type TestDevice, type TestRelay } from "./harness.ts"

let clock = 1_700_000_000_000
let relay: TestRelay | undefined
afterEach(async () => {
  await relay?.close()
  relay = undefined
})

async function start(config = {}): Promise<TestRelay> {
  clock = 1_700_000_000_000
  relay = await startTestRelay({ now: () => clock, config: { announcementTtlMs: 60_000, ...config } })
  return relay
}

const roomId = () => randomBytes(32).toString("hex")
const name = btoa("Front door")

function announce(r: TestRelay, hub: TestDevice, body: unknown, forwardedFor?: string): Promise<Response> {
  const headers: Record<string, string> = { ...bearer(hub), "content-type": "application/json" }
  if (forwardedFor !== undefined) headers["x-forwarded-for"] = forwardedFor
  return fetch(`${r.url}/v1/pairing/announcements`, { method: "POST", headers, body: JSON.stringify(body) })
}

async function list(
  r: TestRelay,
  device: TestDevice,
  forwardedFor?: string,
): Promise<{ roomId: string; name: string }[]> {
  const headers: Record<string, string> = bearer(device)
  if (forwardedFor !== undefined) headers["x-forwarded-for"] = forwardedFor
  const res = await fetch(`${r.url}/v1/pairing/announcements`, { headers })
  expect(res.status).toBe(200)
  return ((await res.json()) as { announcements: { roomId: string; name: string }[] }).announcements
}

describe("pairing announcements", () => {
  it("lists a hub's announcement to a phone on the same address, until it expires", async () => {
    const r = await start()
    const hub = await register(r, "hub")
    const phone = await register(r, "phone")
    const room = roomId()
    const res = await announce(r, hub, { roomId: room, name })
    expect(res.status).toBe(201)
    expect(await res.json()).toEqual({ roomId: room, expiresAt: clock + 60_000 })
    expect(await list(r, phone)).toEqual([
      { roomId: room, name, deviceId: hub.deviceId, announcedAt: clock, expiresAt: clock + 60_000 },
    ])
    clock += 60_000
    expect(await list(r, phone)).toEqual([])
  })

  it("lets only a hub announce, validates, and lets only the announcer withdraw", async () => {
    const r = await start()
    const hub = await register(r, "hub")
    const other = await register(r, "hub")
    const phone = await register(r, "phone")
    await expectError(await announce(r, phone, { roomId: roomId(), name }), 403, "FORBIDDEN")
    await expectError(await announce(r, hub, { roomId: "abc", name }), 400, "VALIDATION")
    await expectError(await announce(r, hub, { roomId: roomId(), name: "not base64!" }), 400, "VALIDATION")
    await expectError(await announce(r, hub, { roomId: roomId(), name, extra: 1 }), 400, "VALIDATION")
    await expectError(
      await announce(r, hub, { roomId: roomId(), name: Buffer.alloc(257).toString("base64") }),
      413,
      "TOO_LARGE",
    )
    await expectError(await fetch(`${r.url}/v1/pairing/announcements`), 401, "UNAUTHENTICATED")

    const room = roomId()
    expect((await announce(r, hub, { roomId: room, name })).status).toBe(201)
    await expectError(await announce(r, other, { roomId: room, name }), 403, "FORBIDDEN")
    const withdraw = (device: TestDevice) =>
      fetch(`${r.url}/v1/pairing/announcements/${room}`, { method: "DELETE", headers: bearer(device) })
    expect((await withdraw(other)).status).toBe(204)
    expect(await list(r, phone)).toHaveLength(1)
    expect((await withdraw(hub)).status).toBe(204)
    expect(await list(r, phone)).toEqual([])
  })

  it("ignores X-Forwarded-For unless the peer is a trusted proxy", async () => {
    const r = await start()
    const hub = await register(r, "hub")
    const phone = await register(r, "phone")
    expect((await announce(r, hub, { roomId: roomId(), name }, "198.51.100.1")).status).toBe(201)
    // The header is ignored: both are 127.0.0.1 to the relay.
    expect(await list(r, phone, "203.0.113.50")).toHaveLength(1)
  })

  it("keys announcements by the forwarded address behind a trusted proxy", async () => {
    const r = await start({ trustedProxies: ["127.0.0.1"], maxAnnouncementsPerAddress: 2 })
    const hub = await register(r, "hub")
    const phone = await register(r, "phone")
    const home = "198.51.100.1"
    expect((await announce(r, hub, { roomId: roomId(), name }, `6.6.6.6, ${home}`)).status).toBe(201)
    expect(await list(r, phone, home)).toHaveLength(1)
    // A client cannot pick the group by prepending a hop.
    expect(await list(r, phone, `${home}, 203.0.113.50`)).toEqual([])
    expect(await list(r, phone, "203.0.113.50")).toEqual([])
    // IPv6: devices of one home share the /64.
    expect((await announce(r, hub, { roomId: roomId(), name }, "2001:db8:1:2::10")).status).toBe(201)
    expect(await list(r, phone, "2001:db8:1:2:abcd::99")).toHaveLength(1)
    expect(await list(r, phone, "2001:db8:1:3::10")).toEqual([])

    // A hub's new room replaces its old one; devices registered later find the address full.
    expect((await announce(r, hub, { roomId: roomId(), name }, home)).status).toBe(201)
    expect(await list(r, phone, home)).toHaveLength(1)
    const second = await register(r, "hub")
    expect((await announce(r, second, { roomId: roomId(), name }, home)).status).toBe(201)
    const third = await register(r, "hub")
    await expectError(await announce(r, third, { roomId: roomId(), name }, home), 429, "ANNOUNCEMENTS_FULL")
  })
})
