import { describe, expect, it } from "vitest"
import type { DeviceId } from "./ids.ts"
import { newPhoneRole, roleOf, roleRefusal, type RoledPhone } from "./roles.ts"

const id = (c: string) => c.repeat(32) as DeviceId
const [a, b, c] = [id("a"), id("b"), id("c")]
const owner = (deviceId: DeviceId): RoledPhone => ({ deviceId, role: "owner" })
const member = (deviceId: DeviceId): RoledPhone => ({ deviceId, role: "member" })

describe("roles", () => {
  it("the first phone is an owner, later ones members; phones paired before roles count as owners", () => {
    expect(newPhoneRole([])).toBe("owner")
    expect(newPhoneRole([owner(a)])).toBe("member")
    expect(newPhoneRole([member(a)])).toBe("owner")
    expect(roleOf({ deviceId: a })).toBe("owner")
    expect(newPhoneRole([{ deviceId: a }])).toBe("member")
  })

  it("owners change things; members may only leave", () => {
    const home = [owner(a), member(b), member(c)]
    for (const act of [
      { kind: "remove-phone", target: c },
      { kind: "set-role", target: c, role: "owner" },
      { kind: "rename-camera" },
      { kind: "invite" },
      { kind: "approve-pairing" },
    ] as const) {
      expect(roleRefusal(home, a, act), act.kind).toBeUndefined()
      expect(roleRefusal(home, b, act), act.kind).toMatch(/only an owner/)
    }
    expect(roleRefusal(home, b, { kind: "remove-phone", target: b })).toBeUndefined()
    expect(roleRefusal(home, b, { kind: "set-role", target: b, role: "owner" })).toMatch(/only an owner/)
  })

  it("a household keeps an owner: the last one can neither leave nor be demoted while others stay", () => {
    const home = [owner(a), member(b)]
    expect(roleRefusal(home, a, { kind: "remove-phone", target: a })).toMatch(/last owner/)
    expect(roleRefusal(home, a, { kind: "set-role", target: a, role: "member" })).toMatch(/last owner/)
    // Alone, the owner may leave; with a second owner, either may step down.
    expect(roleRefusal([owner(a)], a, { kind: "remove-phone", target: a })).toBeUndefined()
    const two = [owner(a), owner(b)]
    expect(roleRefusal(two, a, { kind: "set-role", target: a, role: "member" })).toBeUndefined()
    expect(roleRefusal(two, a, { kind: "remove-phone", target: b })).toBeUndefined()
  })

  it("refuses strangers and unknown targets", () => {
    const home = [owner(a)]
    expect(roleRefusal(home, c, { kind: "invite" })).toMatch(/not paired/)
    expect(roleRefusal(home, a, { kind: "remove-phone", target: c })).toMatch(/not paired/)
    expect(roleRefusal(home, a, { kind: "set-role", target: c, role: "owner" })).toMatch(/not paired/)
  })
})
