/**
 * Pairing by discovery: no shared secret, a short code compared by a person instead.
 *
 * 1. The hub, in pairing mode, picks a random room id and announces `{ roomId, name }` at signal
 *    (POST /v1/pairing/announcements, listed only to devices behind the same public address).
 * 2. The phone lists the announcements, the user picks the hub by name, and the phone posts a `join`
 *    (its KeyPackage, a readable device name, and the commitment to a fresh nonce) into the room.
 * 3. The hub answers with a Welcome into a PROBE, a throwaway group of two (discoveryProbe.ts): nothing
 *    of the household is shown to whoever posted the join. The phone joins it, then posts a `reveal` of its
 *    nonce; the hub checks it against the commitment. Both show `confirmationCode(epoch_authenticator,
 *    nonce)` of the probe's epoch (confirmationCode.ts says why the nonce is committed first: it stops a
 *    relay in the middle from grinding its epoch to match the code).
 * 4. The phone's user confirms: the phone posts a `confirm` into the room, holding an MLS application
 *    message sealed in the probe that names the code and carries the phone's key package for the household.
 *    A `cancel` withdraws the request.
 * 5. Only when the hub's user confirmed too (and the phone's `confirm` arrived) does the hub add that key
 *    package to the household's group (one commit, saved with its outbox, sent to the other phones) and
 *    mail the phone a `pairing-result` sealed in the probe that carries the household's Welcome; a refusal
 *    or a timeout mails a `pairing-result` with `accepted: false` and nothing else.
 *
 * Nothing here is secret from signal. What protects the pairing is the comparison of the code: a relay or a
 * neighbour that substitutes a key package, or answers in the hub's place, ends up in a different epoch and
 * so shows a different code (docs/02-threat-model.md). Until the user confirmed the code the phone trusts
 * the probe's hub key provisionally: it keeps nothing and delivers nothing.
 *
 * Room messages (UTF-8 JSON):
 *   { v: 1, kind: "join",    device: hex32, name: string (1–64), kp: base64url(KeyPackage),
 *                            nc: base64url(SHA-256("vigil pairing nonce v1" || nonce)) }
 *   { v: 1, kind: "reveal",  device: hex32, nonce: base64url(32 bytes) }
 *   { v: 1, kind: "confirm", device: hex32, msg: base64url(MLS PrivateMessage of a confirmation body) }
 *   { v: 1, kind: "cancel",  device: hex32 }
 *   { v: 1, kind: "approve", device: hex32, msg: base64url(signed approval) }   (from an already-paired phone)
 *
 * Adding another phone from a paired one: pairingApproval.ts.
 */
import { z } from "zod"
import { fromBase64Url, fromUtf8, randomBytes, toBase64Url, toHex, utf8 } from "./bytes.ts"
import { CodecError, CryptoError } from "./errors.ts"
import type { DeviceId } from "./ids.ts"
import { defaultSuiteName, supportedSuites, type SupportedSuite } from "./suite.ts"

/** Longest device or hub name carried in pairing messages (characters). */
export const maxPairingNameLength = 64

/** A device or hub name as pairing messages carry it. */
export const nameSchema = z
  .string()
  .min(1)
  .max(maxPairingNameLength)
  // No control or format characters (escapes, bidi overrides): names are shown in a terminal and the app.
  .regex(/^[^\p{Cc}\p{Cf}]+$/u)

/** Parses UTF-8 JSON from the network; anything else is a CodecError naming `what`. */
export function parseJson(bytes: Uint8Array, what: string): unknown {
  try {
    return JSON.parse(fromUtf8(bytes))
  } catch (cause) {
    throw new CodecError(`${what} is not JSON`, { cause })
  }
}

// ---------------------------------------------------------------------------------------------------------
// The announcement's opaque `name` bytes: { v: 1, name, suite? } as UTF-8 JSON (≤ 256 bytes at signal).

const announcementSchema = z.strictObject({
  v: z.literal(1),
  name: nameSchema,
  suite: z.enum(supportedSuites).optional(),
})

export interface DiscoveryAnnouncement {
  /** The hub's name, as its owner set it. Untrusted until the code is confirmed. */
  name: string
  /** The space's ciphersuite: the phone's key package must use it. */
  suite: SupportedSuite
}

export function encodeDiscoveryAnnouncement(a: DiscoveryAnnouncement): Uint8Array {
  return utf8(
    JSON.stringify({
      v: 1,
      name: a.name.slice(0, maxPairingNameLength),
      ...(a.suite === defaultSuiteName ? {} : { suite: a.suite }),
    }),
  )
}

/** Parses an announcement listed by signal (untrusted bytes). */
export function decodeDiscoveryAnnouncement(bytes: Uint8Array): DiscoveryAnnouncement {
  const parsed = announcementSchema.safeParse(parseJson(bytes, "announcement"))
  if (!parsed.success) throw new CodecError("announcement is malformed")
  return { name: parsed.data.name, suite: parsed.data.suite ?? defaultSuiteName }
}

// ---------------------------------------------------------------------------------------------------------
// A join link: a paired phone invites another phone, wherever it is (`…/#join=j1.<base64url(JSON)>`). It
// names the hub and a room the inviting phone picked and asked the hub to watch ("pairing-open"). It is only
// a rendezvous, as untrusted as an announcement: what protects the pairing is still the code, which the
// inviting phone's user compares with the new phone's screen before approving.

const joinLinkSchema = z.strictObject({
  v: z.literal(1),
  room: z.string().regex(/^[0-9a-f]{64}$/),
  name: nameSchema,
  hub: z.string().regex(/^[0-9a-f]{32}$/),
  suite: z.enum(supportedSuites).optional(),
  exp: z.number().int().nonnegative(),
})

