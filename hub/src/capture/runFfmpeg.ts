import { spawn } from "node:child_process"
import { MediaError } from "./errors.ts"

export interface RunFfmpegOptions {
  /** Written to ffmpeg's stdin, in order, then stdin is closed. */
  input?: readonly Uint8Array[]
  /** ffmpeg is killed after this long. Default 15000 ms. */
  timeoutMs?: number
  /** Refuse output larger than this. Default 64 MiB. */
  maxOutputBytes?: number
}

/**
 * Runs ffmpeg once with bytes in and bytes out (stdin → stdout) and resolves with stdout.
 *
 * @throws MediaError with the given code when ffmpeg fails, times out or writes too much; the message ends
 * with ffmpeg's last stderr line.
 */
export function runFfmpeg(
  ffmpegPath: string,
  args: readonly string[],
  code: "FRAME_INVALID" | "CLIP_MUX_FAILED",
  options: RunFfmpegOptions = {},
): Promise<Uint8Array> {
  const maxOutput = options.maxOutputBytes ?? 64 * 1024 * 1024
  return new Promise((resolve, reject) => {
    const child = spawn(ffmpegPath, ["-hide_banner", "-nostdin", "-loglevel", "error", ...args], {
      stdio: [options.input ? "pipe" : "ignore", "pipe", "pipe"],
    })
    const { stdout, stderr: stderrStream } = child
    if (!stdout || !stderrStream) throw new Error("spawn gave no stdout/stderr pipes")
    const chunks: Buffer[] = []
    let size = 0
    let stderr = ""
    let failure: string | undefined
    const timer = setTimeout(() => {
      failure = "ffmpeg took too long"
      child.kill("SIGKILL")
    }, options.timeoutMs ?? 15_000)
    stdout.on("data", (chunk: Buffer) => {
      size += chunk.length
      if (size > maxOutput) {
        failure = `ffmpeg wrote more than ${maxOutput} bytes`
        child.kill("SIGKILL")
        return
      }
      chunks.push(chunk)
    })
    stderrStream.setEncoding("utf8")
    stderrStream.on("data", (text: string) => {
      stderr = (stderr + text).slice(-2000)
    })
    child.on("error", (error) => {
      clearTimeout(timer)
      reject(new MediaError(code, `could not run ffmpeg: ${error.message}`, { cause: error }))
    })
    child.on("close", (exitCode) => {
      clearTimeout(timer)
      const last = stderr.trim().split(/\r?\n/).at(-1) ?? ""
      if (failure || exitCode !== 0) {
        reject(
          new MediaError(
            code,
            `${failure ?? `ffmpeg exited with code ${exitCode}`}${last ? `: ${last}` : ""}`,
          ),
        )
      } else {
        resolve(new Uint8Array(Buffer.concat(chunks)))
      }
    })
    if (options.input && child.stdin) {
      const stdin = child.stdin
      // EPIPE if ffmpeg exits early; the exit code reports the actual problem.
      stdin.on("error", () => {})
      void (async () => {
        for (const chunk of options.input ?? []) {
          if (!stdin.write(chunk)) await new Promise((r) => stdin.once("drain", r))
        }
        stdin.end()
      })()
    }
  })
}
