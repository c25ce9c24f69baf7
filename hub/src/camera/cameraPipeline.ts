import { mkdir, readFile, rm } from "node:fs/promises"
import { join } from "node:path"
import { SerialQueue, type CameraId } from "@vigil/protocol"
import { CameraProcess, type CameraExit } from "../capture/cameraProcess.ts"
import { decodeLastFrame } from "../capture/frameGrabber.ts"
import type { TimedAccessUnit } from "../capture/types.ts"
import type { HubCameraConfig, HubConfig } from "../config.ts"
import { EventClassifier, type ObjectSighting } from "../detect/eventClassifier.ts"
import { MotionDetector } from "../detect/motionDetector.ts"
import type { Detection, ObjectDetector, ObjectLabel, RgbImage } from "../detect/objectDetector.ts"
import type { Logger } from "../capture/types.ts"
import { ClipRecorder, type RecordedClip } from "../record/clipRecorder.ts"
import { muxClip } from "../record/clipMuxer.ts"
import { estimateFrameRate, FrameRateMeter } from "../record/frameRate.ts"
import { encodeThumbnail } from "../record/thumbnail.ts"
import type { ClipToDeliver } from "../space/hubSpace.ts"
import { captureConfigOf, knownFrameRate, motionOptionsOf, notifiesFor } from "./captureConfig.ts"

export interface CameraPipelineDeps {
  ffmpegPath: string
  /** Scratch space for muxing (plaintext lives here only until the clip is encrypted). */
  workDir: string
  recording: HubConfig["recording"]
  logger: Logger
  onClip: (clip: ClipToDeliver) => Promise<void>
  /** Shared by all cameras. Absent (or the camera's `detectObjects` false): events are labelled "motion". */
  detector?: ObjectDetector
  detection?: Partial<
    Pick<
      HubConfig["detection"],
      "intervalSeconds" | "maxBusyFraction" | "area" | "minFrames" | "stationarySeconds" | "labels"
    >
  >
  /**
   * As soon as an object the camera notifies for (`camera.notify`) is confirmed, before its clip is complete;
   * `motionStartedAt` is that of the clip being recorded, so its clip replaces the sighting on the phone.
   */
  onSighting?: (sighting: CameraSighting) => void
  /** Every access unit as it leaves the pipeline (live view: hub/src/live). */
  onAccessUnit?: (unit: TimedAccessUnit) => void
  /** Backoff between restarts of a camera that dropped. Default 1 s doubling to 30 s. */
  restartMinMs?: number
  restartMaxMs?: number
}

/** An object seen by a camera, reported while the event is still going on. */
export interface CameraSighting {
  cameraId: CameraId
  cameraName: string
  label: ObjectLabel
  score: number
  /** When the picture was taken, and when the motion that led to it started (ms). */
  at: number
  motionStartedAt: number
  detections: Detection[]
  /** JPEG of that picture; absent if it could not be encoded. */
  thumbnail?: Uint8Array
}

export type CameraState = "starting" | "running" | "reconnecting" | "stopped"

/** How a camera is doing, for `hub status`. */
export interface CameraStatus {
  cameraId: string
  name: string
  kind: HubCameraConfig["kind"]
  state: CameraState
  /** Why it last stopped ("no route to camera", ...), while reconnecting. */
  lastError?: string
  restarts: number
  /** Last video from the camera and last clip handed on (ms). */
  lastVideoAt?: number
  lastClipAt?: number
  clips: number
  motionActive: boolean
  /** H.264 pictures and bytes received since the hub started (for frame rate and bitrate). */
  videoFrames: number
  videoBytes: number
}

export interface CameraPipeline {
  readonly status: CameraStatus
  stop(): Promise<void>
}

/** A GOP longer than this many pictures is not decoded for a thumbnail or detection (one picture suffices). */
const maxDecodeUnits = 600

/**
 * One camera, end to end on the hub: ffmpeg → motion detector → (object detection on the motion region,
 * only while motion is active) → clip recorder (pre-roll from the GOP ring) → MP4 + thumbnail → `onClip`
 * (which encrypts and delivers). ffmpeg is restarted with backoff when the camera drops; clips are finished
 * one at a time so a slow upload never reorders them.
 */
