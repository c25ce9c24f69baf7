/**
 * What the hub says in the mailbox, once MLS opened it: the roster (names of phones and cameras), clip
 * announcements and sightings (which become timeline events), cameras going offline and coming back, and
 * answers to this phone's live requests.
 * Each is checked against the hub's pinned key, this space, and the epoch it came in; anything else throws
 * a typed error and changes nothing.
 */
import {
  CryptoError,
  VigilError,
  exportClipKey,
  exportFrameKey,
  openDeviceRoster,
  openSignedHubMessage,
  peekEnvelopeKind,
  toBase64,
  type CameraSetupReply,
  type CameraStatus,
  type ClipId,
  type DeviceRoster,
  type FrameKey,
  type LiveAnswer,
  type LiveRefused,
  type SpaceSession,
} from "@vigil/protocol"
import type { EventRecord, SpaceRecord } from "../store/db.ts"

/** What the hub said about a live session this phone asked for (web/src/features/live). */
export type LiveReply =
  | { kind: "live-answer"; answer: LiveAnswer; frameKey: FrameKey }
  | { kind: "live-refused"; refused: LiveRefused }

/** What one application message from the hub brought. */
export type HubNote =
  | { kind: "roster"; roster: DeviceRoster }
  | { kind: "live"; reply: LiveReply }
  | { kind: "event"; event: EventRecord }
  | { kind: "camera"; status: CameraStatus }
  /** The hub's answer to this phone's camera set-up request (cameraSetup.ts). */
  | { kind: "camera-setup"; reply: CameraSetupReply }
  | { kind: "none" }

/** The provisional event of a sighting; the clip of the same camera and motion start replaces it. */
export const sightingId = (cameraId: string, motionStartedAt: number) => `s-${cameraId}-${motionStartedAt}`

export interface HubMessageContext {
  spaceId: string
  hubKey: Uint8Array
  /** This phone: live answers for other phones are not ours. */
  deviceId: string
  /** Called with an announcement's number as soon as its signature verified, before later checks. */
  onAnnouncementSeq: (seq: number | undefined) => void
}

/** Reads an MLS application message from the hub (`incoming.epoch`: the epoch it was sealed in). */
export async function readHubMessage(
  session: SpaceSession,
  incoming: { data: Uint8Array; epoch: bigint },
  ctx: HubMessageContext,
): Promise<HubNote> {
  if (peekEnvelopeKind(incoming.data) === "device-roster") {
    const roster = await openDeviceRoster(incoming.data, session.groupId, ctx.hubKey, session.signature)
    if (roster.spaceId !== ctx.spaceId) throw new CryptoError("WRONG_SPACE", "roster for another space")
    // Bound to the epoch it was sealed in, like announcements (issue 14, finding 13).
    if (roster.epoch !== incoming.epoch.toString())
      throw new VigilError("EPOCH_MISMATCH", "roster signed for another epoch than it came in")
    return { kind: "roster", roster }
  }
  const msg = await openSignedHubMessage(incoming.data, session.groupId, ctx.hubKey, session.signature)
  if (msg.spaceId !== ctx.spaceId) throw new CryptoError("WRONG_SPACE", "clip announced for another space")
  if (msg.kind === "clip" || msg.kind === "sighting" || msg.kind === "camera-status") {
    ctx.onAnnouncementSeq(msg.seq)
  }
  if (msg.kind === "camera-status") return { kind: "camera", status: msg }
  if (msg.kind === "camera-setup-reply") {
    return msg.to === ctx.deviceId ? { kind: "camera-setup", reply: msg } : { kind: "none" }
  }
  if (msg.kind === "live-refused") {
    return msg.to === ctx.deviceId
      ? { kind: "live", reply: { kind: "live-refused", refused: msg } }
      : { kind: "none" }
  }
  if (msg.kind === "live-answer") {
    if (msg.to !== ctx.deviceId) return { kind: "none" }
    // Same rule as for clips: the key comes from the epoch the hub named, which must be ours right now.
    if (msg.epoch !== incoming.epoch.toString() || incoming.epoch !== session.epoch) {
      throw new VigilError("EPOCH_MISMATCH", "live answer outside the epoch its key comes from")
    }
    const frameKey = await exportFrameKey(session, msg.streamId)
    return { kind: "live", reply: { kind: "live-answer", answer: msg, frameKey } }
  }
  if (msg.epoch !== incoming.epoch.toString() || incoming.epoch !== session.epoch) {
    throw new VigilError("EPOCH_MISMATCH", "media announced outside the epoch its key comes from")
  }
  const thumbnail = msg.thumbnail
    ? {
        ...msg.thumbnail,
        secret: toBase64((await exportClipKey(session, msg.thumbnail.clipId as ClipId)).secret),
      }
    : undefined
  if (msg.kind === "sighting") {
    const event: EventRecord = {
      id: sightingId(msg.cameraId, msg.motionStartedAt),
      pending: true,
      clipId: "",
      blobId: "",
      spaceId: msg.spaceId,
      size: 0,
      cameraId: msg.cameraId,
      cameraName: msg.cameraName,
      label: msg.label,
      startedAt: msg.motionStartedAt,
      endedAt: msg.at,
      motionStartedAt: msg.motionStartedAt,
      mimeType: "",
      secret: "",
      seen: false,
      ...(thumbnail ? { thumbnail } : {}),
    }
    return { kind: "event", event }
  }
  const { secret } = await exportClipKey(session, msg.clipId)
  const event: EventRecord = {
    id: msg.clipId,
    clipId: msg.clipId,
    blobId: msg.blobId,
    spaceId: msg.spaceId,
    size: msg.size,
    cameraId: msg.cameraId,
    cameraName: msg.cameraName,
    label: msg.label,
    startedAt: msg.startedAt,
    endedAt: msg.endedAt,
    mimeType: msg.mimeType,
    secret: toBase64(secret),
    seen: false,
    ...(msg.motionStartedAt !== undefined ? { motionStartedAt: msg.motionStartedAt } : {}),
    ...(thumbnail ? { thumbnail } : {}),
    ...(msg.detections ? { detections: msg.detections } : {}),
    ...(msg.recordHashes ? { recordHashes: msg.recordHashes } : {}),
  }
  return { kind: "event", event }
}

/**
 * The space record after announcement number `seq`: a skipped number is an announcement the relay withheld
 * (or lost); a late one fills its gap again.
 */
export function countAnnouncement(space: SpaceRecord, seq: number | undefined): SpaceRecord {
  if (seq === undefined) return space
  const last = space.announcedSeq
  const missed = space.missedAnnouncements ?? 0
  if (last === undefined || seq > last) {
    const skipped = last === undefined ? 0 : seq - last - 1
    return { ...space, announcedSeq: seq, missedAnnouncements: missed + skipped }
  }
  if (seq < last && missed > 0) return { ...space, missedAnnouncements: missed - 1 }
  return space
}

/** The space record after a camera-status message: an offline camera listed with since when, a camera back removed. */
export function withCameraStatus(space: SpaceRecord, status: CameraStatus): SpaceRecord {
  const { [status.cameraId]: _was, ...others } = space.offlineCameras ?? {}
  const offlineCameras =
    status.state === "offline"
      ? { ...others, [status.cameraId]: { name: status.cameraName, since: status.since } }
      : others
  return { ...space, offlineCameras }
}
