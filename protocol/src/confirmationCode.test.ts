import { describe, expect, it } from "vitest"
import { randomBytes, toHex } from "./bytes.ts"
import {
  checkPairingNonce,
  confirmationCode,
  newPairingNonce,
  pairingNonceCommitment,
} from "./confirmationCode.ts"
import { CryptoError } from "./errors.ts"
import type { DeviceId } from "./ids.ts"
import { createPendingJoin, SpaceSession } from "./spaceSession.ts"

const id = () => toHex(randomBytes(16)) as DeviceId

describe("confirmation code", () => {
  it("is six digits, stable for an authenticator and nonce, and different when either changes", async () => {
    const a = randomBytes(32)
    const n = randomBytes(32)
    expect(await confirmationCode(a, n)).toMatch(/^[0-9]{6}$/)
    expect(await confirmationCode(a, n)).toBe(await confirmationCode(a.slice(), n.slice()))
    const byAuthenticator = new Set(
      await Promise.all(Array.from({ length: 50 }, () => confirmationCode(randomBytes(32), n))),
    )
    expect(byAuthenticator.size).toBeGreaterThan(45)
    // The nonce the phone reveals after the Welcome changes the code for the same epoch: an epoch chosen
    // by someone in the middle before the reveal matches the hub's code only by chance.
    const byNonce = new Set(
      await Promise.all(Array.from({ length: 50 }, () => confirmationCode(a, randomBytes(32)))),
    )
    expect(byNonce.size).toBeGreaterThan(45)
    await expect(confirmationCode(a, randomBytes(31))).rejects.toThrow(CryptoError)
  })

  it("a revealed nonce must be the one the join request committed to", async () => {
    const { nonce, commitment } = await newPairingNonce()
    expect(commitment).toEqual(await pairingNonceCommitment(nonce))
    await expect(checkPairingNonce(nonce, commitment)).resolves.toBeUndefined()
    const other = nonce.slice()
    other[0]! ^= 1
    await expect(checkPairingNonce(other, commitment)).rejects.toThrow(CryptoError)
    await expect(checkPairingNonce(nonce.subarray(1), commitment)).rejects.toThrow(CryptoError)
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
    const { nonce } = await newPairingNonce()
    expect(await confirmationCode(joined.epochAuthenticator, nonce)).toBe(
      await confirmationCode(hub.epochAuthenticator, nonce),
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
    expect(await confirmationCode(fooled.epochAuthenticator, nonce)).not.toBe(
      await confirmationCode(hub.epochAuthenticator, nonce),
    )
  })
})
