import { spawn, type ChildProcess } from "node:child_process"
import { EventEmitter } from "node:events"
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import type { Readable } from "node:stream"
import { AnnexBSplitter } from "./annexB.ts"
import {
  buildCameraArgs,
  resolveMotionOutput,
  rtspInputScript,
  type CameraArgsDeps,
  type CameraConfig,
} from "./cameraArgs.ts"
import { MediaError } from "./errors.ts"
import { describeFfmpegFailure, redactCredentials } from "./ffmpegStderr.ts"
import { RawFrameSplitter } from "./rawFrameSplitter.ts"
import type { Logger, MotionFrame, TimedAccessUnit } from "./types.ts"

/** Why and how a camera's ffmpeg ended. */
export interface CameraExit {
  code: number | null
  signal: NodeJS.Signals | null
  /** For people: "stopped", "camera refused credentials", "no route to camera", ... */
  reason: string
  /** True when `stop()` asked for it. */
  requested: boolean
  /** The last lines ffmpeg wrote to stderr, credentials redacted. */
  stderrTail: string[]
}

export type CameraProcessEvents = {
  accessUnit: [TimedAccessUnit]
  motionFrame: [MotionFrame]
  exit: [CameraExit]
}

export interface CameraProcessOptions {
  ffmpegPath: string
  config: CameraConfig
  logger: Logger
  /** Goes into every log line. */
  name?: string
  /** Clock for `receivedAt` / `at`; default `Date.now`. */
  now?: () => number
  /** How long `stop()` waits after SIGTERM before SIGKILL. Default 3000 ms. */
  killAfterMs?: number
}

const stderrTailLines = 20

/**
 * One ffmpeg per camera, with two outputs: H.264 access units (stdout) and small gray frames for motion
 * detection (fd 3). A thin adapter: the byte handling is in AnnexBSplitter and RawFrameSplitter.
 *
 * Events: `accessUnit`, `motionFrame`, and `exit` exactly once per `start()`.
 */
export class CameraProcess extends EventEmitter<CameraProcessEvents> {
  private child: ChildProcess | undefined
  private stopRequested = false
  private exited: Promise<CameraExit> | undefined
  private readonly now: () => number
  private readonly log: Logger
  private readonly name: string

  constructor(private readonly options: CameraProcessOptions) {
    super()
    this.now = options.now ?? Date.now
    this.log = options.logger
    this.name = options.name ?? options.config.kind
  }

  get running(): boolean {
    return this.child !== undefined
  }

