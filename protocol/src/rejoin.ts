/**
 * Desync recovery without a new pairing ceremony. A phone that missed a commit, or lost or corrupted its
 * group state, still holds its MLS signature key. It makes a fresh KeyPackage with that same key and asks
 * the hub, in a request signed with it, to re-add it; the hub checks the signature against the key it
 * pinned when it paired the phone, removes the stale leaf and sends a new Welcome.
 *
 * Request (phone → hub mailbox, not MLS-protected: the phone has no usable group state):
 *   UTF-8 JSON { "v": 1, "kind": "rejoin", "device", "space", "kp": base64url KeyPackage, "at": ms, "sig" }
 *   sig = Ed25519 over "vigil rejoin v1" || space || device || at (u64) || KeyPackage
 *
 * A replay is harmless: only the holder of the KeyPackage's private keys can use the Welcome it yields; the
 * hub also refuses requests older than `maxAgeMs` or not newer than the last one it accepted.
 */
import type { Signature } from "ts-mls"
import { z } from "zod"
import { concatBytes, fromBase64Url, fromUtf8, toBase64Url, utf8 } from "./bytes.ts"
import { CodecError, CryptoError, ProtocolStateError } from "./errors.ts"
import type { DeviceId, SpaceId } from "./ids.ts"

export const rejoinMaxAgeMs = 10 * 60_000

export interface RejoinRequest {
  deviceId: DeviceId
  spaceId: SpaceId
  keyPackage: Uint8Array
  issuedAt: number
}

const schema = z.strictObject({
  v: z.literal(1),
  kind: z.literal("rejoin"),
  device: z.string().regex(/^[0-9a-f]{32}$/),
  space: z.string().regex(/^[0-9a-f]{32}$/),
  kp: z.string().regex(/^[A-Za-z0-9_-]{1,8192}$/),
  at: z.number().int().nonnegative(),
  sig: z.string().regex(/^[A-Za-z0-9_-]{1,200}$/),
})

function signedContent(r: RejoinRequest): Uint8Array {
  const at = new Uint8Array(8)
  new DataView(at.buffer).setBigUint64(0, BigInt(r.issuedAt))
  return concatBytes(utf8("vigil rejoin v1"), utf8(r.spaceId), utf8(r.deviceId), at, r.keyPackage)
}

export async function createRejoinRequest(
  r: RejoinRequest,
  signKey: Uint8Array,
  s: Signature,
): Promise<Uint8Array> {
  const sig = await s.sign(signKey, signedContent(r))
  return utf8(
    JSON.stringify({
      v: 1,
      kind: "rejoin",
      device: r.deviceId,
      space: r.spaceId,
      kp: toBase64Url(r.keyPackage),
      at: r.issuedAt,
      sig: toBase64Url(sig),
    }),
  )
}

/** True when the bytes look like a rejoin request (JSON) rather than an MLS message. */
export const isRejoinRequest = (bytes: Uint8Array): boolean => bytes[0] === 0x7b

/**
 * Verifies a rejoin request. `pinnedKey` is the signature key the hub recorded for that device when it
 * paired it (undefined: not a paired device).
 */
export async function openRejoinRequest(
  bytes: Uint8Array,
  pinnedKey: (deviceId: DeviceId) => Uint8Array | undefined,
  s: Signature,
  opts: { now: number; notBefore?: number },
): Promise<RejoinRequest> {
  let json: unknown
  try {
    json = JSON.parse(fromUtf8(bytes))
  } catch (cause) {
    throw new CodecError("rejoin request is not JSON", { cause })
  }
  const parsed = schema.safeParse(json)
  if (!parsed.success) throw new CodecError("rejoin request is malformed")
  const o = parsed.data
  const request: RejoinRequest = {
    deviceId: o.device as DeviceId,
    spaceId: o.space as SpaceId,
    keyPackage: fromBase64Url(o.kp),
    issuedAt: o.at,
  }
  const key = pinnedKey(request.deviceId)
  if (!key) throw new ProtocolStateError("NOT_A_MEMBER", "rejoin request from a device that is not paired")
  let valid = false
  try {
    valid = await s.verify(key, signedContent(request), fromBase64Url(o.sig))
  } catch {
    valid = false
  }
  if (!valid) throw new CryptoError("SIGNATURE_INVALID", "rejoin request is not signed by the paired device")
  if (Math.abs(opts.now - request.issuedAt) > rejoinMaxAgeMs) {
    throw new ProtocolStateError("REQUEST_STALE", "rejoin request is too old or from the future")
  }
  if (opts.notBefore !== undefined && request.issuedAt <= opts.notBefore) {
    throw new ProtocolStateError("REQUEST_REPLAYED", "rejoin request replayed")
  }
  return request
}
