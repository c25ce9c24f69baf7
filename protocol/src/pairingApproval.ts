/**
 * Adding another phone from a paired one (pairing by discovery, pairingDiscovery.ts): while a request
 * waits, the hub mails each paired phone a hub-signed, sealed `pairing-pending` notice (device name, code,
 * room); a paired phone whose user compared the code with the new phone's screen posts a `pairing-approve`
 * signed with its pinned key, which stands for the "y" at the hub. The new phone still has to confirm on its
 * side.
 */
import { z } from "zod"
import type { Signature } from "ts-mls"
import type { AeadProvider } from "./aead.ts"
import { webCryptoAead } from "./aead.ts"
import { concatBytes, fromUtf8, randomBytes, utf8 } from "./bytes.ts"
import { CodecError, CryptoError, ProtocolStateError } from "./errors.ts"
import type { DeviceId, SpaceId } from "./ids.ts"
import { bucketLength } from "./lengthBuckets.ts"
import { deviceSchema, nameSchema } from "./pairingDiscovery.ts"
import {
  openEnvelope,
  openPhoneSigned,
  signEnvelope,
  splitEnvelope,
  type PhoneSigner,
} from "./signedEnvelope.ts"

const noticeLabel = "vigil pairing notice v1"
const approvalLabel = "vigil pairing approval v1"

const noticeSchema = z.strictObject({
  kind: z.literal("pairing-pending"),
  spaceId: z.string().regex(/^[0-9a-f]{32}$/),
  roomId: z.string().regex(/^[0-9a-f]{64}$/),
  deviceId: deviceSchema,
  deviceName: nameSchema,
  code: z.string().regex(/^[0-9]{6}$/),
  expiresAt: z.number().int().nonnegative(),
})

/**
 * Hub → paired phones: a new phone waits for confirmation. Signed by the hub, then sealed under a key the
 * MLS exporter of the phones' epoch gives (`sealPairingNotice`), so the relay reads neither the new phone's
 * name nor the code, and a notice counts only in the epoch it was sealed for.
 */
export interface PairingNotice {
  kind: "pairing-pending"
  spaceId: SpaceId
  roomId: string
  deviceId: DeviceId
  deviceName: string
  code: string
  expiresAt: number
}

export function signPairingNotice(
  notice: PairingNotice,
  groupId: Uint8Array,
  signKey: Uint8Array,
  signature: Signature,
): Promise<Uint8Array> {
  return signEnvelope(noticeLabel, groupId, notice, signKey, signature)
}

/** Exporter label (and AAD prefix) of sealed pairing notices. */
const sealedNoticeLabel = "vigil pairing notice seal v1"
const sealedNoticeVersion = 2
const sealedNoticeHeader = 9
const sealedNoticeNonce = 12

/** What the sealing needs of an MLS session: the epoch it is in and its exporter (SpaceSession has both). */
export interface ExporterSession {
  readonly groupId: Uint8Array
  exportSecret(
    label: string,
    context: Uint8Array,
    length: number,
  ): Promise<{ secret: Uint8Array; epoch: bigint }>
}

const sealedNoticeAad = (groupId: Uint8Array, head: Uint8Array) =>
  concatBytes(utf8(sealedNoticeLabel), new Uint8Array([groupId.length]), groupId, head)

/**
 * Hub: signs a notice and seals it for the phones' current epoch (issue 14, finding 13):
 *
 *    0       1                       9                    21
 *   +-------+-----------------------+--------------------+--------------------------------------------+
 *   | v = 2 | epoch (u64, BE)       | nonce (12, random) | AES-128-GCM(signed notice envelope) || tag |
 *   +-------+-----------------------+--------------------+--------------------------------------------+
 *   key = MLS-Exporter("vigil pairing notice seal v1", "", 16) of `epoch`
 *   aad = label | u8(len(group id)) | group id | bytes 0..9
 *
 * `session` is the hub's saved session, the one the paired phones are in (not the pending epoch of the
 * pairing in progress); exporting changes no state, so nothing needs saving.
 */
export async function sealPairingNotice(
  notice: PairingNotice,
  session: ExporterSession,
  signKey: Uint8Array,
  signature: Signature,
  aead: AeadProvider = webCryptoAead,
): Promise<Uint8Array> {
  const envelope = await signEnvelope(noticeLabel, session.groupId, notice, signKey, signature, (n) =>
    bucketLength(n, 512, 512),
  )
  const { secret, epoch } = await session.exportSecret(sealedNoticeLabel, new Uint8Array(0), 16)
  const head = new Uint8Array(sealedNoticeHeader)
  head[0] = sealedNoticeVersion
  new DataView(head.buffer).setBigUint64(1, epoch)
  const nonce = randomBytes(sealedNoticeNonce)
  const key = await aead.importAes128GcmKey(secret)
  return concatBytes(head, nonce, await key.seal(nonce, sealedNoticeAad(session.groupId, head), envelope))
}

