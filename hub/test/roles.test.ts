/**
 * Roles (issue 16; protocol/src/roles.ts), enforced by the hub on signed requests, on the in-memory relay:
 * the first phone is an owner and later ones members; a member's request to remove a phone, rename a
 * camera, open a join link, change a role or approve a new phone changes nothing and is answered with the
 * roster; owners promote and demote; a household always keeps an owner.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest"
import type { CameraId, DeviceRequest, DeviceRoster } from "@vigil/protocol"
import { memoryHousehold, rosterWhere, type MemoryHousehold } from "./support/memoryHousehold.ts"

let home: MemoryHousehold
beforeEach(async () => {
  home = await memoryHousehold([{ id: "front-door", name: "Front door" }])
})
afterEach(() => home.close())

const rolesIn = (r: DeviceRoster) => Object.fromEntries(r.devices.map((d) => [d.deviceId, d.role]))
const hubRoles = () => Object.fromEntries(home.hub.phones.map((p) => [p.deviceId, p.role]))
let clock = Date.now()
/** A fresh issuedAt for each request (the hub refuses one not later than the last it took). */
const issuedAt = () => (clock = Math.max(clock + 1, Date.now()))

describe("roles at the hub", () => {
  it("a member's requests for owners' changes are refused, answered with the roster, and change nothing", async () => {
    const [owner, member] = await home.pairPhones(["Owner", "Member"])
    const [a, b] = [owner!, member!]
    expect(hubRoles()).toEqual({ [a.deviceId]: "owner", [b.deviceId]: "member" })
    const first = await rosterWhere(b, (r) => r.devices.length === 2)
    expect(rolesIn(first)).toEqual({ [a.deviceId]: "owner", [b.deviceId]: "member" })

    const seen = b.rosters.length
    const refusals: DeviceRequest[] = [
      { kind: "device-remove", deviceId: b.deviceId, target: a.deviceId, issuedAt: issuedAt() },
      { kind: "set-role", deviceId: b.deviceId, target: b.deviceId, role: "owner", issuedAt: issuedAt() },
      {
        kind: "rename-camera",
        deviceId: b.deviceId,
        cameraId: "front-door" as CameraId,
        name: "Mine",
        issuedAt: issuedAt(),
      },
      { kind: "pairing-open", deviceId: b.deviceId, roomId: "ab".repeat(32), issuedAt: issuedAt() },
    ]
    for (const request of refusals) await b.sendDeviceRequest(request)
    await vi.waitFor(() => expect(home.logCount("refused a device request")).toBe(4), { timeout: 15_000 })
    // Each refusal answered with the roster, to the member only; nothing changed.
    await vi.waitFor(
      async () => {
        await b.follow()
        expect(b.rosters.length - seen).toBe(4)
      },
      { timeout: 15_000 },
    )
    expect(hubRoles()).toEqual({ [a.deviceId]: "owner", [b.deviceId]: "member" })
    expect(home.hub.cameras[0]!.name).toBe("Front door")
    expect(home.logCount("watching a room for a phone invited by a paired phone")).toBe(0)
    expect(home.logCount("phone removed at another phone's request")).toBe(0)
    await home.hub.drained()
    await a.follow()
    expect(a.session!.members().length).toBe(3)

    // A member may leave on its own.
    await b.sendDeviceRequest({
      kind: "device-remove",
      deviceId: b.deviceId,
      target: b.deviceId,
      issuedAt: issuedAt(),
    })
    await vi.waitFor(() => expect(home.hub.phones.map((p) => p.deviceId)).toEqual([a.deviceId]), {
      timeout: 15_000,
    })
  })

  it("an owner promotes and demotes; the last owner can neither step down nor leave while others stay", async () => {
    const [owner, member] = await home.pairPhones(["Owner", "Member"])
    const [a, b] = [owner!, member!]
    await a.sendDeviceRequest({
      kind: "set-role",
      deviceId: a.deviceId,
      target: b.deviceId,
      role: "owner",
      issuedAt: issuedAt(),
    })
    for (const p of [a, b]) await rosterWhere(p, (r) => rolesIn(r)[b.deviceId] === "owner")
    // With two owners A may step down; then B, the last owner, may not, nor leave.
    await a.sendDeviceRequest({
      kind: "set-role",
      deviceId: a.deviceId,
      target: a.deviceId,
      role: "member",
      issuedAt: issuedAt(),
    })
    await rosterWhere(b, (r) => rolesIn(r)[a.deviceId] === "member")
    await b.sendDeviceRequest({
      kind: "set-role",
      deviceId: b.deviceId,
      target: b.deviceId,
      role: "member",
      issuedAt: issuedAt(),
    })
    await b.sendDeviceRequest({
      kind: "device-remove",
      deviceId: b.deviceId,
      target: b.deviceId,
      issuedAt: issuedAt(),
    })
    await vi.waitFor(() => expect(home.logCount("refused a device request")).toBe(2), { timeout: 15_000 })
    expect(hubRoles()).toEqual({ [a.deviceId]: "member", [b.deviceId]: "owner" })
    expect(home.logs.filter((l) => l.includes("the last owner cannot"))).toHaveLength(2)

    // The roles outlive a restart.
    await home.reopen()
    expect(hubRoles()).toEqual({ [a.deviceId]: "member", [b.deviceId]: "owner" })

    // The hub's terminal is the root of trust: it may remove the last owner; the eldest phone left takes over.
    await home.hub.removePhone(b.deviceId)
    expect(hubRoles()).toEqual({ [a.deviceId]: "owner" })
    await expect(home.hub.setRole(a.deviceId, "member")).rejects.toMatchObject({ code: "NOT_AN_OWNER" })
  })

  it("only owners are asked to approve a new phone, and a member's approval does not pair it", async () => {
    // One discovery session: the hub's terminal says yes to the first two phones, never to the third.
    const asked: string[] = []
    let yes: (v: boolean) => void = () => {}
    const discovery = home.hub.startDiscovery({
      confirm: (request) =>
        new Promise<boolean>((resolve) => {
          asked.push(request.deviceName)
          if (request.deviceName !== "Third") yes = resolve
        }),
    })
    try {
      const a = await home.phone("Owner")
      await a.pair(
        () => asked.length,
        () => yes(true),
      )
      const b = await home.phone("Member")
      await b.pair(
        () => asked.length,
        () => yes(true),
      )
      const c = await home.phone("Third")
      const code = await c.join()
      // A, the owner, was told of B's request and now of C's; B, a member, of none.
      await vi.waitFor(
        async () => {
          await a.follow()
          expect(a.notices.map((n) => n.deviceName)).toEqual(["Member", "Third"])
        },
        { timeout: 15_000 },
      )
      await b.follow()
      expect(b.notices).toHaveLength(0)
      const notice = a.notices[1]!
      await c.confirm(code)
      await b.approve(notice.roomId, c.deviceId, notice.code, b.session!.groupId)
      await vi.waitFor(() => expect(home.logCount("refused a pairing approval")).toBe(1), { timeout: 15_000 })
      expect(home.logs.filter((l) => l.includes("only an owner can approve a new phone"))).toHaveLength(1)
      expect(home.hub.phones).toHaveLength(2)
      await a.approve(notice.roomId, c.deviceId, notice.code, a.session!.groupId)
      expect(await c.result()).toMatchObject({ accepted: true })
      expect(hubRoles()[c.deviceId]).toBe("member")
    } finally {
      discovery.stop()
    }
  })
})
