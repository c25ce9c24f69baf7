/**
 * The probe of a pairing by discovery (pairingDiscovery.ts): the household stays hidden until both people
 * said the codes match (issue 14, finding 9).
 *
 * Anyone behind the household's public address can post a `join` into the hub's room. So the hub does not
 * answer it with a Welcome into the household's group (that would show the joiner its device ids, its space
 * id and how many epochs it went through); it answers with a Welcome into a PROBE: a throwaway two-party MLS
 * group, with a random group id, a fresh signature key for the hub and the joining phone's first key
 * package. The code both screens show is computed from the probe's epoch, so it still proves that the two
 * screens belong to the same two parties (confirmationCode.ts), and the probe carries the rest:
 *
 *   phone → hub  `confirm`: sealed in the probe, the code and the phone's SECOND key package (same signature
 *                key as the first, fresh init key): the one the hub adds to the household's group.
 *   hub → phone  `pairing-result`: signed with the hub's probe key over the probe's group id, sealed in the
 *                probe. Accepted, it carries the household's space id, epoch, hub key and the Welcome into
 *                the household's group; refused, nothing but the refusal.
 *
 * The hub's MLS queue is not held while people compare codes: the household's group changes only once,
 * at the end, when the hub adds the second key package in one commit with its outbox.
 */
import { z } from "zod"
import type { CiphersuiteName, Signature } from "ts-mls"
import { equalBytes, fromBase64Url, randomBytes, toBase64Url, toHex, utf8 } from "./bytes.ts"
import { CodecError, CryptoError, ProtocolStateError } from "./errors.ts"
import type { DeviceId, SpaceId } from "./ids.ts"
import { b64, deviceSchema, parseJson } from "./pairingDiscovery.ts"
import { openEnvelope, signEnvelope } from "./signedEnvelope.ts"
import {
  SpaceSession,
  decodeKeyPackage,
  keyPackageIdentity,
  type Member,
  type PendingJoin,
} from "./spaceSession.ts"

const noPersist = async () => {}

/** The hub's side of one probe: the session (in memory only) and the joining phone's signature key. */
export interface HubProbe {
  probe: SpaceSession
  /** The Welcome to mail to the phone: it names nobody but the hub's probe leaf and the phone. */
  welcome: Uint8Array
  /** The phone's signature key from its first key package; its second must carry the same. */
  phoneKey: Uint8Array
}

/** Checks that a key package's credential names `deviceId` as a phone; returns its signature key. */
export function phoneKeyPackageKey(keyPackageBytes: Uint8Array, deviceId: DeviceId): Uint8Array {
  const keyPackage = decodeKeyPackage(keyPackageBytes)
  const identity = keyPackageIdentity(keyPackage)
  if (identity?.role !== "phone" || identity.deviceId !== deviceId) {
    throw new CryptoError("UNTRUSTED_CREDENTIAL", "key package credential does not match the device")
  }
  return keyPackage.leafNode.signaturePublicKey
}

/** Hub: opens a probe for a `join` (its device and first key package) in the household's suite. */
export async function openProbe(opts: {
  hubDeviceId: DeviceId
  join: { deviceId: DeviceId; keyPackage: Uint8Array }
  suite: CiphersuiteName
}): Promise<HubProbe> {
  const phone = opts.join.deviceId
  const phoneKey = phoneKeyPackageKey(opts.join.keyPackage, phone)
  const probe = await SpaceSession.create({
    // As long as a space id, so that a probe's Welcome looks like any other.
    groupId: randomBytes(16),
    self: { role: "hub", deviceId: opts.hubDeviceId },
    trust: (identity, key) =>
      identity.role === "hub"
        ? identity.deviceId === opts.hubDeviceId
        : identity.deviceId === phone && equalBytes(key, phoneKey),
    persist: noPersist,
    suite: opts.suite,
  })
  const { welcome } = await probe.addMember(opts.join.keyPackage)
  return { probe, welcome, phoneKey }
}

/**
 * Phone: joins the probe from the hub's Welcome. Trust is provisional (no hub key is pinned yet): it serves
 * to compute the code only. The probe must hold exactly the hub that announced the room and this phone.
 */
export async function joinProbe(
  welcome: Uint8Array,
  pending: PendingJoin,
  hubDeviceId: string,
): Promise<{ probe: SpaceSession; hub: Member }> {
  const probe = await SpaceSession.join({
    welcome,
    pending,
    trust: (identity) => identity.role === "hub" || identity.role === "phone",
    persist: noPersist,
  })
  const members = probe.members()
  const hub = members.find((m) => m.leafIndex !== probe.ownLeafIndex)
  if (members.length !== 2 || !hub || hub.identity.role !== "hub" || hub.identity.deviceId !== hubDeviceId) {
    throw new CryptoError("UNTRUSTED_CREDENTIAL", "the Welcome is not from the hub that was picked")
  }
  return { probe, hub }
}

// ---------------------------------------------------------------------------------------------------------
// The phone's confirmation, the plaintext of the MLS application message (sealed in the probe) inside a
// `confirm`: { v: 2, kind: "pairing-confirm", device, code, kp: base64url(second KeyPackage) }.

const confirmationSchema = z.strictObject({
  v: z.literal(2),
  kind: z.literal("pairing-confirm"),
  device: deviceSchema,
  code: z.string().regex(/^[0-9]{6}$/),
  kp: b64(10_000),
})

export function encodePairingConfirmation(
  deviceId: DeviceId,
  code: string,
  keyPackage: Uint8Array,
): Uint8Array {
  return utf8(
    JSON.stringify({ v: 2, kind: "pairing-confirm", device: deviceId, code, kp: toBase64Url(keyPackage) }),
  )
}

