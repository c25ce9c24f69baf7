/**
 * The camera pipeline end to end against a looping video file made from real photographs: a still lawn,
 * then a person appears. Real ffmpeg, real motion detection, real object detection (in its own process):
 * the clip is labelled "person", has a thumbnail, and its pre-roll and duration check out with ffprobe.
 */
import { spawnSync } from "node:child_process"
import { mkdtemp, rm, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { startCameraPipeline, type CameraPipeline } from "../../src/camera/cameraPipeline.ts"
import { silentLogger } from "../../src/capture/types.ts"
import { parseHubConfig } from "../../src/config.ts"
import { startChildProcessDetector } from "../../src/detect/childProcessDetector.ts"
import type { ObjectDetector } from "../../src/detect/objectDetector.ts"
import { probeClip } from "../../src/record/probeClip.ts"
import { ClipCollector, findTools, fixturePhoto } from "../support/mediaTools.ts"

const tools = findTools()

describe.skipIf(!tools)("a looping file camera", () => {
  const ffmpeg = tools?.ffmpeg ?? ""
  const ffprobe = tools?.ffprobe ?? ""
  let dir: string
  let detector: ObjectDetector
  let pipeline: CameraPipeline | undefined

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "vigil-file-camera-"))
    // 10 s, looped: lawn only, a person from 3 s to 5.5 s, lawn again. 15 fps, a keyframe every second.
    const made = spawnSync(ffmpeg, [
      ...[
        "-v",
        "error",
        "-loop",
        "1",
        "-i",
        fixturePhoto("grass.jpg"),
        "-loop",
        "1",
        "-i",
        fixturePhoto("person.jpg"),
      ],
      ...[
        "-filter_complex",
        "[0:v]scale=640:360,setsar=1[bg];[1:v]scale=-2:300[fg];[bg][fg]overlay=x=100:y=30:enable='between(t,3,5.5)',format=yuv420p",
      ],
      ...[
        "-t",
        "10",
        "-r",
        "15",
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-g",
        "15",
        join(dir, "lawn.mp4"),
      ],
    ])
    expect(made.status, made.stderr?.toString()).toBe(0)
    detector = await startChildProcessDetector()
  })
  afterAll(async () => {
    await pipeline?.stop()
    await detector?.close()
    await rm(dir, { recursive: true, force: true })
  })

  it("records the person who appears: labelled clip, thumbnail, pre-roll and duration", async () => {
    // Arrange
    const config = parseHubConfig({
      cameras: [
        {
          id: "lawn",
          name: "Lawn",
          kind: "file",
          path: join(dir, "lawn.mp4"),
          motion: { cooldownSeconds: 1 },
        },
      ],
      recording: { preRollSeconds: 2, postRollSeconds: 1, maxClipSeconds: 20 },
    })
    const camera = config.cameras[0]!
    const collector = new ClipCollector()
    const sightings: string[] = []

    // Act
    pipeline = startCameraPipeline(camera, {
      ffmpegPath: ffmpeg,
      workDir: join(dir, "work"),
      recording: config.recording,
      logger: silentLogger,
      detector,
      detection: config.detection,
      onClip: collector.onClip,
      onSighting: (s) => sightings.push(s.label),
    })
    const clip = await collector.next(25_000)
    await pipeline.stop()
    pipeline = undefined

    // Assert: labelled from what the detector saw in the motion region, reported before the clip was done.
    expect(clip.label).toBe("person")
    expect(sightings).toContain("person")
    const person = clip.detections?.find((d) => d.label === "person")
    expect(person?.score).toBeGreaterThan(0.3)
    // The photo was placed at x 100–550 of 640, y 30–330 of 360; the person stands in its left half.
    expect(person?.box.x).toBeGreaterThan(100 / 640)
    expect((person?.box.x ?? 0) + (person?.box.width ?? 0)).toBeLessThan(550 / 640)
    // A JPEG thumbnail.
    expect(Buffer.from(clip.thumbnail ?? []).subarray(0, 3)).toEqual(Buffer.from([0xff, 0xd8, 0xff]))

    // Pre-roll: at least the configured 2 s (whole GOPs, so at most one GOP more), then the motion.
    const preRollMs = (clip.motionStartedAt ?? 0) - clip.startedAt
    expect(preRollMs).toBeGreaterThanOrEqual(1800)
    expect(preRollMs).toBeLessThanOrEqual(3300)
    const path = join(dir, "clip.mp4")
    await writeFile(path, clip.mp4)
    const probe = await probeClip(ffprobe, path)
    expect(probe).toMatchObject({ codec: "h264", width: 640, height: 360, startsWithKeyframe: true })
    // Pre-roll plus 2.5 s in view, plus the fading ghost in the background model (it absorbed part of the
    // photo), cooldown and post-roll; the duration in the file matches the time the clip covered.
    expect(probe.durationSeconds).toBeGreaterThan(4.5)
    expect(probe.durationSeconds).toBeLessThan(14)
    expect(Math.abs(probe.durationSeconds - (clip.endedAt - clip.startedAt) / 1000)).toBeLessThan(0.5)
  })
})
