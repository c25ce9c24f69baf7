/**
 * Setting up cameras from a phone (issue 17): discover, test, add, change settings, remove.
 *
 * Phone → hub: device requests (deviceRoster.ts), signed with the phone's pinned key and sealed in MLS, so
 * camera credentials travel to the hub only inside MLS and signal sees neither them nor the cameras. Only an
 * owner may ask (roles.ts "manage-cameras"); every request carries a `requestId` the answer repeats:
 *   { kind: "camera-discover", deviceId, requestId, issuedAt }            → "discovered"
 *   { kind: "camera-test", deviceId, requestId, source, issuedAt }         → "tested" | "failed"
 *   { kind: "camera-add", deviceId, requestId, name, source, issuedAt }    → "added" | "failed"
 *   { kind: "camera-get", deviceId, requestId, cameraId, issuedAt }        → "camera" (settings + snapshot)
 *   { kind: "camera-update", deviceId, requestId, cameraId, settings, issuedAt } → "updated" | "failed"
 *   { kind: "camera-remove", deviceId, requestId, cameraId, issuedAt }     → "removed" | "failed"
 *   { kind: "camera-motion-preview", deviceId, requestId, cameraId, motion, issuedAt } → "motion-preview"
 * A camera is added only once the hub has pulled video from it ("nothing is saved until it works"); a bad
 * change is refused with the field named. The hub's config file stays the single source of truth: what a
 * phone changes is validated and written there atomically, and read back by `hub cameras list`.
 *
 * Hub → the asking phone only (`to`), a hub message (hubMessages.ts, signed by the hub's key):
 *   { kind: "camera-setup-reply", spaceId, to, requestId, result }
 * Replies never carry a camera's password: sources come back with credentials removed.
 */
import { z } from "zod"
import type { CameraId, DeviceId, SpaceId } from "./ids.ts"

const deviceId = z.string().regex(/^[0-9a-f]{32}$/)
const issuedAt = z.number().int().nonnegative()
const requestId = z.string().regex(/^[0-9a-f]{32}$/)
const cameraId = z.string().regex(/^[a-z0-9-]{1,32}$/)
/** 1–64 characters, no control or format characters (as camera names from a phone, deviceRoster.ts). */
const cameraName = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[^\p{Cc}\p{Cf}]+$/u)

/** Labels a camera can notify for, and a zone can care about ("motion": nothing recognised). */
export const setupLabels = ["person", "pet", "vehicle", "motion"] as const
export type SetupLabel = (typeof setupLabels)[number]

const unit = z.number().min(0).max(1)
const point = z.tuple([unit, unit])
/** Normalized coordinates (0–1, origin top left), as in the hub's config. */
export const polygonSchema = z.array(point).min(3, "a polygon needs at least 3 points").max(64)
export type Polygon = [number, number][]

/**
 * A watched area. `labels`: which recognised objects count inside it (absent: all); a person outside every
 * zone that cares about people is not reported.
 */
export const zoneSchema = z.strictObject({
  points: polygonSchema,
  labels: z.array(z.enum(setupLabels)).max(4).optional(),
})
export type Zone = { points: Polygon; labels?: SetupLabel[] }

const hhmm = z.string().regex(/^([01][0-9]|2[0-3]):[0-5][0-9]$/, "a time as HH:MM")

/** What an owner can change about a camera from the phone. */
export const cameraSettingsSchema = z.strictObject({
  name: cameraName,
  /** Record event clips (off: the camera is for live view only). */
  record: z.boolean(),
  /** Which labels notify; a clip labelled otherwise is still recorded and delivered silently. */
  notify: z.array(z.enum(setupLabels)).max(4),
  /** No notification in this window of the hub's local time (clips are still recorded); null: none. */
  quietHours: z.strictObject({ from: hhmm, to: hhmm }).nullable(),
  /** No notification before this time (ms); null: not snoozed. */
  snoozeUntil: z.number().int().nonnegative().nullable(),
  motion: z.strictObject({
    /** 0 (only large, stark changes) – 1 (the faintest). */
    sensitivity: unit,
    /** Fraction of the watched area that must change. */
    minArea: z.number().min(0.0001).max(1),
    zones: z.array(zoneSchema).max(16),
    masks: z.array(polygonSchema).max(16),
  }),
})
export type CameraSettings = z.infer<typeof cameraSettingsSchema>
export type MotionSettings = CameraSettings["motion"]

const rtspUrl = z
  .string()
  .max(1024)
  .regex(/^rtsps?:\/\/[^\s]+$/i, "must start with rtsp:// or rtsps://")
const credential = z
  .string()
  .max(128)
  .regex(/^[^\p{Cc}]*$/u)

