/**
 * Arrange helpers for the hub's integration tests: real ffmpeg/ffprobe, a real RTSP camera (GStreamer's
 * RTSP server, started by the test on 127.0.0.1), and a collector for a camera pipeline's clips.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process"
import { createServer } from "node:net"
import { fileURLToPath } from "node:url"
import { FfmpegNotFoundError } from "../../src/capture/errors.ts"
import { resolveFfmpeg, resolveFfprobe } from "../../src/ffmpeg.ts"
import type { Logger } from "../../src/capture/types.ts"
import type { ClipToDeliver } from "../../src/space/hubSpace.ts"

export function findTools(): { ffmpeg: string; ffprobe: string } | undefined {
  try {
    return { ffmpeg: resolveFfmpeg().path, ffprobe: resolveFfprobe().path }
  } catch (error) {
    if (error instanceof FfmpegNotFoundError) return undefined
    throw error
  }
}

export const fixturePhoto = (name: string) =>
  fileURLToPath(new URL(`../../fixtures/photos/${name}`, import.meta.url))

/** A TCP port that was free a moment ago, on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      server.close(() =>
        typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port")),
      )
    })
  })
}

const rtspScript = fileURLToPath(new URL("./rtspCamera.py", import.meta.url))
const systemPython = "/usr/bin/python3"

/** Why the RTSP camera cannot run here (Debian packages missing), or undefined when it can. */
export function rtspCameraUnavailable(): string | undefined {
  const probe = spawnSync(
    systemPython,
    [
      "-c",
      "import gi; gi.require_version('Gst','1.0'); gi.require_version('GstRtspServer','1.0'); " +
        "from gi.repository import Gst, GstRtspServer; Gst.init(None); " +
        "missing=[n for n in ('videotestsrc','compositor','x264enc','rtph264pay') if not Gst.ElementFactory.find(n)]; " +
        "print(','.join(missing))",
    ],
    { encoding: "utf8" },
  )
  if (probe.error || probe.status !== 0) {
    return "GStreamer's RTSP server is not installed (apt-get install gir1.2-gst-rtsp-server-1.0 python3-gi gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-ugly)"
  }
  const missing = probe.stdout.trim()
  return missing ? `GStreamer elements missing: ${missing}` : undefined
}

export interface RtspCameraOptions {
  port: number
  width?: number
  height?: number
  fps?: number
  /** A ball shows for `showSeconds` at the end of every `cycleSeconds`. */
  cycleSeconds?: number
  showSeconds?: number
  /** Keyframe interval in frames. Default: one second's worth. */
  gop?: number
  /** 0–1: how much sensor-like snow to blend in (raises the bitrate). Default 0. */
  noise?: number
  /** x264's bitrate in kbit/s. Default 2048. */
  bitrateKbps?: number
  /** Require this user name and password (RTSP Basic auth), as a camera with a password does. */
  auth?: { username: string; password: string }
  /** "h265": a stream browsers cannot play live. Default "h264". */
  codec?: "h264" | "h265"
  /** Also serve the same scene at this size on /sub (the camera's substream). */
  substream?: { width: number; height: number }
  /** Add a sound track (a 440 Hz tone). */
  audio?: "opus" | "aac" | "pcma"
  /** Address to listen on. Default 127.0.0.1. */
  address?: string
}

export interface RtspCamera {
  /** The main stream, without credentials. */
  url: string
  /** The substream on /sub, when asked for. */
  substreamUrl?: string
  child: ChildProcess
  /** SIGKILL, as if the camera lost power; resolves when it is gone. */
  kill(): Promise<void>
}

/** Starts the test RTSP camera and resolves once it listens. */
export async function startRtspCamera(options: RtspCameraOptions): Promise<RtspCamera> {
  const fps = options.fps ?? 15
  const child = spawn(
    systemPython,
    [
      rtspScript,
      String(options.port),
      String(options.width ?? 640),
      String(options.height ?? 360),
      String(fps),
      String(options.cycleSeconds ?? 6),
      String(options.showSeconds ?? 2),
      String(options.gop ?? fps),
      String(options.noise ?? 0),
      String(options.bitrateKbps ?? 2048),
    ],
    {
      stdio: ["ignore", "pipe", "pipe"],
      env: {
        ...process.env,
        ...(options.auth ? { RTSP_USER: options.auth.username, RTSP_PASSWORD: options.auth.password } : {}),
        ...(options.codec ? { RTSP_CODEC: options.codec } : {}),
        ...(options.substream ? { RTSP_SUB: `${options.substream.width}x${options.substream.height}` } : {}),
        ...(options.audio ? { RTSP_AUDIO: options.audio } : {}),
        ...(options.address ? { RTSP_ADDRESS: options.address } : {}),
      },
    },
  )
  let stderr = ""
  child.stderr?.setEncoding("utf8")
  child.stderr?.on("data", (t: string) => (stderr = (stderr + t).slice(-2000)))
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`RTSP camera did not start: ${stderr}`)), 10_000)
    child.stdout?.setEncoding("utf8")
    child.stdout?.on("data", (t: string) => {
      if (t.includes("ready")) {
        clearTimeout(timer)
        resolve()
      }
    })
    child.once("exit", (code) => {
      clearTimeout(timer)
      reject(new Error(`RTSP camera exited (${code}): ${stderr}`))
    })
  })
  const base = `rtsp://${options.address ?? "127.0.0.1"}:${options.port}`
  return {
    url: `${base}/cam`,
    substreamUrl: options.substream ? `${base}/sub` : undefined,
    child,
    kill: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return
      const gone = new Promise((r) => child.once("exit", r))
      child.kill("SIGKILL")
      await gone
    },
  }
}

/** Collects a pipeline's clips; `next()` resolves with the next one (or one already waiting). */
export class ClipCollector {
  readonly clips: ClipToDeliver[] = []
  private waiters: ((clip: ClipToDeliver) => void)[] = []
  private taken = 0

  readonly onClip = async (clip: ClipToDeliver): Promise<void> => {
    this.clips.push(clip)
    this.waiters.shift()?.(clip)
  }

  next(timeoutMs: number): Promise<ClipToDeliver> {
    const ready = this.clips[this.taken]
    if (ready) {
      this.taken++
      return Promise.resolve(ready)
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no clip within ${timeoutMs} ms`)), timeoutMs)
      this.waiters.push((clip) => {
        clearTimeout(timer)
        this.taken++
        resolve(clip)
      })
    })
  }
}

/** Keyframe positions (frame numbers) in a clip file, from ffprobe. */
export function keyframeIndexes(ffprobe: string, path: string): number[] {
  const out = spawnSync(
    ffprobe,
    ["-v", "error", "-select_streams", "v:0", "-show_entries", "packet=flags", "-of", "csv=p=0", path],
    { encoding: "utf8" },
  )
  return out.stdout
    .trim()
    .split("\n")
    .flatMap((flags, i) => (flags.startsWith("K") ? [i] : []))
}

export async function waitUntil(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

/** A logger that keeps what it is told, so a failing test can show the pipeline's story. */
export function memoryLogger(): Logger & { lines: string[]; tail(n?: number): string } {
  const lines: string[] = []
  const record = (level: string) => (obj: object, msg?: string) => {
    lines.push(
      `${level} ${msg ?? ""} ${JSON.stringify(obj, (_k, v: unknown) => (v instanceof Error ? v.message : v))}`,
    )
  }
  return {
    lines,
    info: record("info"),
    warn: record("warn"),
    error: record("error"),
    debug: record("debug"),
    tail: (n = 25) => lines.slice(-n).join("\n"),
  }
}
