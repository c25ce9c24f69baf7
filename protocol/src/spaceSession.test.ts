import { describe, expect, it } from "vitest"
import { fromHex, randomBytes, toHex } from "./bytes.ts"
import { decryptClip, encryptClip } from "./clipFraming.ts"
import { exportClipKey } from "./mediaKeys.ts"
import type { DeviceIdentity, TrustPolicy } from "./credentials.ts"
import { VigilError } from "./errors.ts"
import { openHubMessage, signHubMessage, type ClipAnnouncement } from "./hubMessages.ts"
import type { BlobId, CameraId, ClipId, DeviceId, SpaceId } from "./ids.ts"
import type { PendingJoin } from "./spaceSession.ts"
import { createRejoinRequest, openRejoinRequest } from "./rejoin.ts"
import {
  createProposal,
  encodeMlsMessage,
  type CiphersuiteImpl,
  type ClientState,
  type Proposal,
} from "ts-mls"
import { createPendingJoin, decodeKeyPackage, pendingSignatureKeys, SpaceSession } from "./spaceSession.ts"

const id = () => toHex(randomBytes(16))
const noPersist = async () => {}

async function setupSpace(phoneCount: number) {
  const hubIdentity: DeviceIdentity = { role: "hub", deviceId: id() as DeviceId }
  const paired = new Set<string>()
  const hubKeyHolder: { key?: string } = {}
  const hubTrust: TrustPolicy = (identity, key) =>
    identity.role === "hub" ? identity.deviceId === hubIdentity.deviceId : paired.has(toHex(key))
  const hub = await SpaceSession.create({
    groupId: randomBytes(16),
    self: hubIdentity,
    trust: hubTrust,
    persist: noPersist,
  })
  hubKeyHolder.key = toHex(hub.members()[0]!.signaturePublicKey)
  const phoneTrust: TrustPolicy = (identity, key) =>
    identity.role === "phone" || toHex(key) === hubKeyHolder.key
  const phones: SpaceSession[] = []
  for (let i = 0; i < phoneCount; i++) {
    const identity: DeviceIdentity = { role: "phone", deviceId: id() as DeviceId }
    const pending = await createPendingJoin(identity)
    const { decodeKeyPackage } = await import("./spaceSession.ts")
    paired.add(toHex(decodeKeyPackage(pending.keyPackage).leafNode.signaturePublicKey))
    const { commit, welcome } = await hub.addMember(pending.keyPackage)
    for (const p of phones) await p.open(commit, 0)
    phones.push(await SpaceSession.join({ welcome, pending, trust: phoneTrust, persist: noPersist }))
  }
  return { hub, phones, hubIdentity, paired }
}

function announcement(clipId: ClipId, epoch: bigint): ClipAnnouncement {
  return {
    kind: "clip",
    clipId,
    spaceId: id() as SpaceId,
    blobId: "a".repeat(64) as BlobId,
    size: 10,
    epoch: epoch.toString(),
    cameraId: "front" as CameraId,
    cameraName: "Front door",
    label: "motion",
    startedAt: 1,
    endedAt: 2,
    mimeType: "video/mp4",
  }
}

