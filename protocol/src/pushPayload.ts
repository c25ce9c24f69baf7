/**
 * The Web Push payload the hub sends after a clip (docs/03-wire-format.md, "Push payload"). Signal and the
 * browser's push service see only this; the phone's service worker opens it with the MLS state it already
 * has, without writing anything back (so the page's own session never falls out of step).
 *
 *    0       1                       9                         21
 *   +-------+-----------------------+-------------------------+-----------------------------------+
 *   | v = 1 | epoch (u64, BE)       | nonce (12 bytes)        | AES-128-GCM(envelope) || tag (16) |
 *   +-------+-----------------------+-------------------------+-----------------------------------+
 *
 *   key   = MLS-Exporter("vigil push v1", "", 16) of `epoch` (the epoch the clip was announced in)
 *   aad   = "vigil push v1" | u8(len(group id)) | group id | bytes 0..9 (version and epoch)
 *   envelope = signed envelope (signedEnvelope.ts, label "vigil push v1") of the JSON notice below,
 *              signed with the hub's MLS signature key: a phone (also a member, so also holding the key)
 *              cannot forge a notification for another phone.
 *
 * The push message itself carries this payload as base64url text (ASCII), so that any push tool (and
 * DevTools' push simulation, which the e2e test uses) can carry it unchanged.
 */
import type { Signature } from "ts-mls"
import { z } from "zod"
import type { AeadProvider } from "./aead.ts"
import { webCryptoAead } from "./aead.ts"
import { concatBytes, fromBase64Url, randomBytes, toBase64Url, toHex, utf8 } from "./bytes.ts"
import { CodecError, CryptoError } from "./errors.ts"
import { bucketLength } from "./lengthBuckets.ts"
import { cameraStatusSchema, eventLabels } from "./hubMessages.ts"
import type { CameraId, ClipId, SpaceId } from "./ids.ts"
import { parseEnvelopeBody, signEnvelope, splitEnvelope, verifyEnvelope } from "./signedEnvelope.ts"
import type { SpaceSession } from "./spaceSession.ts"

/** Exporter label and envelope label of push payloads. */
export const pushLabel = "vigil push v1"
/** Length of the exported AES-128-GCM key. */
export const pushSecretLength = 16
/** What the relay accepts and push services carry (RFC 8291 leaves ~3993 bytes; signal allows 3072). */
export const maxPushPayloadBytes = 3072

/** Push notice bodies are padded to multiples of this (every notice with a thumbnail fits in one). */
const pushBodyBucket = 512

const headerLength = 9
const nonceLength = 12
const tagLength = 16

const hex = (n: number) => z.string().regex(new RegExp(`^[0-9a-f]{${n}}$`))

/** What a push tells the phone: enough for the notification, and where its picture is. */
const clipNoticeSchema = z.strictObject({
  kind: z.literal("clip"),
  spaceId: hex(32),
  clipId: hex(32),
  cameraId: z.string().min(1).max(64),
  cameraName: z.string().min(1).max(128),
  label: z.enum(eventLabels),
  startedAt: z.number().int().nonnegative(),
  /** The encrypted picture at signal; its key is exported from the same epoch (like the clip's). */
  thumbnail: z
    .strictObject({ clipId: hex(32), blobId: hex(64), size: z.number().int().nonnegative() })
    .optional(),
})

/** A camera went offline or came back (hubMessages.ts `camera-status`). */
const cameraNoticeSchema = cameraStatusSchema.omit({ seq: true })

export const pushNoticeSchema = z.discriminatedUnion("kind", [clipNoticeSchema, cameraNoticeSchema])

export type ClipPushNotice = Omit<z.infer<typeof clipNoticeSchema>, "spaceId" | "clipId" | "cameraId"> & {
  spaceId: SpaceId
  clipId: ClipId
  cameraId: CameraId
}
export type CameraPushNotice = Omit<z.infer<typeof cameraNoticeSchema>, "spaceId" | "cameraId"> & {
  spaceId: SpaceId
  cameraId: CameraId
}
export type PushNotice = ClipPushNotice | CameraPushNotice

function header(epoch: bigint): Uint8Array {
  if (epoch < 0n || epoch > 0xffffffffffffffffn) throw new CodecError("epoch out of range")
  const head = new Uint8Array(headerLength)
  head[0] = 1
  new DataView(head.buffer).setBigUint64(1, epoch)
  return head
}

const aadOf = (groupId: Uint8Array, head: Uint8Array) =>
  concatBytes(utf8(pushLabel), new Uint8Array([groupId.length]), groupId, head)

