import { mkdir, readFile, rm } from "node:fs/promises"
import { join } from "node:path"
import { SerialQueue, type CameraId } from "@vigil/protocol"
import { CameraProcess, type CameraExit } from "../capture/cameraProcess.ts"
import type { TimedAccessUnit } from "../capture/types.ts"
import type { HubCameraConfig, HubConfig } from "../config.ts"
import { MotionDetector } from "../detect/motionDetector.ts"
import type { Logger } from "../log.ts"
import { ClipRecorder, type RecordedClip } from "../record/clipRecorder.ts"
import { muxClip } from "../record/clipMuxer.ts"
import type { ClipToDeliver } from "../space/hubSpace.ts"

export interface CameraPipelineDeps {
  ffmpegPath: string
  /** Scratch space for muxing (plaintext lives here only until the clip is encrypted). */
  workDir: string
  recording: HubConfig["recording"]
  logger: Logger
  onClip: (clip: ClipToDeliver) => Promise<void>
}

export interface CameraPipeline {
  stop(): Promise<void>
}

const restartMinMs = 1000
const restartMaxMs = 30_000

/**
 * One camera, end to end on the hub: ffmpeg → motion detector → clip recorder (pre-roll from the GOP ring)
 * → MP4 → `onClip` (which encrypts and delivers). ffmpeg is restarted with backoff when the camera drops;
 * clips are finished one at a time so a slow upload never reorders them.
 */
export function startCameraPipeline(camera: HubCameraConfig, deps: CameraPipelineDeps): CameraPipeline {
  const log = deps.logger
  const detector = new MotionDetector()
  const recorder = new ClipRecorder<TimedAccessUnit>({
    preRollMs: deps.recording.preRollSeconds * 1000,
    postRollMs: deps.recording.postRollSeconds * 1000,
    maxClipMs: deps.recording.maxClipSeconds * 1000,
  })
  const clips = new SerialQueue()
  let stopping = false
  let restartDelay = restartMinMs
  let restartTimer: NodeJS.Timeout | undefined

  const proc = new CameraProcess({
    ffmpegPath: deps.ffmpegPath,
    config: camera,
    logger: log,
    name: camera.id,
  })

  const finish = (clip: RecordedClip<TimedAccessUnit>) =>
    clips.run(async () => {
      await mkdir(deps.workDir, { recursive: true })
      const path = join(deps.workDir, `${camera.id}-${clip.startedAt}.mp4`)
      try {
        await muxClip({
          ffmpegPath: deps.ffmpegPath,
          accessUnits: clip.accessUnits,
          fps: camera.fps,
          outPath: path,
          logger: log,
        })
        const mp4 = await readFile(path)
        log.info(
          {
            frames: clip.accessUnits.length,
            bytes: mp4.length,
            preRollMs: clip.preRollMs,
            reason: clip.endReason,
          },
          "clip recorded",
        )
        await deps.onClip({
          mp4,
          cameraId: camera.id as CameraId,
          cameraName: camera.name,
          label: "motion",
          startedAt: clip.startedAt,
          endedAt: clip.endedAt,
        })
      } catch (err) {
        log.error({ err }, "clip could not be recorded or delivered")
      } finally {
        await rm(path, { force: true })
      }
    })

  proc.on("motionFrame", (frame) => {
    const result = detector.push(frame)
    if (result.started) log.info({ score: result.score }, "motion started")
    if (result.ended) log.info("motion ended")
    recorder.pushMotion(result)
  })
  proc.on("accessUnit", (unit) => {
    restartDelay = restartMinMs
    for (const clip of recorder.pushAccessUnit(unit)) void finish(clip)
  })
  proc.on("exit", (exit: CameraExit) => {
    // Whatever was being recorded is kept: a dropped camera must not lose the event it was filming.
    for (const clip of recorder.flush()) void finish(clip)
    detector.reset()
    if (stopping || exit.requested) return
    log.warn(
      { reason: exit.reason, code: exit.code, stderr: exit.stderrTail.slice(-3) },
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
    async stop() {
      stopping = true
      if (restartTimer) clearTimeout(restartTimer)
      await proc.stop()
      await clips.run(async () => {})
    },
  }
}
