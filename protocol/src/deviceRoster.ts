/**
 * Managing the phones of a space from a paired phone (the Devices screen).
 *
 * Phone → hub, an MLS application message in the hub's mailbox holding a signed envelope
 * (signedEnvelope.ts), label "vigil phone device v1", signed with the phone's pinned MLS signature key:
 *   { kind: "device-remove", deviceId: <sender>, target: <phone to remove>, issuedAt: ms }
 *   { kind: "device-roster-request", deviceId: <sender>, issuedAt: ms }
 *   { kind: "rename-camera", deviceId: <sender>, cameraId, name, issuedAt: ms }
 *   { kind: "pairing-open", deviceId: <sender>, roomId: hex64, issuedAt: ms }   (a join link, see
 *                                                   pairingDiscovery.ts: the hub watches that room 15 min)
 *   { kind: "set-role", deviceId: <sender>, target: <phone>, role: "owner" | "member", issuedAt: ms }
 *   { kind: "camera-…", deviceId: <sender>, requestId, …, issuedAt: ms }   (camera set-up, cameraSetup.ts)
 * The hub acts only for a paired phone whose pinned key signed it, only for a fresh request (issuedAt within
 * a minute, and later than the last one it accepted from that phone: no replays), and removes only paired
 * phones. Roles (roles.ts) decide who may ask what: an owner anything above, a member the roster and its own
 * leaving; a refused request is answered with the current roster, so a phone that acted on stale roles
 * learns them. The removal is an MLS Remove commit: the removed phone can decrypt nothing sent afterwards.
 * A rename applies to one of the hub's configured cameras, for every phone (names as in pairing: 1–64
 * characters, no control or format characters); clips announced afterwards carry the new name.
 *
 * Hub → phones, sealed the same way, label "vigil hub roster v1", signed with the hub's key:
 *   { kind: "device-roster", spaceId, epoch, devices: [{ deviceId, name?, pairedAt, role? }], cameras: [{ id, name }] }
 * The list of members itself is what the phone's own ratchet tree says; the roster only adds the readable
 * names the phones gave at pairing, and the hub's cameras with their current names (`cameras` is absent
 * from rosters of older hubs: read as none; a device without `role` is an owner, as roles.ts reads it).
 */
import type { Signature } from "ts-mls"
import { z } from "zod"
import { fromUtf8 } from "./bytes.ts"
import { ProtocolStateError } from "./errors.ts"
import type { CameraId, DeviceId, SpaceId } from "./ids.ts"
import { phoneRoles, type PhoneRole } from "./roles.ts"
import { cameraSetupRequestSchemas, type CameraSetupRequest } from "./cameraSetup.ts"
import {
  openEnvelope,
  openPhoneSigned,
  signEnvelope,
  splitEnvelope,
  type PhoneSigner,
} from "./signedEnvelope.ts"

const requestLabel = "vigil phone device v1"
const rosterLabel = "vigil hub roster v1"

/** A device request older than this (or this far in the future) is refused. */
export const deviceRequestMaxAgeMs = 60_000

const deviceId = z.string().regex(/^[0-9a-f]{32}$/)
const issuedAt = z.number().int().nonnegative()
/** A camera id as the hub's config allows it. */
const cameraId = z.string().regex(/^[a-z0-9-]{1,32}$/)

/** Longest camera name a phone may give (characters), as for pairing names. */
export const maxCameraNameLength = 64

/** A camera name given from a phone: 1–64 characters, no control or format characters (bidi overrides). */
const cameraNameSchema = z
  .string()
  .min(1)
  .max(maxCameraNameLength)
  .regex(/^[^\p{Cc}\p{Cf}]+$/u)

/** Whether a phone may propose `name` for a camera (the hub applies the same rule). */
export const isValidCameraName = (name: string) => cameraNameSchema.safeParse(name).success

const deviceRequestSchema = z.discriminatedUnion("kind", [
  z.strictObject({ kind: z.literal("device-remove"), deviceId, target: deviceId, issuedAt }),
  z.strictObject({ kind: z.literal("device-roster-request"), deviceId, issuedAt }),
  z.strictObject({ kind: z.literal("rename-camera"), deviceId, cameraId, name: cameraNameSchema, issuedAt }),
  z.strictObject({
    kind: z.literal("pairing-open"),
    deviceId,
    roomId: z.string().regex(/^[0-9a-f]{64}$/),
    issuedAt,
  }),
  z.strictObject({
    kind: z.literal("set-role"),
    deviceId,
    target: deviceId,
    role: z.enum(phoneRoles),
    issuedAt,
  }),
  ...cameraSetupRequestSchemas,
])