/**
 * Hub: signs and encrypts a notice under the push key of `epoch` (`secret` = the exporter output above).
 * Throws a CodecError if the result would not fit in a push message.
 */
export async function sealPushPayload(opts: {
  notice: PushNotice
  epoch: bigint
  secret: Uint8Array
  groupId: Uint8Array
  signKey: Uint8Array
  signature: Signature
  aead?: AeadProvider
}): Promise<Uint8Array> {
  if (opts.secret.length !== pushSecretLength) throw new CodecError("push secret has the wrong length")
  const notice = pushNoticeSchema.parse(opts.notice)
  // The notice's JSON is padded with spaces to a bucket: the push service sees one length for every label.
  const envelope = await signEnvelope(pushLabel, opts.groupId, notice, opts.signKey, opts.signature, (n) =>
    bucketLength(n, pushBodyBucket, pushBodyBucket),
  )
  const head = header(opts.epoch)
  const nonce = randomBytes(nonceLength)
  const key = await (opts.aead ?? webCryptoAead).importAes128GcmKey(opts.secret)
  const sealed = await key.seal(nonce, aadOf(opts.groupId, head), envelope)
  const payload = concatBytes(head, nonce, sealed)
  if (encodePushText(payload).length > maxPushPayloadBytes) {
    throw new CodecError(`push payload exceeds ${maxPushPayloadBytes} bytes`)
  }
  return payload
}

/**
 * The push key of the session's current epoch. The hub calls it right after announcing a clip; a phone's
 * service worker calls it on a copy of its saved session brought to the epoch the payload names.
 */
export function exportPushSecret(session: SpaceSession): Promise<{ secret: Uint8Array; epoch: bigint }> {
  return session.exportSecret(pushLabel, new Uint8Array(0), pushSecretLength)
}

/** The epoch a payload names (in clear, so the phone knows which key to look for); never throws. */
export function pushPayloadEpoch(payload: Uint8Array): bigint | undefined {
  if (payload.length < headerLength + nonceLength + tagLength || payload[0] !== 1) return undefined
  return new DataView(payload.buffer, payload.byteOffset, payload.byteLength).getBigUint64(1)
}

/**
 * Phone: decrypts and verifies a payload with the push key of the epoch it names. Anything that does not
 * open, verify and parse is a typed error (CodecError / CryptoError), never a notice.
 */
export async function openPushPayload(
  payload: Uint8Array,
  opts: {
    secret: Uint8Array
    groupId: Uint8Array
    hubKey: Uint8Array
    signature: Signature
    aead?: AeadProvider
  },
): Promise<PushNotice> {
  if (pushPayloadEpoch(payload) === undefined) throw new CodecError("not a push payload")
  if (opts.secret.length !== pushSecretLength) throw new CodecError("push secret has the wrong length")
  const head = payload.subarray(0, headerLength)
  const nonce = payload.subarray(headerLength, headerLength + nonceLength)
  const key = await (opts.aead ?? webCryptoAead).importAes128GcmKey(opts.secret)
  let envelopeBytes: Uint8Array
  try {
    envelopeBytes = await key.open(
      nonce,
      aadOf(opts.groupId, head),
      payload.subarray(headerLength + nonceLength),
    )
  } catch (cause) {
    throw new CryptoError("PUSH_TAMPERED", "push payload does not decrypt", { cause })
  }
  const envelope = splitEnvelope(envelopeBytes, "push notice")
  if (!(await verifyEnvelope(pushLabel, opts.groupId, envelope, opts.hubKey, opts.signature))) {
    throw new CryptoError("SIGNATURE_INVALID", "push notice is not signed by the hub")
  }
  const notice = parseEnvelopeBody(envelope, pushNoticeSchema, "push notice") as PushNotice
  if (notice.spaceId !== toHex(opts.groupId)) {
    throw new CryptoError("WRONG_SPACE", "push notice for another camera space")
  }
  return notice
}

/** The text a push message carries: the payload in base64url, without padding. */
export const encodePushText = (payload: Uint8Array): string => toBase64Url(payload)

/** Reads a push message's text back into a payload; a CodecError for anything else. */
export function decodePushText(text: string): Uint8Array {
  if (!/^[A-Za-z0-9_-]+$/.test(text)) throw new CodecError("push message is not base64url")
  try {
    return fromBase64Url(text)
  } catch (cause) {
    throw new CodecError("push message is not base64url", { cause })
  }
}
