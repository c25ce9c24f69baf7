/**
 * Messages the hub sends inside MLS application messages. MLS proves a message came from *a* member; these
 * are additionally signed with the hub's MLS signature key, so a phone (also a member) cannot forge a clip
 * announcement. Phones verify against the hub key they pinned at pairing.
 *
 * Envelope: version (u8 = 1) | signature length (u16) | Ed25519 signature | body (UTF-8 JSON)
 * Signed content: "vigil hub message v1" | group id length (u8) | group id | body
 */
import { z } from "zod"
import type { Signature } from "ts-mls"
import { parseEnvelopeBody, signEnvelope, splitEnvelope, verifyEnvelope } from "./signedEnvelope.ts"
import { maxListedRecords, recordHashLength } from "./clipFraming.ts"
import { CodecError, CryptoError } from "./errors.ts"
import type { BlobId, CameraId, ClipId, DeviceId, SpaceId } from "./ids.ts"
import { cameraSetupReplySchema, type CameraSetupReply } from "./cameraSetup.ts"

const signLabel = "vigil hub message v1"

const hex = (n: number) => z.string().regex(new RegExp(`^[0-9a-f]{${n}}$`))

export const eventLabels = ["motion", "person", "pet", "vehicle"] as const
export type EventLabel = (typeof eventLabels)[number]

/** An encrypted picture at signal: framed and keyed like a clip (its own id is the exporter context). */
const thumbnailRefSchema = z.strictObject({
  clipId: hex(32),
  blobId: hex(64),
  size: z.number().int().nonnegative(),
})

const unit = z.number().min(0).max(1)
const detectionSchema = z.strictObject({
  label: z.enum(["person", "pet", "vehicle"]),
  className: z.string().min(1).max(32),
  score: unit,
  box: z.strictObject({ x: unit, y: unit, width: unit, height: unit }),
  at: z.number().int().nonnegative(),
})

/**
 * The hub numbers its clip announcements and sightings together, 1, 2, 3, …: a phone that sees a number
 * skipped knows the relay (or anything between) held one back (issue 14, finding 5). Optional: hubs from
 * before it send none.
 */
const announcementSeqSchema = z.number().int().positive().max(Number.MAX_SAFE_INTEGER)

/** A recorded clip, uploaded encrypted; the key is exported from the epoch named here. */
export const clipAnnouncementSchema = z.strictObject({
  kind: z.literal("clip"),
  clipId: hex(32),
  spaceId: hex(32),
  blobId: hex(64),
  size: z.number().int().nonnegative(),
  epoch: z.string().regex(/^[0-9]{1,20}$/),
  cameraId: z.string().min(1).max(64),
  cameraName: z.string().min(1).max(128),
  label: z.enum(eventLabels),
  startedAt: z.number().int().nonnegative(),
  endedAt: z.number().int().nonnegative(),
  mimeType: z.string().max(128),
  /** When the motion began: with the camera, it ties the clip to an earlier sighting of the same event. */
  motionStartedAt: z.number().int().nonnegative().optional(),
  thumbnail: thumbnailRefSchema.optional(),
  detections: z.array(detectionSchema).max(20).optional(),
  seq: announcementSeqSchema.optional(),
  /**
   * base64url of the SHA-256 of each encrypted record, in order (clipFraming.ts `clipRecordHashes`): lets a
   * phone play records as they arrive, knowing each is the hub's. Absent for clips too long to list.
   */
  recordHashes: z
    .string()
    .regex(/^[A-Za-z0-9_-]+$/)
    .max(Math.ceil((maxListedRecords * recordHashLength * 4) / 3))
    .optional(),
})

/**
 * Sent as soon as an object is recognised, before the clip is finished: what, where, when, and a picture.
 * Its thumbnail key is exported from the epoch named here.
 */
export const sightingSchema = z.strictObject({
  kind: z.literal("sighting"),
  spaceId: hex(32),
  epoch: z.string().regex(/^[0-9]{1,20}$/),
  cameraId: z.string().min(1).max(64),
  cameraName: z.string().min(1).max(128),
  label: z.enum(["person", "pet", "vehicle"]),
  score: unit,
  at: z.number().int().nonnegative(),
  motionStartedAt: z.number().int().nonnegative(),
  thumbnail: thumbnailRefSchema.optional(),
  seq: announcementSeqSchema.optional(),
})

export const cameraStates = ["offline", "online"] as const
export type CameraState = (typeof cameraStates)[number]

/**
 * A camera stopped delivering video for longer than the hub's `offlineAlertAfter` ("offline", `since` = its
 * last picture), or delivers again after that ("online", `since` = when video came back). Numbered with the
 * announcements, so a withheld one shows as a gap.
 */