/**
 * Where a camera's video comes from: an RTSP URL typed in (with an optional second, smaller stream for
 * detection), or an ONVIF camera found by discovery, whose profiles name both.
 */
export const cameraSourceSchema = z.discriminatedUnion("kind", [
  z.strictObject({
    kind: z.literal("rtsp"),
    url: rtspUrl,
    /** A smaller stream of the same camera: motion and detection run on it; the main one is recorded. */
    substreamUrl: rtspUrl.optional(),
    username: credential.optional(),
    password: credential.optional(),
    transport: z.enum(["tcp", "udp"]).optional(),
  }),
  z.strictObject({
    kind: z.literal("onvif"),
    /** The device service address discovery reported (`http://192.168.1.20/onvif/device_service`). */
    xaddr: z
      .string()
      .max(1024)
      .regex(/^https?:\/\/[^\s]+$/i, "must be an http:// or https:// address"),
    username: credential.optional(),
    password: credential.optional(),
  }),
])
export type CameraSource = z.infer<typeof cameraSourceSchema>

export const cameraSetupRequestSchemas = [
  z.strictObject({ kind: z.literal("camera-discover"), deviceId, requestId, issuedAt }),
  z.strictObject({
    kind: z.literal("camera-test"),
    deviceId,
    requestId,
    source: cameraSourceSchema,
    issuedAt,
  }),
  z.strictObject({
    kind: z.literal("camera-add"),
    deviceId,
    requestId,
    name: cameraName,
    source: cameraSourceSchema,
    issuedAt,
  }),
  z.strictObject({ kind: z.literal("camera-get"), deviceId, requestId, cameraId, issuedAt }),
  z.strictObject({
    kind: z.literal("camera-update"),
    deviceId,
    requestId,
    cameraId,
    settings: cameraSettingsSchema.partial(),
    issuedAt,
  }),
  z.strictObject({ kind: z.literal("camera-remove"), deviceId, requestId, cameraId, issuedAt }),
  z.strictObject({
    kind: z.literal("camera-motion-preview"),
    deviceId,
    requestId,
    cameraId,
    motion: cameraSettingsSchema.shape.motion,
    issuedAt,
  }),
] as const

type Stamped<T> = T & { deviceId: DeviceId; requestId: string; issuedAt: number }
export type CameraSetupRequest =
  | Stamped<{ kind: "camera-discover" }>
  | Stamped<{ kind: "camera-test"; source: CameraSource }>
  | Stamped<{ kind: "camera-add"; name: string; source: CameraSource }>
  | Stamped<{ kind: "camera-get"; cameraId: CameraId }>
  | Stamped<{ kind: "camera-update"; cameraId: CameraId; settings: Partial<CameraSettings> }>
  | Stamped<{ kind: "camera-remove"; cameraId: CameraId }>
  | Stamped<{ kind: "camera-motion-preview"; cameraId: CameraId; motion: MotionSettings }>

/** Every camera-setup request kind. */
export const cameraSetupRequestKinds: ReadonlySet<string> = new Set(
  cameraSetupRequestSchemas.map((s) => s.shape.kind.value),
)
export const isCameraSetupRequest = (request: { kind: string }): request is CameraSetupRequest =>
  cameraSetupRequestKinds.has(request.kind)

/** What the hub found in a stream. */
export const streamInfoSchema = z.strictObject({
  /** ffprobe's codec name: "h264", "hevc", "mjpeg", … */
  codec: z.string().min(1).max(32),
  profile: z.string().max(64).optional(),
  width: z.number().int().min(1).max(16_384),
  height: z.number().int().min(1).max(16_384),
  fps: z.number().min(0).max(1000).optional(),
  /** The audio track's codec, when the stream has one. */
  audio: z.string().min(1).max(32).optional(),
})
export type StreamInfo = z.infer<typeof streamInfoSchema>

/** A camera WS-Discovery found on the hub's LAN. */
export const discoveredCameraSchema = z.strictObject({
  xaddr: z.string().min(1).max(1024),
  /** Host (and port) of the device service: what a person recognises. */
  address: z.string().min(1).max(256),
  make: z.string().max(128).optional(),
  model: z.string().max(128).optional(),
  /** The name the camera announces in its scopes. */
  name: z.string().max(128).optional(),
  /** Set when this camera is already one of the hub's (its id). */
  cameraId: cameraId.optional(),
})
export type DiscoveredCamera = z.infer<typeof discoveredCameraSchema>

