/**
 * Clip and sighting delivery: each clip gets a fresh epoch (forward secrecy per clip), is sealed under a
 * key exported from it, written for upload, and announced in a message signed by the hub; the push follows
 * (pushNotifier.ts). Sightings (an object recognised while the clip still records) go out the same way,
 * without a commit of their own, and so do a camera's going offline and coming back.
 */
import { join } from "node:path"
import {
  clipRecordHashes,
  encryptClip,
  exportClipKey,
  randomBytes,
  sha256,
  toHex,
  toBase64Url,
  type BlobId,
  type CameraId,
  type CameraState,
  type ClipId,
  type DetectionInfo,
  type EventLabel,
  type RelayTransport,
} from "@vigil/protocol"
import { nodeAead } from "../crypto/nodeAead.ts"
import type { Logger } from "../log.ts"
import { writeFileAtomic } from "../store/atomicFile.ts"
import type { HubLedger } from "./hubLedger.ts"
import type { NewOutboxEntry } from "./hubState.ts"
import { pushClipNotice, pushNotice } from "./pushNotifier.ts"

export interface CameraStatusToDeliver {
  cameraId: CameraId
  cameraName: string
  state: CameraState
  /** Offline: the camera's last picture (or when the hub started without one); back: when video returned. */
  since: number
}

export interface ClipToDeliver {
  mp4: Uint8Array
  cameraId: CameraId
  cameraName: string
  label: EventLabel
  startedAt: number
  endedAt: number
  /** When motion started (ms); `motionStartedAt - startedAt` is the pre-roll. */
  motionStartedAt?: number
  /** JPEG (at most 640 wide) of the best detection's picture, else of the motion's first picture. */
  thumbnail?: Uint8Array
  /**
   * What object detection saw during the clip, best score first: label, the model's class, score 0–1,
   * box normalized to the picture (0–1, origin top left), and when (ms).
   */
  detections?: {
    label: Exclude<EventLabel, "motion">
    className: string
    score: number
    box: { x: number; y: number; width: number; height: number }
    at: number
  }[]
  /** False: deliver the clip silently, without a push (its label is not one the camera notifies for). */
  notify?: boolean
}

export interface SightingToDeliver {
  cameraId: CameraId
  cameraName: string
  label: Exclude<EventLabel, "motion">
  score: number
  at: number
  motionStartedAt: number
  thumbnail?: Uint8Array
}

type ClipDetection = NonNullable<ClipToDeliver["detections"]>[number]

const clamp01 = (x: number) => Math.min(1, Math.max(0, x))

/** A detection as it travels in the announcement: clamped to the schema's ranges, a short class name. */
function detectionInfo(d: ClipDetection): DetectionInfo {
  return {
    label: d.label,
    className: d.className.slice(0, 32) || d.label,
    score: clamp01(d.score),
    box: {
      x: clamp01(d.box.x),
      y: clamp01(d.box.y),
      width: clamp01(d.box.width),
      height: clamp01(d.box.height),
    },
    at: Math.max(0, Math.round(d.at)),
  }
}

export class ClipDelivery {
  constructor(
    private readonly ledger: HubLedger,
    private readonly client: RelayTransport,
    private readonly log: Logger,
    private readonly dataDir: string,
    /** Resolves once everything queued so far reached signal (the outbox). */
    private readonly drained: () => Promise<void>,
  ) {}

  /** Encrypts a clip for the phones and queues its delivery; undefined when no phone is paired. */
  deliverClip(clip: ClipToDeliver): Promise<{ clipId: ClipId; blobId: BlobId } | undefined> {
    const ledger = this.ledger
    return ledger.transact(async () => {
      if (ledger.doc.phones.length === 0) {
        this.log.info({ cameraId: clip.cameraId }, "clip recorded but no phone is paired; not delivered")
        return undefined
      }
      const { commit } = await ledger.session.rotate()
      await ledger.apply(ledger.mailToPhones(commit))

      const clipId = toHex(randomBytes(16)) as ClipId
      const cameraName = ledger.cameraName(clip.cameraId, clip.cameraName)
      const sealedClip = await this.sealMedia(clip.mp4, clipId)
      const thumbnail = clip.thumbnail ? await this.sealMedia(clip.thumbnail) : undefined
      const seq = (ledger.doc.announcedSeq ?? 0) + 1
      const announcement = await ledger.sealHubMessage({
        kind: "clip",
        seq,
        clipId,
        spaceId: ledger.spaceId,
        blobId: sealedClip.ref.blobId as BlobId,
        size: sealedClip.ref.size,
        epoch: sealedClip.epoch.toString(),
        cameraId: clip.cameraId,
        cameraName,
        label: clip.label,
        startedAt: clip.startedAt,
        endedAt: clip.endedAt,
        mimeType: 'video/mp4; codecs="avc1.42C01E"',
        ...(clip.motionStartedAt !== undefined ? { motionStartedAt: clip.motionStartedAt } : {}),
        ...(thumbnail ? { thumbnail: thumbnail.ref } : {}),
        ...(clip.detections?.length ? { detections: clip.detections.slice(0, 20).map(detectionInfo) } : {}),
        ...(sealedClip.recordHashes ? { recordHashes: toBase64Url(sealedClip.recordHashes) } : {}),
      })
      await ledger.apply(
        [...(thumbnail ? [thumbnail.entry] : []), sealedClip.entry, ...ledger.mailToPhones(announcement)],
        (doc) => ({ ...doc, announcedSeq: seq }),
      )
      const push = { session: ledger.session, client: this.client, spaceId: ledger.spaceId, log: this.log }
      await pushClipNotice(
        { ...push, drained: this.drained },
        { ...clip, cameraName, clipId, thumbnail: thumbnail?.ref },
      )
      return { clipId, blobId: sealedClip.ref.blobId as BlobId }
    })
  }

