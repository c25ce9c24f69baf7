/**
 * Pairing by discovery: no shared secret, a short code compared by a person instead.
 *
 * 1. The hub, in pairing mode, picks a random room id and announces `{ roomId, name }` at signal
 *    (POST /v1/pairing/announcements, listed only to devices behind the same public address).
 * 2. The phone lists the announcements, the user picks the hub by name, and the phone posts a `join`
 *    (its KeyPackage, a readable device name, and the commitment to a fresh nonce) into the room.
 * 3. The hub builds the Add commit and the Welcome in memory only and sends the Welcome to the phone; the
 *    phone joins, then posts a `reveal` of its nonce; the hub checks it against the commitment. Both show
 *    `confirmationCode(epoch_authenticator, nonce)` of that new epoch (confirmationCode.ts says why the
 *    nonce is committed first: it stops a relay in the middle from grinding its epoch to match the code).
 * 4. The phone's user confirms: the phone posts a `confirm` into the room, holding an MLS application
 *    message sealed in the new epoch (only the hub and this phone have its keys) that names the code.
 *    A `cancel` withdraws the request.
 * 5. Only when the hub's user confirmed too (and the phone's `confirm` arrived) does the hub save the new
 *    epoch, send the commit to the other phones and mail the phone a hub-signed `pairing-result`,
 *    sealed in the new epoch; a refusal or a timeout mails a `pairing-result` with `accepted: false` and the
 *    hub goes back to its saved epoch.
 *
 * Nothing here is secret from signal. What protects the pairing is the comparison of the code: a relay or a
 * neighbour that substitutes a key package, or answers in the hub's place, ends up in a different epoch and
 * so shows a different code (docs/02-threat-model.md). Until the user confirmed the code the phone trusts
 * the hub key from the Welcome provisionally: it keeps nothing and delivers nothing.
 *
 * Room messages (UTF-8 JSON):
 *   { v: 1, kind: "join",    device: hex32, name: string (1–64), kp: base64url(KeyPackage),
 *                            nc: base64url(SHA-256("vigil pairing nonce v1" || nonce)) }
 *   { v: 1, kind: "reveal",  device: hex32, nonce: base64url(32 bytes) }
 *   { v: 1, kind: "confirm", device: hex32, msg: base64url(MLS PrivateMessage of a confirmation body) }
 *   { v: 1, kind: "cancel",  device: hex32 }
 *   { v: 1, kind: "approve", device: hex32, msg: base64url(signed approval) }   (from an already-paired phone)
 *
 * Adding another phone from a paired one: while a request waits, the hub mails each paired phone a
 * hub-signed `pairing-pending` notice (device name, code, room); a paired phone whose user compared the code
 * with the new phone's screen posts a `pairing-approve` signed with its pinned key, which stands for the "y"
 * at the hub. The new phone still has to confirm on its side.
 */
import { z } from "zod"
import type { Signature } from "ts-mls"
import type { AeadProvider } from "./aead.ts"
import { webCryptoAead } from "./aead.ts"
import { concatBytes, fromBase64Url, fromUtf8, randomBytes, toBase64Url, toHex, utf8 } from "./bytes.ts"
import { CodecError, CryptoError, ProtocolStateError } from "./errors.ts"
import { bucketLength } from "./lengthBuckets.ts"
import type { DeviceId, SpaceId } from "./ids.ts"
import {
  openEnvelope,
  parseEnvelopeBody,
  signEnvelope,
  splitEnvelope,
  verifyEnvelope,
} from "./signedEnvelope.ts"
import { defaultSuiteName, supportedSuites, type SupportedSuite } from "./suite.ts"

/** Longest device or hub name carried in pairing messages (characters). */
export const maxPairingNameLength = 64

const nameSchema = z
  .string()
  .min(1)
  .max(maxPairingNameLength)
  // No control or format characters (escapes, bidi overrides): names are shown in a terminal and the app.
  .regex(/^[^\p{Cc}\p{Cf}]+$/u)

