/**
 * The signed envelope used inside MLS application messages when the author must be proven, not just
 * group membership (hub messages, phones' live requests):
 *
 *   version (u8 = 1) | signature length (u16) | signature | body (UTF-8 JSON)
 *   signed content = label | u8(len(group id)) | group id | body
 *
 * Each kind of message has its own label, so a signature made for one can never pass as another.
 */
import type { Signature } from "ts-mls"
import type { z } from "zod"
import { concatBytes, fromUtf8, utf8 } from "./bytes.ts"
import { CodecError, CryptoError, ProtocolStateError } from "./errors.ts"
import type { DeviceId } from "./ids.ts"

export interface Envelope {
  signature: Uint8Array
  body: Uint8Array
}

function signedContent(label: string, groupId: Uint8Array, body: Uint8Array): Uint8Array {
  return concatBytes(utf8(label), new Uint8Array([groupId.length]), groupId, body)
}

export async function signEnvelope(
  label: string,
  groupId: Uint8Array,
  value: unknown,
  signKey: Uint8Array,
  signature: Signature,
  /**
   * Pads the JSON body with trailing spaces (still the same JSON, and signed) to this length, so the
   * envelope's length hides what it says; used where no other layer pads (push payloads).
   */
  padBodyTo?: (length: number) => number,
): Promise<Uint8Array> {
  const json = utf8(JSON.stringify(value))
  const body = padBodyTo ? concatBytes(json, utf8(" ".repeat(padBodyTo(json.length) - json.length))) : json
  const sig = await signature.sign(signKey, signedContent(label, groupId, body))
  const head = new Uint8Array(3)
  head[0] = 1
  new DataView(head.buffer).setUint16(1, sig.length)
  return concatBytes(head, sig, body)
}

/** Splits an envelope without trusting it yet; `what` names the message in errors. */
export function splitEnvelope(bytes: Uint8Array, what: string): Envelope {
  if (bytes.length < 3 || bytes[0] !== 1) throw new CodecError(`not a ${what}`)
  const sigLength = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint16(1)
  if (bytes.length < 3 + sigLength) throw new CodecError(`${what} truncated`)
  return { signature: bytes.subarray(3, 3 + sigLength), body: bytes.subarray(3 + sigLength) }
}

/** True only for a valid signature by `key` over this envelope under `label`; never throws. */
export async function verifyEnvelope(
  label: string,
  groupId: Uint8Array,
  envelope: Envelope,
  key: Uint8Array,
  signature: Signature,
): Promise<boolean> {
  try {
    return await signature.verify(key, signedContent(label, groupId, envelope.body), envelope.signature)
  } catch {
    return false
  }
}

/** Parses the body against its schema; anything else is a typed CodecError. */
export function parseEnvelopeBody<S extends z.ZodType>(
  envelope: Envelope,
  schema: S,
  what: string,
): z.infer<S> {
  let json: unknown
  try {
    json = JSON.parse(fromUtf8(envelope.body))
  } catch (cause) {
    throw new CodecError(`${what} body is not JSON`, { cause })
  }
  const parsed = schema.safeParse(json)
  if (!parsed.success) throw new CodecError(`${what} invalid: ${parsed.error.issues[0]?.message ?? "?"}`)
  return parsed.data
}

/**
 * Splits an envelope, checks it is signed by `key` under `label`, and parses its body: the one way to open
 * a message whose signer is pinned (the hub's key, or a phone's). `what` names it in errors.
 */
export async function openEnvelope<S extends z.ZodType>(
  bytes: Uint8Array,
  opts: {
    label: string
    groupId: Uint8Array
    key: Uint8Array
    signature: Signature
    schema: S
    what: string
  },
): Promise<z.infer<S>> {
  const envelope = splitEnvelope(bytes, opts.what)
  if (!(await verifyEnvelope(opts.label, opts.groupId, envelope, opts.key, opts.signature))) {
    throw new CryptoError("SIGNATURE_INVALID", `${opts.what} is not signed by the expected key`)
  }
  return parseEnvelopeBody(envelope, opts.schema, opts.what)
}

/** Who may have signed a phone's message: the sender signal names, and the keys the hub pinned. */
export interface PhoneSigner {
  groupId: Uint8Array
  /** The device signal says sent it: the body must name this device. */
  from: DeviceId
  /** The signature key the hub pinned for a paired phone (undefined: not paired). */
  pinnedKey: (deviceId: DeviceId) => Uint8Array | undefined
  signature: Signature
}

/**
 * Hub: opens a message a paired phone signed (live requests, device requests, pairing approvals). The body
 * names its signer, so it is parsed first, then must name the sender signal reports, a paired device, and
 * verify under that device's pinned key. Freshness is the caller's (each kind has its own rule).
 */
export async function openPhoneSigned<S extends z.ZodType<{ deviceId: string }>>(
  bytes: Uint8Array,
  opts: PhoneSigner & { label: string; schema: S; what: string },
): Promise<z.infer<S>> {
  const envelope = splitEnvelope(bytes, opts.what)
  const body = parseEnvelopeBody(envelope, opts.schema, opts.what)
  if (body.deviceId !== opts.from) {
    throw new CryptoError("UNTRUSTED_CREDENTIAL", `${opts.what} names another device than its sender`)
  }
  const key = opts.pinnedKey(body.deviceId as DeviceId)
  if (!key) throw new ProtocolStateError("NOT_A_MEMBER", `${opts.what} from a device that is not paired`)
  if (!(await verifyEnvelope(opts.label, opts.groupId, envelope, key, opts.signature))) {
    throw new CryptoError("SIGNATURE_INVALID", `${opts.what} is not signed by the paired device`)
  }
  return body
}
