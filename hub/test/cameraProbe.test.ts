/**
 * Trying a camera before it is saved (issue 17), against real RTSP cameras (GStreamer's RTSP server on
 * 127.0.0.1) and real ffprobe/ffmpeg: what the hub found, the picture it took, and each failure as the code
 * and sentence a phone shows. One camera per describe, shared by its tests.
 */
import { spawnSync } from "node:child_process"
import { createServer, type Server } from "node:net"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { probeCamera, type ProbeOutcome, type ProbeTarget } from "../src/camera/cameraProbe.ts"
import {
  findTools,
  freePort,
  memoryLogger,
  rtspCameraUnavailable,
  startRtspCamera,
  type RtspCamera,
} from "./support/mediaTools.ts"

const tools = findTools()
const unavailable = tools ? rtspCameraUnavailable() : "ffmpeg/ffprobe not found"
const deps = { ffmpegPath: tools?.ffmpeg ?? "", ffprobePath: tools?.ffprobe ?? "" }
const skipped = unavailable ? ` — SKIPPED: ${unavailable}` : ""

/** What ffprobe reads in a JPEG. */
function readJpeg(jpeg: Uint8Array) {
  const out = spawnSync(
    deps.ffprobePath,
    ["-v", "error", "-show_entries", "stream=codec_name,width,height", "-of", "json", "pipe:0"],
    { input: jpeg, encoding: "utf8" },
  )
  return (JSON.parse(out.stdout) as { streams: { codec_name: string; width: number; height: number }[] })
    .streams[0]
}

describe.skipIf(unavailable !== undefined)(`a camera with a password${skipped}`, () => {
  const password = "p@ss w/rd:%"
  const typed = "p@ss w%2Frd:%"
  const secrets = [password, typed, encodeURIComponent(password)]
  const logger = memoryLogger()
  const outcomes: ProbeOutcome[] = []
  let camera: RtspCamera
  const probe = async (target: Omit<ProbeTarget, "url"> & { url?: string }) => {
    const outcome = await probeCamera({ url: camera.url, ...target }, { ...deps, logger })
    outcomes.push(outcome)
    return outcome
  }

  beforeAll(async () => {
    camera = await startRtspCamera({
      port: await freePort(),
      auth: { username: "admin", password },
      audio: "opus",
    })
  })
  afterAll(async () => {
    await camera?.kill()
  })

  it("with the right credentials: what the stream is, and a JPEG of it", async () => {
    // In the URL as people paste it: the @, space, : and % bare (a / cannot be, it would end the host).
    const outcome = await probe({ url: camera.url.replace("//", `//admin:${typed}@`) })

    if (!outcome.ok) throw new Error(`probe failed: ${outcome.reason}\n${logger.tail()}`)
    expect(outcome.stream).toEqual({
      codec: "h264",
      profile: "Constrained Baseline",
      width: 640,
      height: 360,
      fps: expect.closeTo(15, 0) as number,
      audio: "opus",
    })
    expect(outcome.substream).toBeUndefined()
    expect([...outcome.snapshot.subarray(0, 2)]).toEqual([0xff, 0xd8])
    expect(outcome.snapshot.length).toBeLessThanOrEqual(140_000)
    expect(readJpeg(outcome.snapshot)).toEqual({ codec_name: "mjpeg", width: 640, height: 360 })
  })

  it("with a wrong password: auth, and nothing else", async () => {
    // The password given beside the URL wins over the right one in it.
    const url = camera.url.replace("//", `//admin:${typed}@`)
    await expect(probe({ url, username: "admin", password: "wrong" })).resolves.toEqual({
      ok: false,
      code: "auth",
      reason:
        "The camera refused the user name or password. Check them: they are the camera's own, set in its web page or app.",
      field: "password",
    })
  })

  it("at a path the camera does not serve: not-found, naming the path", async () => {
    await expect(
      probe({ url: camera.url.replace("/cam", "/nothing-here"), username: "admin", password }),
    ).resolves.toEqual({
      ok: false,
      code: "not-found",
      reason:
        "The camera has no stream at /nothing-here: check the path (the camera's manual or its ONVIF profiles name it).",
      field: "url",
    })
  })

  it("never lets the password into a reason or a log", () => {
    expect(outcomes).toHaveLength(3)
    const said = JSON.stringify(outcomes.map((o) => (o.ok ? o.stream : o))) + logger.lines.join("\n")
    for (const secret of secrets) expect(said).not.toContain(secret)
    expect(logger.lines.join("\n")).toContain("rtsp://***@127.0.0.1")
  })
})

describe.skipIf(unavailable !== undefined)(`an H.265 camera${skipped}`, () => {
  let camera: RtspCamera
  beforeAll(async () => {
    camera = await startRtspCamera({ port: await freePort(), codec: "h265", width: 320, height: 180 })
  })
  afterAll(async () => {
    await camera?.kill()
  })

  it("is refused as a codec browsers cannot play, saying to choose H.264", async () => {
    const outcome = await probeCamera({ url: camera.url }, deps)

    expect(outcome).toMatchObject({ ok: false, code: "codec", field: "url" })
    expect(!outcome.ok && outcome.reason).toMatch(/main stream is H\.265.*cannot play.*H\.264/)
  })
})

