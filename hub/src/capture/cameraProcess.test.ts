import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { pino } from "pino"
import { describe, expect, it } from "vitest"
import { MotionDetector, type MotionResult } from "../detect/motionDetector.ts"
import { resolveFfmpeg, resolveFfprobe } from "../ffmpeg.ts"
import { muxClip } from "../record/clipMuxer.ts"
import { ClipRecorder, type RecordedClip } from "../record/clipRecorder.ts"
import { probeClip } from "../record/probeClip.ts"
import { CameraProcess, type CameraExit } from "./cameraProcess.ts"
import { FfmpegNotFoundError } from "./errors.ts"
import { syntheticMotionWindow, type SyntheticCameraConfig } from "./syntheticSource.ts"
import { silentLogger, type Logger, type MotionFrame, type TimedAccessUnit } from "./types.ts"

function findTools(): { ffmpeg: string; ffprobe: string } | undefined {
  try {
    return { ffmpeg: resolveFfmpeg().path, ffprobe: resolveFfprobe().path }
  } catch (error) {
    if (error instanceof FfmpegNotFoundError) return undefined
    throw error
  }
}
const tools = findTools()

async function waitFor(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50))
}

const perSecond = (count: number, fromMs: number, toMs: number) => ((count - 1) * 1000) / (toMs - fromMs)

describe.skipIf(!tools)("CameraProcess with real ffmpeg", () => {
  const ffmpegPath = tools?.ffmpeg ?? ""

  it("streams the synthetic camera, sees motion only in the scripted window, and records a playable clip", async () => {
    // Arrange: a 6 s cycle whose box crosses during seconds 4–6; detector and recorder as the hub wires them.
    const config: SyntheticCameraConfig = { kind: "synthetic", cycleSeconds: 6, motionSeconds: 2 }
    const window = syntheticMotionWindow(config)
    const motionFps = 5
    const camera = new CameraProcess({ ffmpegPath, config, logger: silentLogger })
    const detector = new MotionDetector({ cooldownMs: 1000 })
    const recorder = new ClipRecorder({ preRollMs: 2000, postRollMs: 1000 })
    const units: TimedAccessUnit[] = []
    const frames: MotionFrame[] = []
    const results: Array<MotionResult & { streamSeconds: number }> = []
    const clips: RecordedClip[] = []
    const exits: CameraExit[] = []
    camera.on("accessUnit", (unit) => {
      units.push(unit)
      clips.push(...recorder.pushAccessUnit(unit))
    })
    camera.on("motionFrame", (frame) => {
      frames.push(frame)
      const result = detector.push(frame)
      results.push({ ...result, streamSeconds: frame.index / motionFps })
      recorder.pushMotion(result)
    })
    camera.on("exit", (exit) => exits.push(exit))

    // Act: run until the first clip is complete (about 8–9 s of stream), then stop.
    camera.start()
    await waitFor(() => clips.length > 0 || exits.length > 0, 13_000)
    const unexpectedExit = exits[0]
    const stopped = await camera.stop()

    // Assert: the process lived until we stopped it.
    expect(unexpectedExit, JSON.stringify(unexpectedExit)).toBeUndefined()
    expect(stopped).toMatchObject({ requested: true, reason: "stopped" })
    expect(exits).toHaveLength(1)

    // H.264: starts on a keyframe, one keyframe every 15 access units, paced at about 15 fps.
    expect(units[0]?.keyframe).toBe(true)
    const keyframes = units.filter((u) => u.keyframe).map((u) => u.index)
    expect(keyframes.length).toBeGreaterThanOrEqual(8)
    expect(keyframes.slice(1).map((k, i) => k - (keyframes[i] ?? 0))).toEqual(
      keyframes.slice(1).map(() => 15),
    )
    const first = units[0]?.receivedAt ?? 0
    const last = units.at(-1)?.receivedAt ?? 0
    expect(perSecond(units.length, first, last)).toBeGreaterThan(13)
    expect(perSecond(units.length, first, last)).toBeLessThan(17)

    // Motion frames: 160x90 gray at about 5 fps.
    expect(frames.every((f) => f.width === 160 && f.height === 90 && f.data.length === 160 * 90)).toBe(true)
    const frameRate = perSecond(frames.length, frames[0]?.at ?? 0, frames.at(-1)?.at ?? 0)
    expect(frameRate).toBeGreaterThan(4)
    expect(frameRate).toBeLessThan(6)

    // Detection: starts while the box crosses, never during the static part (where only the clock ticks).
    const starts = results.filter((r) => r.started).map((r) => r.streamSeconds)
    expect(starts).toHaveLength(1)
    expect(starts[0]).toBeGreaterThanOrEqual(window.startSeconds)
    expect(starts[0]).toBeLessThan(window.startSeconds + 1)
    const quietMotion = results.filter(
      (r) => r.motion && (r.streamSeconds < window.startSeconds || r.streamSeconds > window.endSeconds + 0.4),
    )
    expect(quietMotion.map((r) => [r.streamSeconds, r.score])).toEqual([])
    expect(results.some((r) => r.ended)).toBe(true)

    // Recording: a clip with pre-roll, cut on a GOP boundary after post-roll, muxed to a playable MP4.
    expect(clips).toHaveLength(1)
    const clip = clips[0]
    if (!clip) throw new Error("no clip")
    expect(clip.endReason).toBe("motion-ended")
    expect(clip.accessUnits[0]?.keyframe).toBe(true)
    expect(clip.preRollMs).toBeGreaterThanOrEqual(2000)
    expect(clip.preRollMs).toBeLessThan(3500)
    const dir = mkdtempSync(join(tmpdir(), "vigil-camera-"))
    try {
      const outPath = join(dir, "clip.mp4")
      await muxClip({ ffmpegPath, accessUnits: clip.accessUnits, fps: 15, outPath })
      const probe = await probeClip(tools?.ffprobe ?? "", outPath)
      expect(probe).toMatchObject({ codec: "h264", width: 640, height: 360, startsWithKeyframe: true })
      expect(probe.frames).toBe(clip.accessUnits.length)
      expect(probe.durationSeconds).toBeCloseTo(clip.accessUnits.length / 15, 1)
      // Pre-roll from the keyframe at 2 s; motion ends near 6 s + 1 s cooldown + 1 s post-roll, cut at 8 or 9 s.
      expect(probe.durationSeconds).toBeGreaterThanOrEqual(5)
      expect(probe.durationSeconds).toBeLessThanOrEqual(8)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  }, 20_000)

  it("reports a clear reason when ffmpeg cannot open the camera", async () => {
    // A pino logger fits the Logger port.
    const logger: Logger = pino({ enabled: false })
    const camera = new CameraProcess({
      ffmpegPath,
      config: { kind: "file", path: "/nonexistent/vigil-test.mp4" },
      logger,
    })
    const exited = new Promise<CameraExit>((resolve) => camera.once("exit", resolve))
    camera.start()
    const exit = await exited
    expect(exit).toMatchObject({ requested: false, reason: "input file not found" })
    expect(exit.code).not.toBe(0)
    expect(exit.stderrTail.join("\n")).toContain("No such file or directory")
    expect(camera.running).toBe(false)
  })

  it("reports a failed spawn as an exit, not a crash", async () => {
    const camera = new CameraProcess({
      ffmpegPath: "/nonexistent/ffmpeg",
      config: { kind: "synthetic" },
      logger: silentLogger,
    })
    const exited = new Promise<CameraExit>((resolve) => camera.once("exit", resolve))
    camera.start()
    expect((await exited).reason).toMatch(/^could not start ffmpeg: .*ENOENT/)
  })
})
