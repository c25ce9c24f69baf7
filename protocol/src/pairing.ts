/**
 * Pairing a phone with a hub, authenticated end to end.
 *
 * The hub shows an invite (a link or QR code; the secret travels in the URL fragment, which browsers never
 * send to a server). The invite carries the hub's signature key and a 256-bit one-time secret S:
 *
 *   room id  = HKDF-SHA256(S, info "vigil pair room v1")   — where the phone posts its join request
 *   MAC key  = HKDF-SHA256(S, info "vigil pair mac v1")    — proves the request came from the invite holder
 *
 * signal sees only the room id, so it can neither read S nor forge a join request; the phone pins the hub's
 * signature key from the invite, so a Welcome from anyone else is refused.
 */
import { z } from "zod"
import {
  bufferSource,
  concatBytes,
  equalBytes,
  fromBase64Url,
  fromUtf8,
  toBase64Url,
  toHex,
  utf8,
} from "./bytes.ts"
import { CodecError, CryptoError, ProtocolStateError } from "./errors.ts"
import type { DeviceId, SpaceId } from "./ids.ts"
import { defaultSuiteName, supportedSuites, type SupportedSuite } from "./suite.ts"

const invitePrefix = "v1."

const inviteSchema = z.strictObject({
  v: z.literal(1),
  signal: z.url({ protocol: /^https?$/ }),
  space: z.string().regex(/^[0-9a-f]{32}$/),
  hub: z.string().regex(/^[0-9a-f]{32}$/),
  name: z.string().min(1).max(64),
  key: z.string().regex(/^[A-Za-z0-9_-]{43}$/),
  secret: z.string().regex(/^[A-Za-z0-9_-]{43}$/),
  exp: z.number().int().positive(),
  suite: z.enum(supportedSuites).optional(),
})

export interface Invite {
  /** Base URL of the signal server the hub uses. */
  signal: string
  spaceId: SpaceId
  hubDeviceId: DeviceId
  hubName: string
  /** The hub's Ed25519 signature public key (32 bytes): the phone pins it. */
  hubKey: Uint8Array
  /** One-time 32-byte pairing secret. */
  secret: Uint8Array
  /** Expiry, ms since the Unix epoch. */
  expiresAt: number
  /** The space's MLS ciphersuite; the phone's key package must use it. */
  suite: SupportedSuite
}

export function encodeInvite(invite: Invite): string {
  const json = JSON.stringify({
    v: 1,
    signal: invite.signal,
    space: invite.spaceId,
    hub: invite.hubDeviceId,
    name: invite.hubName,
    key: toBase64Url(invite.hubKey),
    secret: toBase64Url(invite.secret),
    exp: invite.expiresAt,
    ...(invite.suite === defaultSuiteName ? {} : { suite: invite.suite }),
  })
  return invitePrefix + toBase64Url(utf8(json))
}

/** Parses an invite from untrusted text (a pasted code, a scanned QR, a URL fragment). */
export function decodeInvite(text: string, now = Date.now()): Invite {
  const code = text.trim()
  if (!code.startsWith(invitePrefix)) throw new CodecError("not a Vigil pairing code")
  let json: unknown
  try {
    json = JSON.parse(fromUtf8(fromBase64Url(code.slice(invitePrefix.length))))
  } catch (cause) {
    throw new CodecError("pairing code is damaged", { cause })
  }
  const parsed = inviteSchema.safeParse(json)
  if (!parsed.success) throw new CodecError("pairing code is damaged")
  const o = parsed.data
  if (o.exp < now) throw new ProtocolStateError("PAIRING_EXPIRED", "this pairing code has expired")
  return {
    signal: o.signal.replace(/\/+$/, ""),
    spaceId: o.space as SpaceId,
    hubDeviceId: o.hub as DeviceId,
    hubName: o.name,
    hubKey: fromBase64Url(o.key),
    secret: fromBase64Url(o.secret),
    expiresAt: o.exp,
    suite: o.suite ?? defaultSuiteName,
  }
}

async function hkdf(secret: Uint8Array, info: string, length: number): Promise<Uint8Array> {
  const key = await crypto.subtle.importKey("raw", bufferSource(secret), "HKDF", false, ["deriveBits"])
  const bits = await crypto.subtle.deriveBits(
    { name: "HKDF", hash: "SHA-256", salt: new Uint8Array(0), info: bufferSource(utf8(info)) },
    key,
    length * 8,
  )
  return new Uint8Array(bits)
}

/** The pairing room at signal for this invite: 64 hex characters. */
export async function pairingRoomId(secret: Uint8Array): Promise<string> {
  return toHex(await hkdf(secret, "vigil pair room v1", 32))
}

async function joinMac(secret: Uint8Array, deviceId: DeviceId, keyPackage: Uint8Array): Promise<Uint8Array> {
  const macKey = await crypto.subtle.importKey(
    "raw",
    bufferSource(await hkdf(secret, "vigil pair mac v1", 32)),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  )
  const data = concatBytes(utf8("vigil pair join v1"), utf8(deviceId), keyPackage)
  return new Uint8Array(await crypto.subtle.sign("HMAC", macKey, bufferSource(data)))
}

const joinRequestSchema = z.strictObject({
  v: z.literal(1),
  device: z.string().regex(/^[0-9a-f]{32}$/),
  kp: z.string().regex(/^[A-Za-z0-9_-]{1,8192}$/),
  mac: z.string().regex(/^[A-Za-z0-9_-]{43}$/),
})

export interface JoinRequest {
  deviceId: DeviceId
  keyPackage: Uint8Array
}

/** The phone's request to join, posted to the pairing room. */
export async function createJoinRequest(secret: Uint8Array, request: JoinRequest): Promise<Uint8Array> {
  const mac = await joinMac(secret, request.deviceId, request.keyPackage)
  return utf8(
    JSON.stringify({
      v: 1,
      device: request.deviceId,
      kp: toBase64Url(request.keyPackage),
      mac: toBase64Url(mac),
    }),
  )
}

/** The hub checks a join request read from the room; only holders of the invite secret pass. */
export async function verifyJoinRequest(secret: Uint8Array, bytes: Uint8Array): Promise<JoinRequest> {
  let json: unknown
  try {
    json = JSON.parse(fromUtf8(bytes))
  } catch (cause) {
    throw new CodecError("join request is not JSON", { cause })
  }
  const parsed = joinRequestSchema.safeParse(json)
  if (!parsed.success) throw new CodecError("join request is malformed")
  const deviceId = parsed.data.device as DeviceId
  const keyPackage = fromBase64Url(parsed.data.kp)
  const expected = await joinMac(secret, deviceId, keyPackage)
  if (!equalBytes(expected, fromBase64Url(parsed.data.mac))) {
    throw new CryptoError("PAIRING_INVALID", "join request was not made with this invite")
  }
  return { deviceId, keyPackage }
}