export interface JoinLink {
  roomId: string
  /** The hub's name, as the inviting phone knows it. */
  name: string
  /** The hub's device at signal: the Welcome must come from it. */
  hubDeviceId: string
  suite: SupportedSuite
  /** Until when the hub watches the room (ms since the epoch). */
  expiresAt: number
}

const joinLinkPrefix = "j1."

export function encodeJoinLink(link: JoinLink): string {
  const body = {
    v: 1,
    room: link.roomId,
    name: link.name.slice(0, maxPairingNameLength),
    hub: link.hubDeviceId,
    ...(link.suite === defaultSuiteName ? {} : { suite: link.suite }),
    exp: link.expiresAt,
  }
  return joinLinkPrefix + toBase64Url(utf8(JSON.stringify(body)))
}

/** Parses the `join` fragment of a link (untrusted text). */
export function decodeJoinLink(text: string): JoinLink {
  if (!text.startsWith(joinLinkPrefix) || text.length > 1024) throw new CodecError("not a join link")
  let bytes: Uint8Array
  try {
    bytes = fromBase64Url(text.slice(joinLinkPrefix.length))
  } catch (cause) {
    throw new CodecError("join link is not base64url", { cause })
  }
  const parsed = joinLinkSchema.safeParse(parseJson(bytes, "join link"))
  if (!parsed.success) throw new CodecError("join link is malformed")
  const l = parsed.data
  return {
    roomId: l.room,
    name: l.name,
    hubDeviceId: l.hub,
    suite: l.suite ?? defaultSuiteName,
    expiresAt: l.exp,
  }
}

/** A fresh room for one pairing session: 32 random bytes as 64 hex characters. */
export function newDiscoveryRoomId(): string {
  return toHex(randomBytes(32))
}

// ---------------------------------------------------------------------------------------------------------
// Messages in the room.

/** A device id at signal (32 hex characters). */
export const deviceSchema = z.string().regex(/^[0-9a-f]{32}$/)
/** base64url text of 1 to `max` characters. */
export const b64 = (max: number) => z.string().regex(new RegExp(`^[A-Za-z0-9_-]{1,${max}}$`))

const roomMessageSchema = z.discriminatedUnion("kind", [
  z.strictObject({
    v: z.literal(1),
    kind: z.literal("join"),
    device: deviceSchema,
    name: nameSchema,
    kp: b64(8192),
    nc: z.string().regex(/^[A-Za-z0-9_-]{43}$/),
  }),
  z.strictObject({
    v: z.literal(1),
    kind: z.literal("reveal"),
    device: deviceSchema,
    nonce: z.string().regex(/^[A-Za-z0-9_-]{43}$/),
  }),
  // A confirmation carries the phone's lasting key package (sealed): up to ~11 KiB, in a 16 KiB room message.
  z.strictObject({ v: z.literal(1), kind: z.literal("confirm"), device: deviceSchema, msg: b64(15_000) }),
  z.strictObject({ v: z.literal(1), kind: z.literal("cancel"), device: deviceSchema }),
  z.strictObject({ v: z.literal(1), kind: z.literal("approve"), device: deviceSchema, msg: b64(4096) }),
])

export type DiscoveryRoomMessage =
  | { kind: "join"; deviceId: DeviceId; deviceName: string; keyPackage: Uint8Array; commitment: Uint8Array }
  | { kind: "reveal"; deviceId: DeviceId; nonce: Uint8Array }
  | { kind: "confirm"; deviceId: DeviceId; sealed: Uint8Array }
  | { kind: "cancel"; deviceId: DeviceId }
  | { kind: "approve"; deviceId: DeviceId; signed: Uint8Array }

export function encodeDiscoveryRoomMessage(m: DiscoveryRoomMessage): Uint8Array {
  switch (m.kind) {
    case "join":
      return utf8(
        JSON.stringify({
          v: 1,
          kind: "join",
          device: m.deviceId,
          name: m.deviceName,
          kp: toBase64Url(m.keyPackage),
          nc: toBase64Url(m.commitment),
        }),
      )
    case "reveal":
      return utf8(JSON.stringify({ v: 1, kind: "reveal", device: m.deviceId, nonce: toBase64Url(m.nonce) }))
    case "confirm":
      return utf8(JSON.stringify({ v: 1, kind: "confirm", device: m.deviceId, msg: toBase64Url(m.sealed) }))
    case "cancel":
      return utf8(JSON.stringify({ v: 1, kind: "cancel", device: m.deviceId }))
    case "approve":
      return utf8(JSON.stringify({ v: 1, kind: "approve", device: m.deviceId, msg: toBase64Url(m.signed) }))
  }
}

/**
 * Parses a room message and checks it names the device signal says posted it (`from`): a device cannot
 * speak for another in the room.
 */
export function decodeDiscoveryRoomMessage(bytes: Uint8Array, from: string): DiscoveryRoomMessage {
  const parsed = roomMessageSchema.safeParse(parseJson(bytes, "pairing message"))
  if (!parsed.success) throw new CodecError("pairing message is malformed")
  const o = parsed.data
  if (o.device !== from) throw new CryptoError("PAIRING_INVALID", "pairing message names another device")
  const deviceId = o.device as DeviceId
  switch (o.kind) {
    case "join":
      return {
        kind: "join",
        deviceId,
        deviceName: o.name,
        keyPackage: fromBase64Url(o.kp),
        commitment: fromBase64Url(o.nc),
      }
    case "reveal":
      return { kind: "reveal", deviceId, nonce: fromBase64Url(o.nonce) }
    case "confirm":
      return { kind: "confirm", deviceId, sealed: fromBase64Url(o.msg) }
    case "cancel":
      return { kind: "cancel", deviceId }
    case "approve":
      return { kind: "approve", deviceId, signed: fromBase64Url(o.msg) }
  }
}
