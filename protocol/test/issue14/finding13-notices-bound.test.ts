import { describe, expect, it } from "vitest"
import { randomBytes, toHex } from "../../src/bytes.ts"
import type { DeviceId, SpaceId } from "../../src/ids.ts"
import {
  isPairingNoticeBytes,
  isSealedPairingNoticeBytes,
  openSealedPairingNotice,
  sealPairingNotice,
  type PairingNotice,
} from "../../src/pairingApproval.ts"
import { newDiscoveryRoomId } from "../../src/pairingDiscovery.ts"
import { createPendingJoin, SpaceSession } from "../../src/spaceSession.ts"

const noPersist = async () => {}
const id = () => toHex(randomBytes(16)) as DeviceId

describe("issue 14 finding 13: pairing notices are sealed for the phones' epoch", () => {
  async function space() {
    const hub = await SpaceSession.create({
      groupId: randomBytes(16),
      self: { role: "hub", deviceId: id() },
      trust: () => true,
      persist: noPersist,
    })
    const pending = await createPendingJoin({ role: "phone", deviceId: id() })
    const { welcome } = await hub.addMember(pending.keyPackage)
    const phone = await SpaceSession.join({ welcome, pending, trust: () => true, persist: noPersist })
    const notice: PairingNotice = {
      kind: "pairing-pending",
      spaceId: toHex(hub.groupId) as SpaceId,
      roomId: newDiscoveryRoomId(),
      deviceId: id(),
      deviceName: "Mallory's phone",
      code: "493817",
      expiresAt: Date.now() + 60_000,
    }
    return { hub, phone, notice, hubKey: hub.members()[0]!.signaturePublicKey }
  }

  it("the relay reads neither the new phone's name nor the code; the phone in that epoch opens it", async () => {
    const { hub, phone, notice, hubKey } = await space()
    const sealed = await sealPairingNotice(notice, hub, hub.signaturePrivateKey, hub.signature)
    expect(isSealedPairingNoticeBytes(sealed)).toBe(true)
    expect(isPairingNoticeBytes(sealed)).toBe(false)
    const visible = new TextDecoder("latin1").decode(sealed)
    expect(visible).not.toContain("Mallory")
    expect(visible).not.toContain("493817")
    expect(await openSealedPairingNotice(sealed, phone, hubKey, phone.signature)).toEqual(notice)
  })

  it("a notice sealed for another epoch is refused (EPOCH_MISMATCH), one changed in transit too", async () => {
    const { hub, phone, notice, hubKey } = await space()
    const sealed = await sealPairingNotice(notice, hub, hub.signaturePrivateKey, hub.signature)
    const { commit } = await hub.rotate()
    await phone.open(commit, 0)
    await expect(openSealedPairingNotice(sealed, phone, hubKey, phone.signature)).rejects.toMatchObject({
      code: "EPOCH_MISMATCH",
    })
    const fresh = await sealPairingNotice(notice, hub, hub.signaturePrivateKey, hub.signature)
    const flipped = fresh.slice()
    flipped[flipped.length - 1]! ^= 1
    await expect(openSealedPairingNotice(flipped, phone, hubKey, phone.signature)).rejects.toMatchObject({
      code: "SIGNATURE_INVALID",
    })
    // Signed by a member that is not the hub: refused after decryption.
    const byPhone = await sealPairingNotice(notice, phone, phone.signaturePrivateKey, phone.signature)
    await expect(openSealedPairingNotice(byPhone, phone, hubKey, phone.signature)).rejects.toMatchObject({
      code: "SIGNATURE_INVALID",
    })
  })
})