export const cameraStatusSchema = z.strictObject({
  kind: z.literal("camera-status"),
  spaceId: hex(32),
  cameraId: z.string().min(1).max(64),
  cameraName: z.string().min(1).max(128),
  state: z.enum(cameraStates),
  since: z.number().int().nonnegative(),
  seq: announcementSeqSchema.optional(),
})

/**
 * The hub's answer to a phone's live offer (liveRequest.ts), sent right after the commit that started a
 * fresh epoch for this session: the phone exports the frame key from that epoch
 * (`MLS-Exporter("vigil live v1", stream id, 28)`), after checking the epoch named here is its current one.
 */
export const liveAnswerSchema = z.strictObject({
  kind: z.literal("live-answer"),
  spaceId: hex(32),
  /** The phone that asked; other members ignore the answer. */
  to: hex(32),
  sessionId: hex(32),
  streamId: z.number().int().nonnegative().max(0xffffffff),
  epoch: z.string().regex(/^[0-9]{1,20}$/),
  cameraId: z.string().min(1).max(64),
  cameraName: z.string().min(1).max(128),
  /** The hub's SDP answer: its DTLS fingerprint and ICE candidates, complete (no trickle). */
  sdp: z.string().min(1).max(16_384),
})

/** The hub will not serve a live offer (unknown camera, camera down, too many viewers). */
export const liveRefusedSchema = z.strictObject({
  kind: z.literal("live-refused"),
  spaceId: hex(32),
  to: hex(32),
  sessionId: hex(32),
  reason: z.string().max(200),
})

export const hubMessageSchema = z.discriminatedUnion("kind", [
  clipAnnouncementSchema,
  sightingSchema,
  liveAnswerSchema,
  liveRefusedSchema,
  cameraStatusSchema,
  cameraSetupReplySchema,
])

export type ClipAnnouncement = Omit<
  z.infer<typeof clipAnnouncementSchema>,
  "clipId" | "spaceId" | "blobId" | "cameraId"
> & {
  clipId: ClipId
  spaceId: SpaceId
  blobId: BlobId
  cameraId: CameraId
}
export type LiveAnswer = Omit<z.infer<typeof liveAnswerSchema>, "spaceId" | "to" | "cameraId"> & {
  spaceId: SpaceId
  to: DeviceId
  cameraId: CameraId
}
/** What the live service fills into an answer; the space adds who, where and in which epoch. */
export type LiveAnswerBody = Omit<LiveAnswer, "kind" | "spaceId" | "to" | "streamId" | "epoch">
export type LiveRefused = Omit<z.infer<typeof liveRefusedSchema>, "spaceId" | "to"> & {
  spaceId: SpaceId
  to: DeviceId
}
export type Sighting = Omit<z.infer<typeof sightingSchema>, "spaceId" | "cameraId"> & {
  spaceId: SpaceId
  cameraId: CameraId
}
export type CameraStatus = Omit<z.infer<typeof cameraStatusSchema>, "spaceId" | "cameraId"> & {
  spaceId: SpaceId
  cameraId: CameraId
}
export type ThumbnailRef = z.infer<typeof thumbnailRefSchema>
export type DetectionInfo = z.infer<typeof detectionSchema>
export type HubMessage =
  ClipAnnouncement | Sighting | LiveAnswer | LiveRefused | CameraStatus | CameraSetupReply

export function signHubMessage(
  message: HubMessage,
  groupId: Uint8Array,
  signKey: Uint8Array,
  signature: Signature,
): Promise<Uint8Array> {
  return signEnvelope(signLabel, groupId, message, signKey, signature)
}

/** Verifies and parses a clip announcement; any other hub message, or any failure, is a typed error. */
export async function openHubMessage(
  bytes: Uint8Array,
  groupId: Uint8Array,
  hubKey: Uint8Array,
  signature: Signature,
): Promise<ClipAnnouncement> {
  const msg = await openSignedHubMessage(bytes, groupId, hubKey, signature)
  if (msg.kind !== "clip") throw new CodecError(`expected a clip announcement, got ${msg.kind}`)
  return msg
}

/** Verifies and parses a hub message of any kind; any failure is a typed error, never a crash. */
export async function openSignedHubMessage(
  bytes: Uint8Array,
  groupId: Uint8Array,
  hubKey: Uint8Array,
  signature: Signature,
): Promise<HubMessage> {
  const envelope = splitEnvelope(bytes, "hub message")
  if (!(await verifyEnvelope(signLabel, groupId, envelope, hubKey, signature))) {
    throw new CryptoError("SIGNATURE_INVALID", "hub message signature does not verify")
  }
  return parseEnvelopeBody(envelope, hubMessageSchema, "hub message") as HubMessage
}