export type DeviceRequest =
  | { kind: "device-remove"; deviceId: DeviceId; target: DeviceId; issuedAt: number }
  | { kind: "device-roster-request"; deviceId: DeviceId; issuedAt: number }
  | { kind: "rename-camera"; deviceId: DeviceId; cameraId: CameraId; name: string; issuedAt: number }
  /**
   * A paired phone invites another phone, wherever it is: the hub watches the room the phone picked for a
   * join, as in pairing by discovery (the room travels in a join link, never announced).
   */
  | { kind: "pairing-open"; deviceId: DeviceId; roomId: string; issuedAt: number }
  /** An owner makes a phone an owner or a member (roles.ts). */
  | { kind: "set-role"; deviceId: DeviceId; target: DeviceId; role: PhoneRole; issuedAt: number }
  /** Discover, test, add, change and remove cameras (cameraSetup.ts). */
  | CameraSetupRequest

const rosterSchema = z.strictObject({
  kind: z.literal("device-roster"),
  spaceId: z.string().regex(/^[0-9a-f]{32}$/),
  epoch: z.string().regex(/^[0-9]{1,20}$/),
  devices: z
    .array(
      z.strictObject({
        deviceId,
        name: z.string().min(1).max(64).optional(),
        pairedAt: z.number().int().nonnegative(),
        role: z.enum(phoneRoles).optional(),
      }),
    )
    .max(256),
  // Optional: rosters from hubs before camera renaming have no cameras.
  cameras: z
    .array(z.strictObject({ id: cameraId, name: z.string().min(1).max(maxCameraNameLength) }))
    .max(64)
    .optional(),
})

export interface DeviceRoster {
  kind: "device-roster"
  spaceId: SpaceId
  epoch: string
  devices: { deviceId: DeviceId; name?: string; pairedAt: number; role?: PhoneRole }[]
  /** The hub's cameras and their current names (renames from phones applied). */
  cameras: { id: CameraId; name: string }[]
}

/**
 * The `kind` a signed envelope's body declares, read WITHOUT verifying anything, only to pick the right
 * opener; undefined when the bytes are not an envelope with a JSON body that has a string `kind`.
 */
export function peekEnvelopeKind(bytes: Uint8Array): string | undefined {
  try {
    const envelope = splitEnvelope(bytes, "message")
    const body: unknown = JSON.parse(fromUtf8(envelope.body))
    const kind = (body as { kind?: unknown } | null)?.kind
    return typeof kind === "string" ? kind : undefined
  } catch {
    return undefined
  }
}

/** Every kind of device request, from the schema itself (a new kind cannot be forgotten here). */
const deviceRequestKinds: ReadonlySet<string> = new Set(
  deviceRequestSchema.options.map((o) => o.shape.kind.value),
)

export const isDeviceRequestKind = (kind: string | undefined) =>
  kind !== undefined && deviceRequestKinds.has(kind)

/** Phone: signs a device request with its MLS signature key; then seal it with `SpaceSession.seal`. */
export function signDeviceRequest(
  request: DeviceRequest,
  groupId: Uint8Array,
  signKey: Uint8Array,
  signature: Signature,
): Promise<Uint8Array> {
  return signEnvelope(requestLabel, groupId, request, signKey, signature)
}

/**
 * Hub: verifies a device request (already MLS-decrypted) from `from`, the device signal says sent it. Refuses
 * requests naming another sender, from a device that is not paired, not signed by its pinned key, stale, or
 * not later than `notBefore` (the last accepted request of that phone).
 */
export async function openDeviceRequest(
  bytes: Uint8Array,
  opts: PhoneSigner & { now: number; notBefore?: number },
): Promise<DeviceRequest> {
  const request = (await openPhoneSigned(bytes, {
    ...opts,
    label: requestLabel,
    schema: deviceRequestSchema,
    what: "device request",
  })) as DeviceRequest
  if (Math.abs(opts.now - request.issuedAt) > deviceRequestMaxAgeMs) {
    throw new ProtocolStateError("REQUEST_STALE", "device request is too old or from the future")
  }
  if (opts.notBefore !== undefined && request.issuedAt <= opts.notBefore) {
    throw new ProtocolStateError("REQUEST_REPLAYED", "device request replayed")
  }
  return request
}

/** Hub: signs the roster (then sealed for the phones). */
export function signDeviceRoster(
  roster: DeviceRoster,
  groupId: Uint8Array,
  signKey: Uint8Array,
  signature: Signature,
): Promise<Uint8Array> {
  return signEnvelope(rosterLabel, groupId, roster, signKey, signature)
}

/** Phone: verifies the roster against the pinned hub key. */
export async function openDeviceRoster(
  bytes: Uint8Array,
  groupId: Uint8Array,
  hubKey: Uint8Array,
  signature: Signature,
): Promise<DeviceRoster> {
  const r = await openEnvelope(bytes, {
    label: rosterLabel,
    groupId,
    key: hubKey,
    signature,
    schema: rosterSchema,
    what: "device roster",
  })
  return {
    kind: "device-roster",
    spaceId: r.spaceId as SpaceId,
    epoch: r.epoch,
    devices: r.devices.map((d) => ({ ...d, deviceId: d.deviceId as DeviceId })),
    cameras: (r.cameras ?? []).map((c) => ({ id: c.id as CameraId, name: c.name })),
  }
}
