import { fork, type ChildProcess } from "node:child_process"
import { existsSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { DetectorError } from "../capture/errors.ts"
import type { CenterNetOptions } from "./centerNetDetector.ts"
import type { Detection, ObjectDetector, RgbImage } from "./objectDetector.ts"

/** Hub → detector process. */
export type ChildRequest =
  | { kind: "load"; options: CenterNetOptions }
  | { kind: "detect"; id: number; width: number; height: number; pixels: Uint8Array }

/** Detector process → hub. */
export type ChildReply =
  | { kind: "ready"; name: string }
  | { kind: "failed"; message: string }
  | { kind: "result"; id: number; detections: Detection[] }
  | { kind: "error"; id: number; message: string }

export interface ChildProcessDetectorOptions extends CenterNetOptions {
  /** How long loading may take. Default 30 s. */
  loadTimeoutMs?: number
  /** How long one image may take before the process is killed. Default 20 s. */
  detectTimeoutMs?: number
}

/**
 * The detector process's entry file: the TypeScript source when the hub runs from source (tsx, tests), or a
 * `hub-detector.mjs` built beside a bundled hub. Undefined when neither exists.
 */
export function detectorChildEntry(): string | undefined {
  for (const candidate of ["./detectorChild.ts", "./hub-detector.mjs"]) {
    const url = new URL(candidate, import.meta.url)
    if (url.protocol === "file:" && existsSync(fileURLToPath(url))) return fileURLToPath(url)
  }
  return undefined
}

/**
 * Starts the CenterNet detector in a child Node process and resolves once its model is loaded. Images go
 * over IPC (structured clone); calls are answered in order. If the process dies or an image takes longer
 * than `detectTimeoutMs`, pending and later calls reject with DETECTION_FAILED: the caller decides whether
 * to start a new one.
 *
 * @throws DetectorError DETECTOR_UNAVAILABLE when the process cannot start or the model cannot load.
 */
export async function startChildProcessDetector(
  options: ChildProcessDetectorOptions = {},
  entry = detectorChildEntry(),
): Promise<ObjectDetector> {
  if (!entry) throw new DetectorError("DETECTOR_UNAVAILABLE", "the detector process's entry file is missing")
  // From TypeScript sources the child needs the hub's loader (tsx); the hub may have it already.
  const needsLoader = entry.endsWith(".ts") && !process.execArgv.some((a) => /\btsx\b/.test(a))
  const child: ChildProcess = fork(entry, [], {
    execArgv: needsLoader ? [...process.execArgv, "--import", "tsx"] : process.execArgv,
    serialization: "advanced",
    stdio: ["ignore", "ignore", "pipe", "ipc"],
  })
  let stderr = ""
  child.stderr?.setEncoding("utf8")
  child.stderr?.on("data", (text: string) => {
    stderr = (stderr + text).slice(-1000)
  })

  const pending = new Map<
    number,
    { resolve: (d: Detection[]) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }
  >()
  let dead: Error | undefined
  const die = (error: Error) => {
    dead ??= error
    for (const p of pending.values()) {
      clearTimeout(p.timer)
      p.reject(dead)
    }
    pending.clear()
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL")
  }
  const lastLine = () => stderr.trim().split("\n").at(-1) ?? ""

  const name = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new DetectorError("DETECTOR_UNAVAILABLE", "the detector process did not load its model in time"))
      child.kill("SIGKILL")
    }, options.loadTimeoutMs ?? 30_000)
    child.on("message", (reply: ChildReply) => {
      if (reply.kind === "ready" || reply.kind === "failed") clearTimeout(timer)
      if (reply.kind === "ready") resolve(reply.name)
      else if (reply.kind === "failed") {
        reject(new DetectorError("DETECTOR_UNAVAILABLE", reply.message))
        child.kill("SIGKILL")
      }
    })
    child.once("error", (error) => {
      clearTimeout(timer)
      reject(
        new DetectorError("DETECTOR_UNAVAILABLE", `could not start the detector process: ${error.message}`),
      )
    })
    child.once("exit", (code, signal) => {
      clearTimeout(timer)
      reject(
        new DetectorError(
          "DETECTOR_UNAVAILABLE",
          `the detector process exited (${signal ?? code}) ${lastLine()}`.trim(),
        ),
      )
    })
    const { loadTimeoutMs: _l, detectTimeoutMs: _d, ...centerNet } = options
    child.send({ kind: "load", options: centerNet } satisfies ChildRequest)
  })

  child.on("message", (reply: ChildReply) => {
    if (reply.kind !== "result" && reply.kind !== "error") return
    const p = pending.get(reply.id)
    if (!p) return
    pending.delete(reply.id)
    clearTimeout(p.timer)
    if (reply.kind === "result") p.resolve(reply.detections)
    else p.reject(new DetectorError("DETECTION_FAILED", reply.message))
    if (pending.size === 0) child.unref()
  })
  child.on("exit", (code, signal) =>
    die(
      new DetectorError(
        "DETECTION_FAILED",
        `the detector process exited (${signal ?? code}) ${lastLine()}`.trim(),
      ),
    ),
  )
  // Idle, the detector process must not keep the hub (or a test) running; a pending call refs it again.
  child.unref()
  const channel = child as ChildProcess & { channel?: { unref(): void; ref(): void } }
  channel.channel?.unref()

  let nextId = 1
  const detectTimeoutMs = options.detectTimeoutMs ?? 20_000
  return {
    name: `${name}, own process`,
    detect(image: RgbImage): Promise<Detection[]> {
      if (dead) return Promise.reject(dead)
      const id = nextId++
      return new Promise<Detection[]>((resolve, reject) => {
        const timer = setTimeout(
          () =>
            die(new DetectorError("DETECTION_FAILED", `detection took longer than ${detectTimeoutMs} ms`)),
          detectTimeoutMs,
        )
        pending.set(id, { resolve, reject, timer })
        child.ref()
        channel.channel?.ref()
        const request: ChildRequest = {
          kind: "detect",
          id,
          width: image.width,
          height: image.height,
          pixels: image.data,
        }
        child.send(request)
      }).finally(() => {
        if (pending.size === 0) channel.channel?.unref()
      })
    },
    async close() {
      if (dead) return
      dead = new DetectorError("DETECTION_FAILED", "the detector was closed")
      const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()))
      child.disconnect()
      const timer = setTimeout(() => child.kill("SIGKILL"), 2000)
      await exited
      clearTimeout(timer)
    },
  }
}