describe("SpaceSession", () => {
  it("adds phones, rotates per clip, and both sides derive the same clip key", async () => {
    const { hub, phones } = await setupSpace(2)
    expect(hub.members().map((m) => m.identity.role)).toEqual(["hub", "phone", "phone"])
    const { commit } = await hub.rotate()
    for (const p of phones)
      expect(await p.open(commit, 0)).toMatchObject({ kind: "commit", removedSelf: false })
    const clipId = id() as ClipId
    const hubKey = await exportClipKey(hub, clipId)
    const clip = randomBytes(150_000)
    const blob = await encryptClip(hubKey.clipKey, clip)
    const sealed = await hub.seal(
      await signHubMessage(
        announcement(clipId, hubKey.epoch),
        hub.groupId,
        hub.signaturePrivateKey,
        hub.signature,
      ),
    )
    for (const p of phones) {
      const incoming = await p.open(sealed, 0)
      expect(incoming.kind).toBe("application")
      if (incoming.kind !== "application") return
      const msg = await openHubMessage(
        incoming.data,
        p.groupId,
        hub.members()[0]!.signaturePublicKey,
        p.signature,
      )
      expect(msg.epoch).toBe(p.epoch.toString())
      const phoneKey = await exportClipKey(p, msg.clipId)
      expect(await decryptClip(phoneKey.clipKey, blob)).toEqual(clip)
    }
  })

  it("a removed phone cannot follow the next epoch nor decrypt what comes after", async () => {
    const { hub, phones } = await setupSpace(2)
    const [keep, lost] = phones as [SpaceSession, SpaceSession]
    const lostId = lost.members().find((m) => m.leafIndex === lost.ownLeafIndex)!.identity.deviceId
    const { commit } = await hub.removeMember(lostId)
    expect(await keep.open(commit, 0)).toMatchObject({ kind: "commit", removedSelf: false })
    expect(await lost.open(commit, 0)).toMatchObject({ kind: "commit", removedSelf: true })
    const after = await hub.seal(new TextEncoder().encode("new clip key material"))
    await expect(lost.open(after, 0)).rejects.toBeInstanceOf(VigilError)
    expect((await keep.open(after, 0)).kind).toBe("application")
  })

  it("a commit made by a phone is refused by the hub and the other phones, and changes nothing", async () => {
    const { hub, phones, hubIdentity } = await setupSpace(2)
    const [rogue, other] = phones as [SpaceSession, SpaceSession]
    const saved: Uint8Array[] = []
    const watched = await SpaceSession.restore(hub.encode(), {
      trust: (identity) => identity.role === "phone" || identity.deviceId === hubIdentity.deviceId,
      persist: async (state) => void saved.push(state),
    })
    const epoch = watched.epoch
    // A real MLS commit, made and signed by a phone's own leaf (MLS lets any member commit).
    const { commit } = await rogue.rotate()
    expect(rogue.epoch).toBe(epoch + 1n)

    // The hub accepts commits from its own leaf only (hub/src/space/hubSpace.ts passes it): refused, unsaved.
    await expect(watched.open(commit, watched.ownLeafIndex)).rejects.toMatchObject({
      code: "UNTRUSTED_CREDENTIAL",
    })
    expect(saved).toEqual([])
    expect(watched.epoch).toBe(epoch)
    // The other phone accepts the hub's leaf (0) only, too.
    await expect(other.open(commit, 0)).rejects.toMatchObject({ code: "UNTRUSTED_CREDENTIAL" })
    expect(other.epoch).toBe(epoch)

    // The group goes on from the hub: its next commit is followed; the rogue phone is left behind.
    const { commit: next } = await watched.rotate()
    expect(await other.open(next, 0)).toMatchObject({ kind: "commit", removedSelf: false })
    expect(other.epoch).toBe(epoch + 1n)
    await expect(rogue.open(next, 0)).rejects.toMatchObject({ code: "SIGNATURE_INVALID" })
  })

  it("refuses proposals from a member without saving anything, so the hub's next commits still work", async () => {
    const { hub, phones } = await setupSpace(2)
    const [a, evil] = phones as [SpaceSession, SpaceSession]
    const saved: Uint8Array[] = []
    const watched = await SpaceSession.restore(hub.encode(), {
      trust: () => true,
      persist: async (state) => void saved.push(state),
    })
    // A phone builds proposals by hand (ts-mls directly: SpaceSession never makes them): an Add of a
    // second leaf under its own identity, and a Remove of the hub.
    const internals = evil as unknown as { state: ClientState; cs: CiphersuiteImpl }
    const ghost = await createPendingJoin({ role: "phone", deviceId: id() as DeviceId })
    const proposals: Proposal[] = [
      { proposalType: "add", add: { keyPackage: decodeKeyPackage(ghost.keyPackage) } },
      { proposalType: "remove", remove: { removed: hub.ownLeafIndex } },
    ]
    for (const proposal of proposals) {
      const { message } = await createProposal(internals.state, false, proposal, internals.cs)
      const bytes = encodeMlsMessage(message)
      await expect(watched.open(bytes, watched.ownLeafIndex)).rejects.toMatchObject({
        code: "UNEXPECTED_MESSAGE",
      })
    }
    expect(saved).toEqual([])
    // Nothing rides along: the hub's next commit has no Add or Remove in it, and the phones follow it.
    const { commit } = await watched.rotate()
    expect(watched.members()).toHaveLength(3)
    await a.open(commit, 0)
    expect(a.epoch).toBe(watched.epoch)
  })

  it("a phone's signature cannot pass as the hub's", async () => {
    const { hub, phones } = await setupSpace(1)
    const phone = phones[0]!
    const clipId = id() as ClipId
    const forged = await signHubMessage(
      announcement(clipId, phone.epoch),
      phone.groupId,
      phone.signaturePrivateKey,
      phone.signature,
    )
    await expect(
      openHubMessage(forged, phone.groupId, hub.members()[0]!.signaturePublicKey, phone.signature),
    ).rejects.toMatchObject({ code: "SIGNATURE_INVALID" })
  })

  it("restores from encoded state and keeps working", async () => {
    const { hub, phones, hubIdentity, paired } = await setupSpace(1)
    const trust: TrustPolicy = (identity, key) =>
      identity.role === "hub" ? identity.deviceId === hubIdentity.deviceId : paired.has(toHex(key))
    const restored = await SpaceSession.restore(hub.encode(), { trust, persist: noPersist })
    const { commit } = await restored.rotate()
    expect(await phones[0]!.open(commit, 0)).toMatchObject({ kind: "commit" })
    expect(phones[0]!.epoch).toBe(restored.epoch)
  })

  it("recovers a phone that missed a commit: signed rejoin, re-add in one commit, same identity", async () => {
    const hubIdentity: DeviceIdentity = { role: "hub", deviceId: id() as DeviceId }
    const phoneId = id() as DeviceId
    const pinned = new Map<string, string>() // deviceId -> signature key (hex), as the hub records at pairing
    const hub = await SpaceSession.create({
      groupId: randomBytes(16),
      self: hubIdentity,
      trust: (who, key) =>
        who.role === "hub" ? who.deviceId === hubIdentity.deviceId : pinned.get(who.deviceId) === toHex(key),
      persist: noPersist,
    })
    const hubKey = toHex(hub.members()[0]!.signaturePublicKey)
    const phoneTrust: TrustPolicy = (who, key) => who.role === "phone" || toHex(key) === hubKey
    const first: PendingJoin = await createPendingJoin({ role: "phone", deviceId: phoneId })
    const keys = pendingSignatureKeys(first)
    pinned.set(phoneId, toHex(keys.publicKey))
    const { welcome } = await hub.addMember(first.keyPackage)
    const phone = await SpaceSession.join({ welcome, pending: first, trust: phoneTrust, persist: noPersist })

    await hub.rotate() // this commit never reaches the phone
    const { commit: next } = await hub.rotate()
    await expect(phone.open(next, 0)).rejects.toMatchObject({ code: "EPOCH_AHEAD" })

    const fresh = await createPendingJoin({ role: "phone", deviceId: phoneId }, undefined, keys)
    const now = Date.now()
    const request = await createRejoinRequest(
      {
        deviceId: phoneId,
        spaceId: toHex(hub.groupId) as SpaceId,
        keyPackage: fresh.keyPackage,
        issuedAt: now,
      },
      keys.signKey,
      phone.signature,
    )
    const opened = await openRejoinRequest(
      request,
      (d) => (pinned.has(d) ? fromHex(pinned.get(d)!) : undefined),
      hub.signature,
      { now },
    )
    const readd = await hub.readdMember(phoneId, opened.keyPackage)
    const back = await SpaceSession.join({
      welcome: readd.welcome,
      pending: fresh,
      trust: phoneTrust,
      persist: noPersist,
    })
    expect(back.epoch).toBe(hub.epoch)
    expect(hub.members().filter((m) => m.identity.deviceId === phoneId)).toHaveLength(1)

    const clipId = id() as ClipId
    const hubClip = await exportClipKey(hub, clipId)
    const blob = await encryptClip(hubClip.clipKey, new TextEncoder().encode("after recovery"))
    expect(
      new TextDecoder().decode(await decryptClip((await exportClipKey(back, clipId)).clipKey, blob)),
    ).toBe("after recovery")
  })
})
