import { describe, expect, it } from "vitest"
import { randomBytes, toHex } from "./bytes.ts"
import { confirmationCode } from "./confirmationCode.ts"
import type { DeviceId } from "./ids.ts"
import { createPendingJoin, SpaceSession } from "./spaceSession.ts"

const id = () => toHex(randomBytes(16)) as DeviceId

describe("confirmation code", () => {
  it("is six digits, stable for an authenticator, and different for another", async () => {
    const a = randomBytes(32)
    expect(await confirmationCode(a)).toMatch(/^[0-9]{6}$/)
    expect(await confirmationCode(a)).toBe(await confirmationCode(a.slice()))
    const codes = new Set(
      await Promise.all(Array.from({ length: 50 }, () => confirmationCode(randomBytes(32)))),
    )
    expect(codes.size).toBeGreaterThan(45)
  })

  it("matches on hub and phone after the add, and differs for a key package swapped by the relay", async () => {
    const hub = await SpaceSession.create({
      groupId: randomBytes(16),
      self: { role: "hub", deviceId: id() },
      trust: () => true,
      persist: async () => {},
    })
    const phone = await createPendingJoin({ role: "phone", deviceId: id() })
    const { welcome } = await hub.addMember(phone.keyPackage)
    const joined = await SpaceSession.join({
      welcome,
      pending: phone,
      trust: () => true,
      persist: async () => {},
    })
    expect(await confirmationCode(joined.epochAuthenticator)).toBe(
      await confirmationCode(hub.epochAuthenticator),
    )

    // A relay in the middle adds its own key package to the hub and runs a separate group with the phone.
    const mitmGroup = await SpaceSession.create({
      groupId: hub.groupId,
      self: { role: "hub", deviceId: id() },
      trust: () => true,
      persist: async () => {},
    })
    const victim = await createPendingJoin({ role: "phone", deviceId: id() })
    const fake = await mitmGroup.addMember(victim.keyPackage)
    const fooled = await SpaceSession.join({
      welcome: fake.welcome,
      pending: victim,
      trust: () => true,
      persist: async () => {},
    })
    expect(await confirmationCode(fooled.epochAuthenticator)).not.toBe(
      await confirmationCode(hub.epochAuthenticator),
    )
  })
})