describe.skipIf(unavailable !== undefined)(`a camera with a substream${skipped}`, () => {
  let camera: RtspCamera
  beforeAll(async () => {
    camera = await startRtspCamera({
      port: await freePort(),
      width: 1280,
      height: 720,
      // Snow at a high bitrate: a picture whose first JPEG is too large.
      noise: 1,
      bitrateKbps: 6000,
      substream: { width: 320, height: 180 },
    })
  })
  afterAll(async () => {
    await camera?.kill()
  })

  it("says what both streams are; the picture is the main stream's, 960 wide and small enough to send", async () => {
    const logger = memoryLogger()
    const target = { url: camera.url, substreamUrl: camera.substreamUrl }
    const outcome = await probeCamera(target, { ...deps, logger })

    if (!outcome.ok) throw new Error(`probe failed: ${outcome.reason}`)
    expect(outcome.stream).toMatchObject({ codec: "h264", width: 1280, height: 720 })
    expect(outcome.substream).toMatchObject({ codec: "h264", width: 320, height: 180 })
    expect(outcome.stream.audio).toBeUndefined()
    expect(readJpeg(outcome.snapshot)).toEqual({ codec_name: "mjpeg", width: 960, height: 540 })
    // Snow makes the first JPEG too large for a reply (about 230 kB), so it had to be made smaller.
    expect(logger.lines.some((line) => line.includes("picture too large"))).toBe(true)
    expect(outcome.snapshot.length).toBeLessThanOrEqual(140_000)
  })

  it("names the substream when it is the one that is wrong", async () => {
    const substreamUrl = camera.url.replace("/cam", "/sub-missing")
    const outcome = await probeCamera({ url: camera.url, substreamUrl }, deps)

    expect(outcome).toMatchObject({ ok: false, code: "not-found", field: "substreamUrl" })
  })
})

describe.skipIf(!tools)("a camera that is not there", () => {
  it("unreachable when nothing listens on the port", async () => {
    const port = await freePort()
    await expect(probeCamera({ url: `rtsp://127.0.0.1:${port}/cam` }, deps)).resolves.toEqual({
      ok: false,
      code: "unreachable",
      reason: `Nothing answers at 127.0.0.1:${port}: check the address and that the camera is on the same network as the hub.`,
      field: "url",
    })
  })

  it("invalid for what is not an RTSP address, naming the field", async () => {
    const good = "rtsp://127.0.0.1:1/cam"
    await expect(probeCamera({ url: "http://192.168.1.20/cam" }, deps)).resolves.toMatchObject({
      code: "invalid",
      field: "url",
    })
    await expect(
      probeCamera({ url: good, substreamUrl: "rtsp://admin:a/b@cam/x" }, deps),
    ).resolves.toMatchObject({
      code: "invalid",
      field: "substreamUrl",
    })
  })

  it("timeout when the camera answers but sends no video", async () => {
    const silent = await startSilentRtspServer()
    try {
      const outcome = await probeCamera({ url: `rtsp://127.0.0.1:${silent.port}/cam`, timeoutMs: 2000 }, deps)

      expect(outcome).toEqual({
        ok: false,
        code: "timeout",
        reason: `The camera at 127.0.0.1:${silent.port} answered but sent no video in 2 s: restart the camera, or try UDP as the transport.`,
        field: "url",
      })
    } finally {
      await new Promise((resolve) => silent.server.close(resolve))
    }
  })
})

/** An RTSP server that describes an H.264 stream and plays it, but never sends a packet of it. */
async function startSilentRtspServer(): Promise<{ server: Server; port: number }> {
  const sdp =
    "v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=silent\r\nt=0 0\r\nm=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\na=control:track1\r\n"
  const server = createServer((socket) => {
    let buffered = ""
    socket.setEncoding("utf8")
    socket.on("data", (text: string) => {
      buffered += text
      let end: number
      while ((end = buffered.indexOf("\r\n\r\n")) >= 0) {
        const request = buffered.slice(0, end)
        buffered = buffered.slice(end + 4)
        const method = request.split(" ")[0]
        const cseq = /CSeq: *(\d+)/i.exec(request)?.[1] ?? "0"
        const head = `RTSP/1.0 200 OK\r\nCSeq: ${cseq}\r\n`
        if (method === "DESCRIBE") {
          socket.write(`${head}Content-Type: application/sdp\r\nContent-Length: ${sdp.length}\r\n\r\n${sdp}`)
        } else if (method === "SETUP") {
          socket.write(`${head}Transport: RTP/AVP/TCP;unicast;interleaved=0-1\r\nSession: 1\r\n\r\n`)
        } else {
          socket.write(`${head}Public: OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN\r\nSession: 1\r\n\r\n`)
        }
      }
    })
    socket.on("error", () => {
      // ffprobe killed mid-request: nothing to answer any more.
    })
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  const address = server.address()
  if (!address || typeof address === "string") throw new Error("no port")
  return { server, port: address.port }
}
