import { describe, expect, it } from "vitest"
import { randomBytes, toHex } from "../../src/bytes.ts"
import type { DeviceIdentity, TrustPolicy } from "../../src/credentials.ts"
import type { DeviceId } from "../../src/ids.ts"
import { createPendingJoin, SpaceSession } from "../../src/spaceSession.ts"

const noPersist = async () => {}
const phoneId = () => ({ role: "phone", deviceId: toHex(randomBytes(16)) as DeviceId }) as const

describe("issue 14 finding 11: a Welcome counts only when the pinned hub key signed it", () => {
  async function spaceWithOnePhone() {
    const hub = await SpaceSession.create({
      groupId: randomBytes(16),
      self: { role: "hub", deviceId: toHex(randomBytes(16)) as DeviceId },
      trust: () => true,
      persist: noPersist,
    })
    const hubKey = hub.members()[0]!.signaturePublicKey
    // The phones' trust policy: the hub's key pinned from the invite, phones vouched for by the hub.
    const trust: TrustPolicy = (who: DeviceIdentity, key) =>
      who.role === "phone" || toHex(key) === toHex(hubKey)
    const pendingB = await createPendingJoin(phoneId())
    const { welcome } = await hub.addMember(pendingB.keyPackage)
    const phoneB = await SpaceSession.join({ welcome, pending: pendingB, trust, persist: noPersist })
    return { hub, hubKey, trust, phoneB }
  }

  it("a Welcome that a member phone made from its own copy of the group is refused", async () => {
    const { hubKey, trust, phoneB } = await spaceWithOnePhone()
    const joining = await createPendingJoin(phoneId())
    // Phone B commits locally (the hub would never accept it): a fork with the real hub leaf and group id.
    const { welcome: forked } = await phoneB.addMember(joining.keyPackage)

    await expect(
      SpaceSession.join({ welcome: forked, pending: joining, trust, persist: noPersist, signer: hubKey }),
    ).rejects.toMatchObject({ code: "UNTRUSTED_CREDENTIAL" })
  })

  it("the hub's own Welcome passes the same check", async () => {
    const { hub, hubKey, trust } = await spaceWithOnePhone()
    const joining = await createPendingJoin(phoneId())
    const { welcome } = await hub.addMember(joining.keyPackage)
    const phone = await SpaceSession.join({
      welcome,
      pending: joining,
      trust,
      persist: noPersist,
      signer: hubKey,
    })
    expect(phone.members().map((m) => m.identity.role)).toEqual(["hub", "phone", "phone"])
  })
})
