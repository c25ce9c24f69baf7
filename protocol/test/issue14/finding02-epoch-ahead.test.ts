import { describe, expect, it } from "vitest"
import { randomBytes, toHex } from "../../src/bytes.ts"
import type { DeviceIdentity, TrustPolicy } from "../../src/credentials.ts"
import type { DeviceId } from "../../src/ids.ts"
import { claimedEpoch, createPendingJoin, SpaceSession } from "../../src/spaceSession.ts"
import { forgedPrivateMessage } from "./forgedEpoch.ts"

const noPersist = async () => {}

describe("issue 14 finding 2: a later epoch in a plaintext header is a hint, never a state change", () => {
  it("a forged message claiming epoch 2^62 is refused as EPOCH_AHEAD and leaves the state as it was", async () => {
    const hub = await SpaceSession.create({
      groupId: randomBytes(16),
      self: { role: "hub", deviceId: toHex(randomBytes(16)) as DeviceId },
      trust: () => true,
      persist: noPersist,
    })
    const hubKey = toHex(hub.members()[0]!.signaturePublicKey)
    const trust: TrustPolicy = (who: DeviceIdentity, key) => who.role === "phone" || toHex(key) === hubKey
    const pending = await createPendingJoin({ role: "phone", deviceId: toHex(randomBytes(16)) as DeviceId })
    const { welcome } = await hub.addMember(pending.keyPackage)
    const saved: Uint8Array[] = []
    const phone = await SpaceSession.join({
      welcome,
      pending,
      trust,
      persist: async (s) => void saved.push(s),
    })
    const before = phone.encode()
    const savesBefore = saved.length

    const forged = forgedPrivateMessage(phone.groupId, 2n ** 62n)
    expect(forged.length).toBe(150)
    expect(claimedEpoch(forged)).toBe(2n ** 62n)
    await expect(phone.open(forged, 0)).rejects.toMatchObject({ code: "EPOCH_AHEAD" })

    expect(phone.encode()).toEqual(before)
    expect(saved.length).toBe(savesBefore)
    // The real traffic that follows still opens.
    const { commit } = await hub.rotate()
    expect(await phone.open(commit, 0)).toMatchObject({ kind: "commit", removedSelf: false })
  })
})
