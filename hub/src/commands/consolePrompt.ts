import { fstatSync } from "node:fs"
import { createInterface } from "node:readline"
import type { Readable } from "node:stream"

/**
 * Whether the hub has someone (or a test) to ask: a terminal, or a pipe/socket on stdin. /dev/null (a
 * service, `stdio: "ignore"`) is not one, and without one the hub never pairs by discovery.
 */
export function hasConsoleInput(): boolean {
  if (process.stdin.isTTY) return true
  try {
    const st = fstatSync(0)
    return st.isFIFO() || st.isSocket()
  } catch {
    return false
  }
}

/** Lines typed at the hub's terminal: a pending question takes the next line, others go to `onCommand`. */
export class ConsolePrompt {
  private waiter: ((line: string | undefined) => void) | undefined
  private ended = false
  onCommand: (line: string) => void = () => {}

  constructor(input: Readable) {
    const rl = createInterface({ input, terminal: false })
    rl.on("line", (raw) => {
      const line = raw.trim()
      const w = this.waiter
      if (w) {
        this.waiter = undefined
        w(line)
      } else if (line) this.onCommand(line)
    })
    rl.on("close", () => {
      this.ended = true
      this.waiter?.(undefined)
      this.waiter = undefined
    })
  }

  /** The next line typed, or undefined if the input ended or `signal` aborted first. */
  nextLine(signal: AbortSignal): Promise<string | undefined> {
    if (this.ended || signal.aborted) return Promise.resolve(undefined)
    return new Promise((resolve) => {
      const onAbort = () => {
        if (this.waiter === done) this.waiter = undefined
        resolve(undefined)
      }
      const done = (line: string | undefined) => {
        signal.removeEventListener("abort", onAbort)
        resolve(line)
      }
      this.waiter = done
      signal.addEventListener("abort", onAbort, { once: true })
    })
  }
}

/** Formats a code as people read it: "123 456". */
export const spacedCode = (code: string) => `${code.slice(0, 3)} ${code.slice(3)}`