/**
 * Hub: checks the opened confirmation: from this device, for the code the hub computed, with a key package
 * for the household that names this device and carries the signature key of its probe leaf. Returns it.
 */
export function checkPairingConfirmation(
  plaintext: Uint8Array,
  expected: { deviceId: DeviceId; code: string; phoneKey: Uint8Array },
): { keyPackage: Uint8Array } {
  const parsed = confirmationSchema.safeParse(parseJson(plaintext, "pairing confirmation"))
  if (!parsed.success) throw new CodecError("pairing confirmation is malformed")
  if (parsed.data.device !== expected.deviceId || parsed.data.code !== expected.code) {
    throw new CryptoError("PAIRING_INVALID", "pairing confirmation is for another device or code")
  }
  const keyPackage = fromBase64Url(parsed.data.kp)
  if (!equalBytes(phoneKeyPackageKey(keyPackage, expected.deviceId), expected.phoneKey)) {
    throw new CryptoError("UNTRUSTED_CREDENTIAL", "the household key package has another signature key")
  }
  return { keyPackage }
}

// ---------------------------------------------------------------------------------------------------------
// The hub's answer, signed with the hub's probe key over the probe's group id and sealed in the probe.

const resultLabel = "vigil pairing result v2"

const resultSchema = z.discriminatedUnion("accepted", [
  z.strictObject({ kind: z.literal("pairing-result"), to: deviceSchema, accepted: z.literal(false) }),
  z.strictObject({
    kind: z.literal("pairing-result"),
    to: deviceSchema,
    accepted: z.literal(true),
    spaceId: z.string().regex(/^[0-9a-f]{32}$/),
    epoch: z.string().regex(/^[0-9]{1,20}$/),
    hubKey: b64(1024),
    welcome: z
      .string()
      .regex(/^[A-Za-z0-9_-]+$/)
      .max(340_000),
  }),
])

export type PairingResult =
  | { kind: "pairing-result"; to: DeviceId; accepted: false }
  | {
      kind: "pairing-result"
      to: DeviceId
      accepted: true
      spaceId: SpaceId
      /** The household's epoch that adds the phone (decimal). */
      epoch: string
      /** The hub's lasting signature key in the household's group: the phone pins it. */
      hubKey: Uint8Array
      /** The Welcome into the household's group. */
      welcome: Uint8Array
    }

/** Hub: the signed answer for the phone of `hub`'s probe, sealed in it, ready to mail. */
export async function sealPairingResult(result: PairingResult, hub: SpaceSession): Promise<Uint8Array> {
  const body = result.accepted
    ? { ...result, hubKey: toBase64Url(result.hubKey), welcome: toBase64Url(result.welcome) }
    : result
  const signed = await signPairingResult(body, hub.groupId, hub.signaturePrivateKey, hub.signature)
  return hub.seal(signed)
}

/** The signed (not yet sealed) answer; `body` is the result with its byte fields as base64url. */
export function signPairingResult(
  body: object,
  groupId: Uint8Array,
  signKey: Uint8Array,
  signature: Signature,
): Promise<Uint8Array> {
  return signEnvelope(resultLabel, groupId, body, signKey, signature)
}

/** Phone: opens the hub's signed answer; `hubKey` is the hub's key in the probe. */
export async function openPairingResult(
  bytes: Uint8Array,
  groupId: Uint8Array,
  hubKey: Uint8Array,
  signature: Signature,
): Promise<PairingResult> {
  const r = await openEnvelope(bytes, {
    label: resultLabel,
    groupId,
    key: hubKey,
    signature,
    schema: resultSchema,
    what: "pairing result",
  })
  if (!r.accepted) return { kind: r.kind, to: r.to as DeviceId, accepted: false }
  return {
    ...r,
    to: r.to as DeviceId,
    spaceId: r.spaceId as SpaceId,
    hubKey: fromBase64Url(r.hubKey),
    welcome: fromBase64Url(r.welcome),
  }
}

/**
 * Phone: joins the household from an accepted result with its second key package. The Welcome must be
 * signed by the hub key the result names (the result itself was authenticated by the probe), and the group
 * must be the space and epoch it names, with that hub as its only hub.
 */
export async function joinHousehold(
  result: Extract<PairingResult, { accepted: true }>,
  pending: PendingJoin,
  hubDeviceId: string,
): Promise<{ session: SpaceSession; hub: Member }> {
  const session = await SpaceSession.join({
    welcome: result.welcome,
    pending,
    // Other phones are trusted as the hub's Welcome lists them; the hub only under the key it just named.
    trust: (identity, key) =>
      identity.role === "hub"
        ? identity.deviceId === hubDeviceId && equalBytes(key, result.hubKey)
        : identity.role === "phone",
    persist: noPersist,
    signer: result.hubKey,
  })
  const hubs = session.members().filter((m) => m.identity.role === "hub")
  const hub = hubs[0]
  if (hubs.length !== 1 || !hub || !equalBytes(hub.signaturePublicKey, result.hubKey)) {
    throw new CryptoError("UNTRUSTED_CREDENTIAL", "the household's Welcome does not hold the hub it names")
  }
  if (toHex(session.groupId) !== result.spaceId || session.epoch.toString() !== result.epoch) {
    throw new ProtocolStateError(
      "UNEXPECTED_MESSAGE",
      "the household's Welcome is for another space or epoch",
    )
  }
  return { session, hub }
}