/** True for bytes shaped like a sealed notice (MLS messages start with 0, signed envelopes with 1). */
export function isSealedPairingNoticeBytes(bytes: Uint8Array): boolean {
  return bytes[0] === sealedNoticeVersion && bytes.length >= sealedNoticeHeader + sealedNoticeNonce + 16
}

/**
 * Phone: opens a sealed notice with its session, which must be in the epoch the notice names (older or
 * later: EPOCH_MISMATCH), then verifies the hub's signature.
 */
export async function openSealedPairingNotice(
  bytes: Uint8Array,
  session: ExporterSession,
  hubKey: Uint8Array,
  signature: Signature,
  aead: AeadProvider = webCryptoAead,
): Promise<PairingNotice> {
  if (!isSealedPairingNoticeBytes(bytes)) throw new CodecError("not a sealed pairing notice")
  const head = bytes.subarray(0, sealedNoticeHeader)
  const epoch = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getBigUint64(1)
  const { secret, epoch: current } = await session.exportSecret(sealedNoticeLabel, new Uint8Array(0), 16)
  if (epoch !== current) {
    throw new ProtocolStateError("EPOCH_MISMATCH", `pairing notice for epoch ${epoch}, ours is ${current}`)
  }
  const key = await aead.importAes128GcmKey(secret)
  let envelope: Uint8Array
  try {
    envelope = await key.open(
      bytes.subarray(sealedNoticeHeader, sealedNoticeHeader + sealedNoticeNonce),
      sealedNoticeAad(session.groupId, head),
      bytes.subarray(sealedNoticeHeader + sealedNoticeNonce),
    )
  } catch (cause) {
    throw new CryptoError("SIGNATURE_INVALID", "pairing notice does not decrypt", { cause })
  }
  return openPairingNotice(envelope, session.groupId, hubKey, signature)
}

/** True for bytes that look like a bare notice (a signed envelope; MLS messages start with 0). */
export function isPairingNoticeBytes(bytes: Uint8Array): boolean {
  if (bytes[0] !== 1) return false
  try {
    const envelope = splitEnvelope(bytes, "pairing notice")
    const body = JSON.parse(fromUtf8(envelope.body)) as { kind?: unknown } | null
    return body?.kind === "pairing-pending"
  } catch {
    return false
  }
}

/** Phone: verifies a notice against the pinned hub key. */
export async function openPairingNotice(
  bytes: Uint8Array,
  groupId: Uint8Array,
  hubKey: Uint8Array,
  signature: Signature,
): Promise<PairingNotice> {
  const n = await openEnvelope(bytes, {
    label: noticeLabel,
    groupId,
    key: hubKey,
    signature,
    schema: noticeSchema,
    what: "pairing notice",
  })
  return { ...n, spaceId: n.spaceId as SpaceId, deviceId: n.deviceId as DeviceId }
}

const approvalSchema = z.strictObject({
  kind: z.literal("pairing-approve"),
  deviceId: deviceSchema,
  target: deviceSchema,
  code: z.string().regex(/^[0-9]{6}$/),
  approve: z.boolean(),
})

/** Paired phone → hub (in the room): the answer of a paired phone's user to a notice. */
export interface PairingApproval {
  kind: "pairing-approve"
  /** The approving (paired) phone. */
  deviceId: DeviceId
  /** The new phone. */
  target: DeviceId
  code: string
  approve: boolean
}

export function signPairingApproval(
  approval: PairingApproval,
  groupId: Uint8Array,
  signKey: Uint8Array,
  signature: Signature,
): Promise<Uint8Array> {
  return signEnvelope(approvalLabel, groupId, approval, signKey, signature)
}

/**
 * Hub: checks an approval against the pending request: signed by the pinned key of a paired phone that
 * posted it, naming the waiting phone and its code. Single use: the hub forgets the request once decided.
 */
export async function openPairingApproval(
  bytes: Uint8Array,
  opts: PhoneSigner & { target: DeviceId; code: string },
): Promise<PairingApproval> {
  const a = await openPhoneSigned(bytes, {
    ...opts,
    label: approvalLabel,
    schema: approvalSchema,
    what: "pairing approval",
  })
  if (a.target !== opts.target || a.code !== opts.code) {
    throw new CryptoError("PAIRING_INVALID", "approval is for another request or code")
  }
  return { ...a, deviceId: a.deviceId as DeviceId, target: a.target as DeviceId }
}
