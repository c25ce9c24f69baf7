/**
 * `hub setup` tests a camera's stream before it saves it: against a real RTSP camera (GStreamer's RTSP
 * server, as a camera serves it), what it finds and what it says when the URL is wrong.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { probeRtspWith } from "../../src/commands/setup.ts"
import {
  findTools,
  freePort,
  rtspCameraUnavailable,
  startRtspCamera,
  type RtspCamera,
} from "../support/mediaTools.ts"

const tools = findTools()
const unavailable = tools ? rtspCameraUnavailable() : "ffmpeg/ffprobe not found"

describe.skipIf(unavailable !== undefined)("hub setup's camera check", () => {
  let camera: RtspCamera
  beforeAll(async () => {
    camera = await startRtspCamera({ port: await freePort(), width: 640, height: 360, fps: 15 })
  })
  afterAll(async () => {
    await camera?.kill()
  })

  it("opens a real stream and says what it found", async () => {
    const probe = probeRtspWith(tools!.ffprobe)
    await expect(probe(camera.url)).resolves.toEqual({ ok: true, summary: "H.264 640×360 at 15 fps" })
  })

  it("says plainly when the path is wrong or nothing listens", async () => {
    const probe = probeRtspWith(tools!.ffprobe)
    const wrongPath = await probe(camera.url.replace("/cam", "/nothing-here"))
    expect(wrongPath).toMatchObject({ ok: false, reason: expect.stringMatching(/no stream at that path/) })
    const nobody = await probe(`rtsp://127.0.0.1:${await freePort()}/cam`)
    expect(nobody).toMatchObject({ ok: false, reason: expect.stringMatching(/nothing answers for RTSP/) })
  })
})
