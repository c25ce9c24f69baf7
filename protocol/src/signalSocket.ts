/** The relay's WebSocket (`/v1/ws`) as `SignalClient.connect` opens it: live mailbox and WebRTC signalling. */
import { toBase64 } from "./bytes.ts"
import { badResponse, base64Field, decodeMessages, isRecord, isSeq } from "./relayResponses.ts"
import type { SignalMessage } from "./relayTransport.ts"
import { SignalError } from "./signalError.ts"

/** An opaque WebRTC signalling message relayed by the relay. */
export interface SignalingMessage {
  from: string
  sentAt: number
  body: Uint8Array
}

/** What `SignalClient.connect` needs of a WebSocket: the browser's, or the `ws` package's in Node. */
export interface WebSocketLike {
  readonly readyState: number
  send(data: string): void
  close(code?: number, reason?: string): void
  addEventListener(type: "open" | "close" | "error" | "message", listener: (event: never) => void): void
}
export type WebSocketFactory = (url: string) => WebSocketLike

export interface SocketOptions {
  /** Stream the mailbox from this seq on (like `fetchMailbox(after)`); omit to not subscribe. */
  after?: number
  /** Mailbox messages, in seq order, pending ones first, then live. */
  onMessages?: (messages: SignalMessage[]) => void
  onSignal?: (message: SignalingMessage) => void
  /** The socket closed (code 1001: relay shutting down, 4401: token refused, 4429: too many sockets). */
  onClose?: (event: { code: number; reason: string }) => void
  /** Defaults to `new WebSocket(url)` (the global one). */
  webSocket?: WebSocketFactory
}

type Pending = { resolve: (frame: Record<string, unknown>) => void; reject: (err: SignalError) => void }

/**
 * A device's WebSocket to the relay. Frames are JSON; see docs/04-relay.md. Requests that expect an
 * answer carry an `id` the relay echoes.
 */
export class SignalSocket {
  /** Resolves once the relay accepted the token; rejects if it did not. */
  readonly ready: Promise<{ deviceId: string }>
  readonly #ws: WebSocketLike
  readonly #options: SocketOptions
  readonly #pending = new Map<string, Pending>()
  #nextId = 1

  constructor(ws: WebSocketLike, token: string, options: SocketOptions) {
    this.#ws = ws
    this.#options = options
    this.ready = new Promise((resolve, reject) => {
      this.#pending.set("auth", {
        resolve: (frame) => resolve({ deviceId: String(frame.deviceId) }),
        reject,
      })
    })
    // Callers that never await `ready` must not see an unhandled rejection.
    this.ready.catch(() => undefined)
    ws.addEventListener("open", () => {
      ws.send(JSON.stringify({ kind: "auth", token, id: "auth" }))
      if (options.after !== undefined) ws.send(JSON.stringify({ kind: "subscribe", after: options.after }))
    })
    ws.addEventListener("message", (event: { data: unknown }) => this.#onFrame(event.data))
    ws.addEventListener("close", (event: { code: number; reason: string }) => {
      const failure = new SignalError(0, "NETWORK", `websocket closed (${event.code})`)
      for (const pending of this.#pending.values()) pending.reject(failure)
      this.#pending.clear()
      options.onClose?.({ code: event.code, reason: event.reason })
    })
  }

  #onFrame(data: unknown): void {
    let frame: unknown
    try {
      frame = JSON.parse(String(data))
    } catch {
      return
    }
    if (!isRecord(frame) || typeof frame.kind !== "string") return
    const id = typeof frame.id === "string" ? frame.id : undefined
    if (id !== undefined) {
      const pending = this.#pending.get(id)
      if (pending !== undefined) {
        this.#pending.delete(id)
        if (frame.kind === "error") {
          pending.reject(new SignalError(0, String(frame.code), String(frame.message)))
        } else pending.resolve(frame)
        return
      }
    }
    if (frame.kind === "mailbox") {
      this.#options.onMessages?.(decodeMessages(frame))
    } else if (frame.kind === "signal") {
      if (typeof frame.from !== "string" || !isSeq(frame.sentAt) || typeof frame.body !== "string") return
      let body: Uint8Array
      try {
        body = base64Field(frame.body, "signal body")
      } catch {
        return
      }
      this.#options.onSignal?.({ from: frame.from, sentAt: frame.sentAt, body })
    }
  }

  #call(frame: Record<string, unknown>): Promise<Record<string, unknown>> {
    const id = String(this.#nextId++)
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject })
      this.#ws.send(JSON.stringify({ ...frame, id }))
    })
  }

  /** Streams the mailbox from `after` on (replaces an earlier subscription's position). */
  async subscribe(after: number): Promise<void> {
    await this.ready
    await this.#call({ kind: "subscribe", after })
  }

  /** Deletes this device's messages with seq ≤ upTo. */
  async ack(upTo: number): Promise<void> {
    await this.ready
    await this.#call({ kind: "ack", upTo })
  }

  /** Relays an opaque signalling message; resolves with how many of the recipient's sockets got it. */
  async signal(to: string, body: Uint8Array): Promise<number> {
    await this.ready
    const answer = await this.#call({ kind: "signal", to, body: toBase64(body) })
    if (!isSeq(answer.delivered)) throw badResponse('"delivered"')
    return answer.delivered
  }

  close(): void {
    this.#ws.close(1000, "bye")
  }
}
