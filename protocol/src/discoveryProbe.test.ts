import { describe, expect, it } from "vitest"
import { randomBytes, toHex } from "./bytes.ts"
import { confirmationCode } from "./confirmationCode.ts"
import { CodecError, CryptoError, ProtocolStateError } from "./errors.ts"
import type { DeviceId, SpaceId } from "./ids.ts"
import {
  checkPairingConfirmation,
  encodePairingConfirmation,
  joinHousehold,
  joinProbe,
  openPairingResult,
  openProbe,
  sealPairingResult,
  signPairingResult,
  type PairingResult,
} from "./discoveryProbe.ts"
import { utf8 } from "./bytes.ts"
import { createPendingJoin, pendingSignatureKeys, SpaceSession } from "./spaceSession.ts"

const id = () => toHex(randomBytes(16)) as DeviceId

/** A household of hub + one phone, and a new phone that posted a join (first key package) to it. */
async function setting() {
  const hubId = id()
  const household = await SpaceSession.create({
    groupId: randomBytes(16),
    self: { role: "hub", deviceId: hubId },
    trust: () => true,
    persist: async () => {},
  })
  const oldPhone = id()
  await household.addMember((await createPendingJoin({ role: "phone", deviceId: oldPhone })).keyPackage)
  const phoneId = id()
  const first = await createPendingJoin({ role: "phone", deviceId: phoneId })
  const second = await createPendingJoin(
    { role: "phone", deviceId: phoneId },
    undefined,
    pendingSignatureKeys(first),
  )
  return { hubId, household, oldPhone, phoneId, first, second }
}