function parseJson(bytes: Uint8Array, what: string): unknown {
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

const deviceSchema = z.string().regex(/^[0-9a-f]{32}$/)
const b64 = (max: number) => z.string().regex(new RegExp(`^[A-Za-z0-9_-]{1,${max}}$`))

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
  z.strictObject({ v: z.literal(1), kind: z.literal("confirm"), device: deviceSchema, msg: b64(4096) }),
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

// ---------------------------------------------------------------------------------------------------------
// The phone's confirmation, the plaintext of the MLS application message inside a `confirm`.

const confirmationSchema = z.strictObject({
  v: z.literal(1),
  kind: z.literal("pairing-confirm"),
  device: deviceSchema,
  code: z.string().regex(/^[0-9]{6}$/),
})

export function encodePairingConfirmation(deviceId: DeviceId, code: string): Uint8Array {
  return utf8(JSON.stringify({ v: 1, kind: "pairing-confirm", device: deviceId, code }))
}

/**
 * The hub checks the opened confirmation: from this device, for the code the hub computed. (It was opened
 * in the pending epoch, which only the hub and this phone share.)
 */
export function checkPairingConfirmation(plaintext: Uint8Array, deviceId: DeviceId, code: string): void {
  const parsed = confirmationSchema.safeParse(parseJson(plaintext, "pairing confirmation"))
  if (!parsed.success) throw new CodecError("pairing confirmation is malformed")
  if (parsed.data.device !== deviceId || parsed.data.code !== code) {
    throw new CryptoError("PAIRING_INVALID", "pairing confirmation is for another device or code")
  }
}

// ---------------------------------------------------------------------------------------------------------
// The hub's answer, signed by the hub and sealed in the pending epoch (see signedEnvelope.ts).

const resultLabel = "vigil pairing result v1"

const resultSchema = z.strictObject({
  kind: z.literal("pairing-result"),
  spaceId: z.string().regex(/^[0-9a-f]{32}$/),
  to: deviceSchema,
  accepted: z.boolean(),
  epoch: z.string().regex(/^[0-9]{1,20}$/),
})

export interface PairingResult {
  kind: "pairing-result"
  spaceId: SpaceId
  to: DeviceId
  accepted: boolean
  /** The epoch that adds the phone (decimal). */
  epoch: string
}

export function signPairingResult(
  result: PairingResult,
  groupId: Uint8Array,
  signKey: Uint8Array,
  signature: Signature,
): Promise<Uint8Array> {
  return signEnvelope(resultLabel, groupId, result, signKey, signature)
}

/** Opens the hub's answer; `hubKey` is the hub's signature key from the Welcome's ratchet tree. */
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
  return { ...r, spaceId: r.spaceId as SpaceId, to: r.to as DeviceId }
}

// ---------------------------------------------------------------------------------------------------------
// Approval from an already-paired phone.

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
  opts: {
    groupId: Uint8Array
    from: DeviceId
    pinnedKey: (deviceId: DeviceId) => Uint8Array | undefined
    signature: Signature
    target: DeviceId
    code: string
  },
): Promise<PairingApproval> {
  const envelope = splitEnvelope(bytes, "pairing approval")
  const a = parseEnvelopeBody(envelope, approvalSchema, "pairing approval")
  if (a.deviceId !== opts.from) throw new CryptoError("PAIRING_INVALID", "approval names another device")
  const key = opts.pinnedKey(a.deviceId as DeviceId)
  if (!key) throw new CryptoError("NOT_A_MEMBER", "approval from a device that is not paired")
  if (!(await verifyEnvelope(approvalLabel, opts.groupId, envelope, key, opts.signature))) {
    throw new CryptoError("SIGNATURE_INVALID", "approval not signed by the paired device")
  }
  if (a.target !== opts.target || a.code !== opts.code) {
    throw new CryptoError("PAIRING_INVALID", "approval is for another request or code")
  }
  return { ...a, deviceId: a.deviceId as DeviceId, target: a.target as DeviceId }
}
