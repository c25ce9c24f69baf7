import { randomBytes } from "node:crypto"
import type { DiscoveryRequest } from "../space/hubSpace.ts"
import type { ConsolePrompt } from "./consolePrompt.ts"
import { spacedCode } from "./consolePrompt.ts"

/** What a person at the hub is asked, or told, about pairing by discovery. */
export type DeskEvent =
  | { kind: "question"; id: string; deviceName: string; code: string }
  | { kind: "answered"; id: string; accepted: boolean; by: string }
  | { kind: "paired"; deviceName: string }
  | { kind: "refused"; deviceName: string; reason: string }

interface OpenQuestion {
  id: string
  request: DiscoveryRequest
  settle: (yes: boolean, by: string) => void
}

/**
 * Where the hub asks "does the phone show the same code?": its own terminal when it has one, and every
 * `hub pair` (or `hub setup`) attached over the control socket, which is how a hub running as a service is
 * asked. The first explicit answer wins; a paired phone's approval (handled by HubSpace) also stands for a
 * yes, so a question may simply end unanswered here.
 */
export class PairingDesk {
  private readonly events: DeskEvent[] = []
  private readonly waiters = new Set<() => void>()
  private question: OpenQuestion | undefined
  private seq = 0

  constructor(
    private readonly print: (line: string) => void,
    private readonly prompt: ConsolePrompt | undefined,
  ) {}

  /** The `confirm` of HubSpace.startDiscovery. */
  confirm = (request: DiscoveryRequest, signal: AbortSignal): Promise<boolean> =>
    new Promise<boolean>((resolve) => {
      const id = randomBytes(8).toString("hex")
      const ended = new AbortController()
      const settle = (yes: boolean, by: string) => {
        if (this.question?.id !== id) return
        this.question = undefined
        ended.abort()
        this.push({ kind: "answered", id, accepted: yes, by })
        this.print(yes ? `Confirmed (${by}); waiting for the phone to confirm too…` : `Refused (${by}).`)
        resolve(yes)
      }
      this.question = { id, request, settle }
      signal.addEventListener("abort", () => settle(false, "the request ended"), { once: true })
      this.push({ kind: "question", id, deviceName: request.deviceName, code: request.code })
      this.print(
        `Pairing request from ${request.deviceName}. Code ${spacedCode(request.code)}. ` +
          `Does the phone show the same code?${this.prompt ? " [y/N]" : ""}`,
      )
      if (this.prompt) {
        const stop = AbortSignal.any([signal, ended.signal])
        void this.prompt.nextLine(stop).then((line) => {
          if (line !== undefined) settle(/^y(es)?$/i.test(line), "at this terminal")
        })
      }
    })

  /** An answer from a control-socket client; false when that question is no longer open. */
  answer(id: string, accept: boolean): boolean {
    if (this.question?.id !== id) return false
    this.question.settle(accept, "by hub pair")
    return true
  }

  paired(deviceName: string): void {
    this.push({ kind: "paired", deviceName })
  }

  refused(deviceName: string, reason: string): void {
    this.push({ kind: "refused", deviceName, reason })
  }

  /**
   * Events after `cursor` (a number from an earlier answer), waiting up to `waitMs` for one. A new client
   * passes -1 and gets only the open question, if any, and the cursor to go on from.
   */
  async next(cursor: number, waitMs: number): Promise<{ cursor: number; events: DeskEvent[] }> {
    if (cursor < 0) {
      const q = this.question
      const open: DeskEvent[] = q
        ? [{ kind: "question", id: q.id, deviceName: q.request.deviceName, code: q.request.code }]
        : []
      return { cursor: this.seq, events: open }
    }
    if (this.seq <= cursor) {
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer)
          this.waiters.delete(done)
          resolve()
        }
        const timer = setTimeout(done, waitMs)
        this.waiters.add(done)
      })
    }
    const fresh = this.events.slice(Math.max(0, this.events.length - (this.seq - cursor)))
    return { cursor: this.seq, events: fresh }
  }

  private push(event: DeskEvent) {
    this.events.push(event)
    if (this.events.length > 50) this.events.shift()
    this.seq++
    for (const w of [...this.waiters]) w()
  }
}