export function startCameraPipeline(camera: HubCameraConfig, deps: CameraPipelineDeps): CameraPipeline {
  const log = deps.logger
  const restartMinMs = deps.restartMinMs ?? 1000
  const restartMaxMs = deps.restartMaxMs ?? 30_000
  const motion = new MotionDetector(motionOptionsOf(camera))
  const recorder = new ClipRecorder<TimedAccessUnit>({
    preRollMs: deps.recording.preRollSeconds * 1000,
    postRollMs: deps.recording.postRollSeconds * 1000,
    maxClipMs: deps.recording.maxClipSeconds * 1000,
  })
  const cameraId = camera.id as CameraId
  const clips = new SerialQueue()
  const status: CameraStatus = {
    cameraId: camera.id,
    name: camera.name,
    kind: camera.kind,
    state: "starting",
    restarts: 0,
    clips: 0,
    motionActive: false,
    videoFrames: 0,
    videoBytes: 0,
  }
  let stopping = false
  let restartDelay = restartMinMs
  let restartTimer: NodeJS.Timeout | undefined
  /** The access units since the newest keyframe: enough to decode the newest picture. */
  let currentGop: TimedAccessUnit[] = []
  const frameRate = new FrameRateMeter()

  const thumbnailOf = async (image: RgbImage): Promise<Uint8Array | undefined> => {
    try {
      return await encodeThumbnail({ ffmpegPath: deps.ffmpegPath, image })
    } catch (err) {
      log.warn({ err }, "could not encode a thumbnail")
      return undefined
    }
  }

  const notifies = notifiesFor(camera)
  /** Thumbnails started for pictures with a new object in them, before it is confirmed. */
  const earlyThumbnails = new WeakMap<RgbImage, Promise<Uint8Array | undefined>>()
  const detection = deps.detection ?? {}
  const classifier = new EventClassifier({
    detector: camera.detectObjects ? deps.detector : undefined,
    intervalMs: (detection.intervalSeconds ?? 1) * 1000,
    maxBusyFraction: detection.maxBusyFraction,
    area: detection.area,
    tracker: {
      minFrames: detection.minFrames,
      stationaryMs:
        detection.stationarySeconds === undefined ? undefined : detection.stationarySeconds * 1000,
    },
    filters: detection.labels,
    logger: log,
    onCandidatePicture: (image) => {
      if (deps.onSighting) earlyThumbnails.set(image, thumbnailOf(image))
    },
    grabFrame: async () => {
      const units = currentGop
      const last = units.at(-1)
      if (!last || units.length > maxDecodeUnits) return undefined
      const image = await decodeLastFrame({ ffmpegPath: deps.ffmpegPath, accessUnits: units })
      return { image, at: last.receivedAt }
    },
    onSighting: (sighting: ObjectSighting) => {
      log.info(
        {
          label: sighting.label,
          score: Number(sighting.score.toFixed(2)),
          afterMs: sighting.at - sighting.eventStartedAt,
          object: sighting.trackId,
        },
        `${sighting.label} seen`,
      )
      const report = deps.onSighting
      if (!report || !notifies(sighting.label)) return
      // The clip being recorded now is the one that will replace this sighting on the phone.
      const motionStartedAt = recorder.motionStartedAt ?? sighting.eventStartedAt
      void (earlyThumbnails.get(sighting.image) ?? thumbnailOf(sighting.image)).then((thumbnail) =>
        report({
          cameraId,
          cameraName: camera.name,
          label: sighting.label,
          score: sighting.score,
          at: sighting.at,
          motionStartedAt,
          detections: sighting.detections,
          thumbnail,
        }),
      )
    },
  })

  const proc = new CameraProcess({
    ffmpegPath: deps.ffmpegPath,
    config: captureConfigOf(camera),
    logger: log,
    name: camera.id,
  })

  const finish = (clip: RecordedClip<TimedAccessUnit>) =>
    clips.run(async () => {
      await mkdir(deps.workDir, { recursive: true })
      const path = join(deps.workDir, `${camera.id}-${clip.startedAt}.mp4`)
      try {
        const fps = knownFrameRate(camera) ?? frameRate.rate ?? estimateFrameRate(clip.accessUnits) ?? 15
        await muxClip({
          ffmpegPath: deps.ffmpegPath,
          accessUnits: clip.accessUnits,
          fps,
          outPath: path,
          logger: log,
        })
        const mp4 = await readFile(path)
        const seen = await classifier.classify(clip.startedAt, clip.endedAt)
        classifier.forget(clip.endedAt)
        let picture = seen.thumbnail
        if (!picture) {
          // Nothing was decoded during the event (e.g. it was shorter than a frame grab): use the first keyframe.
          picture =
            (await decodeLastFrame({
              ffmpegPath: deps.ffmpegPath,
              accessUnits: clip.accessUnits.slice(0, 1),
            }).catch(
              (err: unknown) => void log.warn({ err }, "could not decode the clip's first picture"),
            )) ?? undefined
        }
        const thumbnail = picture ? await thumbnailOf(picture) : undefined
        log.info(
          {
            frames: clip.accessUnits.length,
            bytes: mp4.length,
            fps,
            preRollMs: clip.preRollMs,
            reason: clip.endReason,
            label: seen.label,
            detections: seen.detections.length,
          },
          "clip recorded",
        )
        status.clips++
        status.lastClipAt = clip.endedAt
        await deps.onClip({
          mp4,
          cameraId,
          cameraName: camera.name,
          label: seen.label,
          startedAt: clip.startedAt,
          endedAt: clip.endedAt,
          motionStartedAt: clip.motionStartedAt,
          thumbnail,
          detections: seen.detections.map(({ label, className, score, box, at }) => ({
            label,
            className,
            score,
            box,
            at,
          })),
          notify: notifies(seen.label),
        })
      } catch (err) {
        log.error({ err }, "clip could not be recorded or delivered")
      } finally {
        await rm(path, { force: true })
      }
    })

  proc.on("motionFrame", (frame) => {
    const result = motion.push(frame)
    if (result.started) log.info({ score: result.score, region: result.region }, "motion started")
    if (result.ended) log.info({}, "motion ended")
    status.motionActive = result.active
    classifier.onMotion(result)
    recorder.pushMotion(result)
  })
  proc.on("accessUnit", (unit) => {
    restartDelay = restartMinMs
    if (status.state !== "running") {
      status.state = "running"
      delete status.lastError
    }
    status.lastVideoAt = unit.receivedAt
    status.videoFrames++
    status.videoBytes += unit.data.length
    frameRate.push(unit.receivedAt)
    if (unit.keyframe) currentGop = []
    currentGop.push(unit)
    for (const clip of recorder.pushAccessUnit(unit)) void finish(clip)
    deps.onAccessUnit?.(unit)
  })
  proc.on("exit", (exit: CameraExit) => {
    // Whatever was being recorded is kept: a dropped camera must not lose the event it was filming.
    for (const clip of recorder.flush()) void finish(clip)
    motion.reset()
    classifier.resetTracking()
    frameRate.reset()
    currentGop = []
    status.motionActive = false
    if (stopping || exit.requested) {
      status.state = "stopped"
      return
    }
    status.state = "reconnecting"
    status.lastError = exit.reason
    status.restarts++
    log.warn(
      { reason: exit.reason, code: exit.code, stderr: exit.stderrTail.slice(-3), retryInMs: restartDelay },
      "camera stopped; restarting",
    )
    restartTimer = setTimeout(() => {
      restartTimer = undefined
      if (!stopping) proc.start()
    }, restartDelay)
    restartDelay = Math.min(restartDelay * 2, restartMaxMs)
  })
  proc.start()

  return {
    status,
    async stop() {
      stopping = true
      if (restartTimer) clearTimeout(restartTimer)
      await proc.stop()
      status.state = "stopped"
      await clips.run(async () => {})
    },
  }
}