  /**
   * The early notification: an object was recognised and the clip is still recording. Label, camera, time
   * and a picture reach the phones now; the clip follows with the same camera and motion start.
   */
  deliverSighting(sighting: SightingToDeliver): Promise<void> {
    const ledger = this.ledger
    return ledger.transact(async () => {
      if (ledger.doc.phones.length === 0) return
      const thumbnail = sighting.thumbnail ? await this.sealMedia(sighting.thumbnail) : undefined
      const seq = (ledger.doc.announcedSeq ?? 0) + 1
      const sealed = await ledger.sealHubMessage({
        kind: "sighting",
        seq,
        spaceId: ledger.spaceId,
        epoch: ledger.session.epoch.toString(),
        cameraId: sighting.cameraId,
        cameraName: ledger.cameraName(sighting.cameraId, sighting.cameraName),
        label: sighting.label,
        score: Math.min(1, Math.max(0, sighting.score)),
        at: Math.round(sighting.at),
        motionStartedAt: Math.round(sighting.motionStartedAt),
        ...(thumbnail ? { thumbnail: thumbnail.ref } : {}),
      })
      await ledger.apply(
        [...(thumbnail ? [thumbnail.entry] : []), ...ledger.mailToPhones(sealed)],
        (doc) => ({ ...doc, announcedSeq: seq }),
      )
    })
  }

  /**
   * A camera stopped delivering video (or delivers again): every phone is told in a hub-signed message and
   * a push ("Front door offline since 14:02"). Remembered in the hub's state, so a restart still says when
   * it is back. A repeated state changes nothing.
   */
  deliverCameraStatus(status: CameraStatusToDeliver): Promise<boolean> {
    const ledger = this.ledger
    return ledger.transact(async () => {
      const offline = ledger.doc.offlineCameras ?? {}
      if (status.cameraId in offline === (status.state === "offline")) return false
      const { [status.cameraId]: _was, ...others } = offline
      const offlineCameras =
        status.state === "offline" ? { ...others, [status.cameraId]: status.since } : others
      if (ledger.doc.phones.length === 0) {
        await ledger.apply([], (doc) => ({ ...doc, offlineCameras }))
        return true
      }
      const seq = (ledger.doc.announcedSeq ?? 0) + 1
      const cameraName = ledger.cameraName(status.cameraId, status.cameraName)
      const since = Math.round(status.since)
      const message = {
        spaceId: ledger.spaceId,
        cameraId: status.cameraId,
        cameraName,
        state: status.state,
        since,
      }
      const sealed = await ledger.sealHubMessage({ kind: "camera-status", seq, ...message })
      await ledger.apply(ledger.mailToPhones(sealed), (doc) => ({
        ...doc,
        announcedSeq: seq,
        offlineCameras,
      }))
      const push = { session: ledger.session, client: this.client, spaceId: ledger.spaceId, log: this.log }
      await pushNotice({ ...push, drained: this.drained }, { kind: "camera-status", ...message })
      return true
    })
  }

  /** Encrypts media under a key exported from the current epoch and writes it for upload. In the queue. */
  private async sealMedia(bytes: Uint8Array, id = toHex(randomBytes(16)) as ClipId) {
    const { clipKey, epoch } = await exportClipKey(this.ledger.session, id, nodeAead)
    const blob = await encryptClip(clipKey, bytes)
    const blobId = toHex(await sha256(blob))
    const path = join(this.dataDir, "outgoing", `${blobId}.vclip`)
    await writeFileAtomic(path, blob)
    return {
      ref: { clipId: id, blobId, size: blob.length },
      recordHashes: await clipRecordHashes(blob),
      epoch,
      entry: { kind: "blob", blobId, path } as NewOutboxEntry,
    }
  }
}