/** A camera as the phone sees it in set-up: sources with credentials removed. */
export const cameraViewSchema = z.strictObject({
  id: cameraId,
  kind: z.enum(["synthetic", "rtsp", "file", "v4l2"]),
  /** Where the video comes from, credentials removed ("rtsp://192.168.1.20/stream1"). */
  source: z.string().max(1100),
  substream: z.string().max(1100).optional(),
  settings: cameraSettingsSchema,
})
export type CameraView = z.infer<typeof cameraViewSchema>

/** Why a test, an add or a change did not work, in kinds a person can act on. */
export const setupFailureCodes = [
  /** The camera refused the user name or password. */
  "auth",
  /** Nothing answers at that address (no route, refused, DNS). */
  "unreachable",
  /** The camera answered but sent no video in time. */
  "timeout",
  /** The camera has no stream at that path. */
  "not-found",
  /** The stream is in a codec browsers cannot play live (H.265, MJPEG): choose an H.264 stream. */
  "codec",
  /** The address answers but not as an ONVIF camera. */
  "not-onvif",
  /** A value is not acceptable (`field` names it). */
  "invalid",
  /** No camera with that id on the hub. */
  "no-camera",
  /** The hub is busy with another set-up request. */
  "busy",
  /** Only an owner may set up cameras (roles.ts). */
  "not-owner",
  /** Anything else (the hub's log has more). */
  "error",
] as const
export type SetupFailureCode = (typeof setupFailureCodes)[number]

const snapshot = z
  .string()
  .regex(/^[A-Za-z0-9+/]*={0,2}$/)
  .max(200_000)

export const cameraSetupResultSchema = z.discriminatedUnion("kind", [
  z.strictObject({ kind: z.literal("discovered"), cameras: z.array(discoveredCameraSchema).max(64) }),
  z.strictObject({
    kind: z.literal("tested"),
    stream: streamInfoSchema,
    substream: streamInfoSchema.optional(),
    /** Base64 JPEG of a picture just taken from the stream. */
    snapshot,
    /** The stream addresses the hub will use (ONVIF resolves them), credentials removed. */
    source: z.string().max(1100),
    substreamSource: z.string().max(1100).optional(),
  }),
  z.strictObject({ kind: z.literal("added"), camera: cameraViewSchema }),
  z.strictObject({ kind: z.literal("camera"), camera: cameraViewSchema, snapshot: snapshot.optional() }),
  z.strictObject({ kind: z.literal("updated"), camera: cameraViewSchema }),
  z.strictObject({ kind: z.literal("removed"), cameraId }),
  z.strictObject({
    kind: z.literal("motion-preview"),
    cameraId,
    /** Size of the grid of cells (columns, rows) the frames below cover. */
    columns: z.number().int().min(1).max(256),
    rows: z.number().int().min(1).max(256),
    frames: z
      .array(
        z.strictObject({
          at: z.number().int().nonnegative(),
          /** Fraction of the watched area that changed. */
          changed: unit,
          /** Whether this picture counts as motion under the settings previewed. */
          motion: z.boolean(),
          /** Changed cells, one bit each, row by row, base64. */
          cells: z
            .string()
            .regex(/^[A-Za-z0-9+/]*={0,2}$/)
            .max(12_000),
        }),
      )
      .max(60),
  }),
  z.strictObject({
    kind: z.literal("failed"),
    code: z.enum(setupFailureCodes),
    /** A sentence for a person: what went wrong and what to do. */
    reason: z.string().min(1).max(400),
    /** The field a refused change names ("motion.zones.0.points"). */
    field: z.string().max(128).optional(),
  }),
])
export type CameraSetupResult = z.infer<typeof cameraSetupResultSchema>

export const cameraSetupReplySchema = z.strictObject({
  kind: z.literal("camera-setup-reply"),
  spaceId: z.string().regex(/^[0-9a-f]{32}$/),
  to: deviceId,
  requestId,
  result: cameraSetupResultSchema,
})
export type CameraSetupReply = Omit<z.infer<typeof cameraSetupReplySchema>, "spaceId" | "to"> & {
  spaceId: SpaceId
  to: DeviceId
}

/** Packs changed cells (row by row, true = changed) into the reply's bit string. */
export function packCells(cells: ArrayLike<boolean | number>): Uint8Array {
  const out = new Uint8Array(Math.ceil(cells.length / 8))
  for (let i = 0; i < cells.length; i++) if (cells[i]) out[i >> 3]! |= 0x80 >> (i & 7)
  return out
}

/** Reads `count` cells from a packed bit string. */
export function unpackCells(bits: Uint8Array, count: number): boolean[] {
  return Array.from({ length: count }, (_, i) => ((bits[i >> 3] ?? 0) & (0x80 >> (i & 7))) !== 0)
}