  /**
   * Spawns ffmpeg. Throws CameraConfigError for a bad config; failures after that arrive as `exit`.
   */
  start(): void {
    if (this.child) throw new MediaError("USAGE_INVALID", `camera ${this.name} is already running`)
    const config = this.options.config
    const deps: CameraArgsDeps = { fileExists: existsSync }
    // An RTSP camera's URL (with its password) reaches ffmpeg in a private file, not on its command line.
    let inputDir: string | undefined
    if (config.kind === "rtsp") {
      const script = rtspInputScript(config)
      inputDir = mkdtempSync(join(tmpdir(), "vigil-camera-")) // 0700
      deps.rtspInputPath = join(inputDir, "input.ffconcat")
      writeFileSync(deps.rtspInputPath, script, { mode: 0o600 })
    }
    const removeInput = () => {
      if (inputDir !== undefined) rmSync(inputDir, { recursive: true, force: true })
    }
    let args: string[]
    try {
      args = buildCameraArgs(config, deps)
    } catch (err) {
      removeInput()
      throw err
    }
    const motion = resolveMotionOutput(config)
    const stderrTail: string[] = []
    const annexB = new AnnexBSplitter()
    const frames = new RawFrameSplitter(motion.width * motion.height)
    let motionIndex = 0
    this.stopRequested = false

    this.log.info(
      { camera: this.name, args: args.map(redactCredentials) },
      `starting ffmpeg for camera ${this.name}`,
    )
    const child = spawn(this.options.ffmpegPath, args, { stdio: ["ignore", "pipe", "pipe", "pipe"] })
    this.child = child
    const video = child.stdout as Readable
    const motionPipe = child.stdio[3] as Readable
    const stderr = child.stderr as Readable

    const emitAccessUnits = (units: ReturnType<AnnexBSplitter["push"]>) => {
      const receivedAt = this.now()
      for (const unit of units) this.emit("accessUnit", { ...unit, receivedAt })
    }
    video.on("data", (chunk: Buffer) => emitAccessUnits(annexB.push(chunk)))
    motionPipe.on("data", (chunk: Buffer) => {
      const at = this.now()
      for (const data of frames.push(chunk)) {
        this.emit("motionFrame", {
          width: motion.width,
          height: motion.height,
          data,
          at,
          index: motionIndex++,
        })
      }
    })

    let partialLine = ""
    stderr.setEncoding("utf8")
    stderr.on("data", (text: string) => {
      const lines = (partialLine + text).split(/\r?\n/)
      partialLine = lines.pop() ?? ""
      for (const raw of lines) this.noteStderr(raw, stderrTail)
    })

    // Pipes can fail (EPIPE) when ffmpeg dies; `close` below reports that, so only log here.
    for (const stream of [video, motionPipe, stderr]) {
      stream.on("error", (error) => this.log.debug({ camera: this.name, err: error }, "ffmpeg pipe error"))
    }

    this.exited = new Promise<CameraExit>((resolve) => {
      let done = false
      const finish = (code: number | null, signal: NodeJS.Signals | null, spawnError?: Error) => {
        if (done) return
        done = true
        removeInput()
        if (partialLine) this.noteStderr(partialLine, stderrTail)
        emitAccessUnits(annexB.flush())
        const exit: CameraExit = {
          code,
          signal,
          requested: this.stopRequested,
          reason: this.describeExit(code, spawnError, stderrTail),
          stderrTail: [...stderrTail],
        }
        this.child = undefined
        const level = exit.requested ? "info" : "warn"
        this.log[level]({ camera: this.name, ...exit }, `camera ${this.name} ffmpeg exited: ${exit.reason}`)
        this.emit("exit", exit)
        resolve(exit)
      }
      child.on("error", (error) => {
        // Only a failed spawn leaves no pid; other errors (a failed kill) do not end the process.
        if (child.pid === undefined) finish(null, null, error)
        else this.log.warn({ camera: this.name, err: error }, "ffmpeg process error")
      })
      child.on("close", (code, signal) => finish(code, signal))
    })
  }

  /**
   * Asks ffmpeg to stop (SIGTERM, then SIGKILL after `killAfterMs`) and resolves with its exit. Resolves at
   * once with the last exit if it is not running.
   */
  async stop(): Promise<CameraExit | undefined> {
    const child = this.child
    const exited = this.exited
    if (!child || !exited) return exited
    this.stopRequested = true
    child.kill("SIGTERM")
    const timer = setTimeout(() => child.kill("SIGKILL"), this.options.killAfterMs ?? 3000)
    try {
      return await exited
    } finally {
      clearTimeout(timer)
    }
  }

  private noteStderr(raw: string, tail: string[]): void {
    const line = redactCredentials(raw.trim())
    if (!line) return
    tail.push(line)
    if (tail.length > stderrTailLines) tail.shift()
    this.log.warn({ camera: this.name, line }, "ffmpeg stderr")
  }

  private describeExit(code: number | null, spawnError: Error | undefined, stderrTail: string[]): string {
    if (spawnError) return `could not start ffmpeg: ${spawnError.message}`
    if (this.stopRequested) return "stopped"
    const known = describeFfmpegFailure(stderrTail)
    if (known) return known
    if (code === 0) return "camera stream ended"
    const last = stderrTail.at(-1)
    return last ? `ffmpeg failed: ${last}` : `ffmpeg exited with code ${code}`
  }
}