describe("the probe of a pairing by discovery", () => {
  it("shows the joiner a group of two with a fresh group id; both sides compute the same code", async () => {
    const s = await setting()
    const hub = await openProbe({
      hubDeviceId: s.hubId,
      join: { deviceId: s.phoneId, keyPackage: s.first.keyPackage },
      suite: s.household.suite,
    })
    const { probe, hub: hubMember } = await joinProbe(hub.welcome, s.first, s.hubId)
    expect(
      probe
        .members()
        .map((m) => m.identity.deviceId)
        .sort(),
    ).toEqual([s.hubId, s.phoneId].sort())
    expect(toHex(probe.groupId)).not.toBe(toHex(s.household.groupId))
    expect(probe.groupId).toHaveLength(16)
    const hubLeafKey = s.household.members()[0]!.signaturePublicKey
    expect(toHex(hubMember.signaturePublicKey)).not.toBe(toHex(hubLeafKey))
    const nonce = randomBytes(32)
    expect(await confirmationCode(probe.epochAuthenticator, nonce)).toBe(
      await confirmationCode(hub.probe.epochAuthenticator, nonce),
    )
    // Answered by another device than the one that announced the room: refused.
    const again = await openProbe({
      hubDeviceId: id(),
      join: { deviceId: s.phoneId, keyPackage: s.second.keyPackage },
      suite: s.household.suite,
    })
    await expect(joinProbe(again.welcome, s.second, s.hubId)).rejects.toMatchObject({
      code: "UNTRUSTED_CREDENTIAL",
    })
  })

  it("refuses a join whose key package names another device", async () => {
    const s = await setting()
    await expect(
      openProbe({
        hubDeviceId: s.hubId,
        join: { deviceId: id(), keyPackage: s.first.keyPackage },
        suite: s.household.suite,
      }),
    ).rejects.toMatchObject({ code: "UNTRUSTED_CREDENTIAL" })
  })

  it("the sealed confirmation gives the hub the household key package, for this code and signature key only", async () => {
    const s = await setting()
    const hub = await openProbe({
      hubDeviceId: s.hubId,
      join: { deviceId: s.phoneId, keyPackage: s.first.keyPackage },
      suite: s.household.suite,
    })
    const { probe } = await joinProbe(hub.welcome, s.first, s.hubId)
    const code = "123456"
    const expected = { deviceId: s.phoneId, code, phoneKey: hub.phoneKey }
    const sealed = await probe.seal(encodePairingConfirmation(s.phoneId, code, s.second.keyPackage))
    const opened = await hub.probe.open(sealed, hub.probe.ownLeafIndex)
    if (opened.kind !== "application") throw new Error("expected an application message")
    expect(checkPairingConfirmation(opened.data, expected).keyPackage).toEqual(s.second.keyPackage)
    expect(() => checkPairingConfirmation(opened.data, { ...expected, deviceId: id() })).toThrow(CryptoError)
    expect(() => checkPairingConfirmation(opened.data, { ...expected, code: "654321" })).toThrow(CryptoError)
    // A key package with another signature key (a relay's, say) is refused even for the right code.
    const foreign = await createPendingJoin({ role: "phone", deviceId: s.phoneId })
    const swapped = encodePairingConfirmation(s.phoneId, code, foreign.keyPackage)
    expect(() => checkPairingConfirmation(swapped, expected)).toThrow(/another signature key/)
    expect(() => checkPairingConfirmation(utf8('{"v":1,"kind":"pairing-confirm"}'), expected)).toThrow(
      CodecError,
    )
    // A replay of the same MLS message is refused by the MLS layer.
    await expect(hub.probe.open(sealed, hub.probe.ownLeafIndex)).rejects.toThrow()
  })

  it("an accepted result brings the phone into the household under the hub key it names; a refusal names nothing", async () => {
    const s = await setting()
    const hub = await openProbe({
      hubDeviceId: s.hubId,
      join: { deviceId: s.phoneId, keyPackage: s.first.keyPackage },
      suite: s.household.suite,
    })
    const { probe, hub: probeHub } = await joinProbe(hub.welcome, s.first, s.hubId)
    const { welcome } = await s.household.addMember(s.second.keyPackage)
    const hubKey = s.household.members()[0]!.signaturePublicKey
    const accepted: PairingResult = {
      kind: "pairing-result",
      to: s.phoneId,
      accepted: true,
      spaceId: toHex(s.household.groupId) as SpaceId,
      epoch: s.household.epoch.toString(),
      hubKey,
      welcome,
    }
    const open = async (sealed: Uint8Array) => {
      const incoming = await probe.open(sealed, probeHub.leafIndex)
      if (incoming.kind !== "application") throw new Error("expected an application message")
      return openPairingResult(incoming.data, probe.groupId, probeHub.signaturePublicKey, probe.signature)
    }
    const result = await open(await sealPairingResult(accepted, hub.probe))
    expect(result).toEqual(accepted)
    if (!result.accepted) throw new Error("expected acceptance")
    const { session, hub: member } = await joinHousehold(result, s.second, s.hubId)
    expect(toHex(session.groupId)).toBe(accepted.spaceId)
    expect(member.signaturePublicKey).toEqual(hubKey)
    expect(session.members().map((m) => m.identity.deviceId)).toContain(s.oldPhone)

    // The result names another epoch or another hub key than the Welcome's: refused.
    await expect(joinHousehold({ ...result, epoch: "99" }, s.second, s.hubId)).rejects.toBeInstanceOf(
      ProtocolStateError,
    )
    const other = (await createPendingJoin({ role: "phone", deviceId: s.phoneId })).keyPackage
    await expect(joinHousehold({ ...result, hubKey: other }, s.second, s.hubId)).rejects.toMatchObject({
      code: expect.stringMatching(/UNTRUSTED_CREDENTIAL|SIGNATURE_INVALID/),
    })

    const refused = await open(
      await sealPairingResult({ kind: "pairing-result", to: s.phoneId, accepted: false }, hub.probe),
    )
    expect(refused).toEqual({ kind: "pairing-result", to: s.phoneId, accepted: false })
  })

  it("a result opens only under the probe's hub key and group id", async () => {
    const s = await setting()
    const hub = await openProbe({
      hubDeviceId: s.hubId,
      join: { deviceId: s.phoneId, keyPackage: s.first.keyPackage },
      suite: s.household.suite,
    })
    const { probe, hub: probeHub } = await joinProbe(hub.welcome, s.first, s.hubId)
    const body = { kind: "pairing-result", to: s.phoneId, accepted: false }
    const signed = await signPairingResult(
      body,
      hub.probe.groupId,
      hub.probe.signaturePrivateKey,
      hub.probe.signature,
    )
    const key = probeHub.signaturePublicKey
    expect(await openPairingResult(signed, probe.groupId, key, probe.signature)).toEqual(body)
    await expect(openPairingResult(signed, randomBytes(16), key, probe.signature)).rejects.toThrow(
      CryptoError,
    )
    // The phone (which also holds a key in the probe) cannot forge the hub's answer.
    const forged = await signPairingResult(body, probe.groupId, probe.signaturePrivateKey, probe.signature)
    await expect(openPairingResult(forged, probe.groupId, key, probe.signature)).rejects.toThrow(CryptoError)
    // An acceptance missing the household's Welcome does not parse.
    const partial = await signPairingResult(
      { ...body, accepted: true },
      hub.probe.groupId,
      hub.probe.signaturePrivateKey,
      hub.probe.signature,
    )
    await expect(openPairingResult(partial, probe.groupId, key, probe.signature)).rejects.toThrow(CodecError)
  })
})
