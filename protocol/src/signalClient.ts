/**
 * Typed client of the relay's HTTP API v1 (docs/04-relay.md). Uses only `fetch`, `Uint8Array`,
 * `TextEncoder` and `atob`/`btoa`, so it runs unchanged in Node 20 and in the browser. The relay is
 * untrusted: answers are checked for shape, and everything sent through it must already be ciphertext.
 */

import { VigilError, relayErrorCode } from "./errors.ts"

export type DeviceKind = "hub" | "phone"

/** A message read from a mailbox or a pairing room. */
export interface SignalMessage {
  seq: number
  /** Device id of the sender, as the relay claims it. */
  from: string
  /** Milliseconds since the epoch, by the relay's clock. */
  sentAt: number
  body: Uint8Array
}

/** Bytes to read: `{ start, end? }` (end inclusive, as in HTTP) or the last `suffix` bytes. */
export type BlobRange = { start: number; end?: number } | { suffix: number }

export interface SignalClientOptions {
  /** e.g. "https://relay.example" or "" for same-origin in the PWA. */
  baseUrl: string
  token?: string
  /** Defaults to the global fetch. */
  fetch?: typeof fetch
}

/** A blob as the relay lists it. */
export interface BlobInfo {
  blobId: string
  size: number
  /** Upload time, ms since the epoch by the relay's clock. */
  createdAt: number
  /** When retention deletes it at the latest. */
  expiresAt: number
  /** Devices that still have to acknowledge it (empty when none were named). */
  pendingRecipients: string[]
}

/** A hub in pairing mode seen from the caller's public address. */
export interface PairingAnnouncement {
  roomId: string
  /** Opaque bytes the hub announced (a name, possibly encrypted). */
  name: Uint8Array
  deviceId: string
  announcedAt: number
  expiresAt: number
}

/** RTCIceServer as the relay hands it out. */
export interface IceServerConfig {
  urls: string | string[]
  username?: string
  credential?: string
}

/** A browser PushSubscription as `toJSON()` gives it. */
export interface PushSubscriptionJson {
  endpoint: string
  expirationTime?: number | null
  keys: { p256dh: string; auth: string }
}

export type PushUrgency = "very-low" | "low" | "normal" | "high"

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

export interface PollOptions {
  /** Cancels a long poll (e.g. when the page hides); the call then throws SignalError ABORTED. */
  signal?: AbortSignal
}

/**
 * A failed call: `status` is the HTTP status (0 when no answer), `relayCode` the relay's error code (or
 * NETWORK, ABORTED, BAD_RESPONSE, HTTP_ERROR from this client), `code` what that means for us.
 */
export class SignalError extends VigilError {
  readonly status: number
  readonly relayCode: string

  constructor(status: number, relayCode: string, message: string) {
    super(relayErrorCode(status, relayCode), message)
    this.status = status
    this.relayCode = relayCode
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value)
}

function isSeq(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0
}

function badResponse(what: string): SignalError {
  return new SignalError(0, "BAD_RESPONSE", `relay sent a malformed ${what}`)
}

function stringField(body: unknown, field: string): string {
  const value = isRecord(body) ? body[field] : undefined
  if (typeof value !== "string") throw badResponse(`"${field}"`)
  return value
}

function seqField(body: unknown, field: string): number {
  const value = isRecord(body) ? body[field] : undefined
  if (!isSeq(value)) throw badResponse(`"${field}"`)
  return value
}

/** Standard base64 → bytes, without Buffer. */
export function decodeBase64(text: string): Uint8Array {
  const binary = atob(text)
  const bytes = new Uint8Array(binary.length)
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i)
  return bytes
}

/** Bytes → standard base64, without Buffer. */
export function encodeBase64(bytes: Uint8Array): string {
  let binary = ""
  const chunk = 0x8000
  for (let i = 0; i < bytes.length; i += chunk) {
    binary += String.fromCharCode(...bytes.subarray(i, i + chunk))
  }
  return btoa(binary)
}

function decodeMessages(body: unknown): SignalMessage[] {
  const list = isRecord(body) ? body.messages : undefined
  if (!Array.isArray(list)) throw badResponse("message list")
  return list.map((m: unknown) => {
    if (!isRecord(m) || !isSeq(m.seq) || typeof m.from !== "string" || !isSeq(m.sentAt)) {
      throw badResponse("message")
    }
    if (typeof m.body !== "string") throw badResponse("message body")
    let bytes: Uint8Array
    try {
      bytes = decodeBase64(m.body)
    } catch {
      throw badResponse("message body")
    }
    return { seq: m.seq, from: m.from, sentAt: m.sentAt, body: bytes }
  })
}

function rangeHeader(range: BlobRange): string {
  if ("suffix" in range) return `bytes=-${range.suffix}`
  return `bytes=${range.start}-${range.end ?? ""}`
}

const jsonEncoder = new TextEncoder()

interface RelayRequest {
  /** Sent as application/octet-stream. */
  body?: Uint8Array
  /** Sent as application/json. */
  json?: unknown
  headers?: Record<string, string>
  signal?: AbortSignal
}

/** Client of one relay, acting as one device (the one whose token it holds). */
export class SignalClient {
  readonly #baseUrl: string
  readonly #fetch: typeof fetch
  #token: string | undefined

  constructor(options: SignalClientOptions) {
    this.#baseUrl = options.baseUrl.replace(/\/+$/, "")
    this.#token = options.token
    this.#fetch = options.fetch ?? ((input, init) => fetch(input, init))
  }

  /** The bearer token in use, if any. */
  get token(): string | undefined {
    return this.#token
  }

  async #request(method: string, path: string, init: RelayRequest = {}): Promise<Response> {
    const headers: Record<string, string> = { ...init.headers }
    if (this.#token !== undefined) headers.authorization = `Bearer ${this.#token}`
    let body: Uint8Array | undefined
    if (init.json !== undefined) {
      headers["content-type"] = "application/json"
      body = jsonEncoder.encode(JSON.stringify(init.json))
    } else if (init.body !== undefined) {
      headers["content-type"] = "application/octet-stream"
      body = init.body
    }
    let response: Response
    try {
      response = await this.#fetch(`${this.#baseUrl}${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : plainBytes(body),
        signal: init.signal,
      })
    } catch (err) {
      if (init.signal?.aborted) throw new SignalError(0, "ABORTED", "request aborted")
      throw new SignalError(
        0,
        "NETWORK",
        `cannot reach relay: ${err instanceof Error ? err.message : String(err)}`,
      )
    }
    if (!response.ok) {
      let code = "HTTP_ERROR"
      let message = `relay answered ${response.status}`
      try {
        const payload: unknown = await response.json()
        const error = isRecord(payload) ? payload.error : undefined
        if (isRecord(error) && typeof error.code === "string") code = error.code
        if (isRecord(error) && typeof error.message === "string") message = error.message
      } catch {
        // Not a JSON error body (e.g. a proxy's HTML page): keep the generic code.
      }
      throw new SignalError(response.status, code, message)
    }
    return response
  }

  async #json(method: string, path: string, init?: RelayRequest): Promise<unknown> {
    const response = await this.#request(method, path, init)
    try {
      return (await response.json()) as unknown
    } catch {
      throw badResponse("JSON body")
    }
  }

  /** Registers a new device; the client keeps and uses the returned token from now on. */
  async registerDevice(kind: DeviceKind): Promise<{ deviceId: string; token: string }> {
    const body = await this.#json("POST", "/v1/devices", { json: { kind } })
    const result = { deviceId: stringField(body, "deviceId"), token: stringField(body, "token") }
    this.#token = result.token
    return result
  }

  async me(): Promise<{ deviceId: string; kind: DeviceKind }> {
    const body = await this.#json("GET", "/v1/me")
    const kind = stringField(body, "kind")
    if (kind !== "hub" && kind !== "phone") throw badResponse('"kind"')
    return { deviceId: stringField(body, "deviceId"), kind }
  }

  /** Creates a space owned by this device (a hub). */
  async createSpace(): Promise<{ spaceId: string }> {
    const body = await this.#json("POST", "/v1/spaces")
    return { spaceId: stringField(body, "spaceId") }
  }

  /**
   * Claims a pairing room for this hub, before handing out the invite that names it: a device that then
   * writes into the room consents to being added to this hub's space, and only this hub's (the relay lets
   * no owner add a device without that). Announcing a room (`announcePairing`) claims it too. FORBIDDEN
   * when another device claimed or wrote into it first.
   */
  async claimRoom(roomId: string): Promise<void> {
    await this.#request("PUT", `/v1/rooms/${enc(roomId)}/owner`)
  }

  /**
   * Adds a device to the space; it must have asked to join (written into a room this hub claimed, see
   * `claimRoom`), else FORBIDDEN. `pending`: a phone being paired, before the person confirmed the code; it
   * may exchange mail with the space's devices but has no access to its blobs, until added again without.
   */
  async addMember(spaceId: string, deviceId: string, options: { pending?: boolean } = {}): Promise<void> {
    const query = options.pending ? "?pending=1" : ""
    await this.#request("PUT", `/v1/spaces/${enc(spaceId)}/members/${enc(deviceId)}${query}`)
  }

  async removeMember(spaceId: string, deviceId: string): Promise<void> {
    await this.#request("DELETE", `/v1/spaces/${enc(spaceId)}/members/${enc(deviceId)}`)
  }

  /**
   * Uploads ciphertext; `blobId` must be the lowercase hex SHA-256 of `bytes`. With `recipients`, the
   * relay deletes the blob once each of them acknowledged it (`ackBlob`); it is deleted after the
   * retention period in any case. Fails with QUOTA_EXCEEDED (413) when the space is full.
   */
  async putBlob(
    spaceId: string,
    blobId: string,
    bytes: Uint8Array,
    options: { recipients?: readonly string[] } = {},
  ): Promise<{ blobId: string; size: number }> {
    const headers =
      options.recipients === undefined ? undefined : { "x-vigil-recipients": options.recipients.join(",") }
    const body = await this.#json("PUT", `/v1/spaces/${enc(spaceId)}/blobs/${enc(blobId)}`, {
      body: bytes,
      headers,
    })
    return { blobId: stringField(body, "blobId"), size: seqField(body, "size") }
  }

  /** The space's blobs, oldest first, a page at a time (pass `nextCursor` back as `cursor`). */
  async listBlobs(
    spaceId: string,
    options: { cursor?: string; limit?: number } = {},
  ): Promise<{ blobs: BlobInfo[]; usedBytes: number; quotaBytes: number; nextCursor: string | null }> {
    const query = new URLSearchParams()
    if (options.cursor !== undefined) query.set("cursor", options.cursor)
    if (options.limit !== undefined) query.set("limit", String(options.limit))
    const body = await this.#json("GET", `/v1/spaces/${enc(spaceId)}/blobs?${query.toString()}`)
    const list = isRecord(body) ? body.blobs : undefined
    if (!Array.isArray(list)) throw badResponse("blob list")
    const blobs = list.map((b: unknown): BlobInfo => {
      const pending = isRecord(b) ? b.pendingRecipients : undefined
      if (!Array.isArray(pending) || !pending.every((d) => typeof d === "string")) throw badResponse("blob")
      return {
        blobId: stringField(b, "blobId"),
        size: seqField(b, "size"),
        createdAt: seqField(b, "createdAt"),
        expiresAt: seqField(b, "expiresAt"),
        pendingRecipients: pending as string[],
      }
    })
    const next = isRecord(body) ? body.nextCursor : undefined
    if (next !== null && typeof next !== "string") throw badResponse('"nextCursor"')
    return {
      blobs,
      usedBytes: seqField(body, "usedBytes"),
      quotaBytes: seqField(body, "quotaBytes"),
      nextCursor: next,
    }
  }

  /** Replaces the devices that must acknowledge the blob (owner only). */
  async setBlobRecipients(spaceId: string, blobId: string, recipients: readonly string[]): Promise<void> {
    await this.#request("PUT", `/v1/spaces/${enc(spaceId)}/blobs/${enc(blobId)}/recipients`, {
      json: { recipients },
    })
  }

  /** Acknowledges a blob (this device has it); `deleted` when that was the last pending recipient. */
  async ackBlob(spaceId: string, blobId: string): Promise<{ deleted: boolean }> {
    const body = await this.#json("POST", `/v1/spaces/${enc(spaceId)}/blobs/${enc(blobId)}/ack`)
    const deleted = isRecord(body) ? body.deleted : undefined
    if (typeof deleted !== "boolean") throw badResponse('"deleted"')
    return { deleted }
  }

  /**
   * Deletes a blob: the space's owner deletes it for everyone; a member only drops its own claim on it (as
   * `ackBlob` does), the others keep it.
   */
  async deleteBlob(spaceId: string, blobId: string): Promise<void> {
    await this.#request("DELETE", `/v1/spaces/${enc(spaceId)}/blobs/${enc(blobId)}`)
  }

  /** Downloads a blob, or a byte range of it. */
  async getBlob(
    spaceId: string,
    blobId: string,
    range?: BlobRange,
    options: { maxBytes?: number } = {},
  ): Promise<Uint8Array> {
    const headers = range === undefined ? undefined : { range: rangeHeader(range) }
    const response = await this.#request("GET", `/v1/spaces/${enc(spaceId)}/blobs/${enc(blobId)}`, {
      headers,
    })
    const bytes =
      options.maxBytes === undefined
        ? new Uint8Array(await response.arrayBuffer())
        : await readAtMost(response, options.maxBytes)
    // A proxy may drop the Range header and send 200 with everything: cut the range out ourselves.
    if (range !== undefined && response.status === 200) return sliceRange(bytes, range)
    return bytes
  }

  /** Sends to another device's mailbox; both must share a space. */
  async sendToMailbox(deviceId: string, bytes: Uint8Array): Promise<{ seq: number }> {
    const body = await this.#json("POST", `/v1/devices/${enc(deviceId)}/mailbox`, { body: bytes })
    return { seq: seqField(body, "seq") }
  }

  /** Messages after `after`, oldest first (≤ 100); with `waitMs` (≤ 25000) waits for one to arrive. */
  async fetchMailbox(after: number, waitMs?: number, options: PollOptions = {}): Promise<SignalMessage[]> {
    const body = await this.#json("GET", `/v1/mailbox?${pollQuery(after, waitMs)}`, {
      signal: options.signal,
    })
    return decodeMessages(body)
  }

  /** Deletes this device's messages with seq ≤ upTo. */
  async ackMailbox(upTo: number): Promise<void> {
    await this.#request("POST", "/v1/mailbox/ack", { json: { upTo } })
  }

  async postToRoom(roomId: string, bytes: Uint8Array): Promise<{ seq: number }> {
    const body = await this.#json("POST", `/v1/rooms/${enc(roomId)}/messages`, { body: bytes })
    return { seq: seqField(body, "seq") }
  }

  /**
   * Announces this hub (in pairing mode) to phones behind the same public address, under `roomId`
   * with an opaque `name` (≤ 256 bytes). Repeat it to stay listed.
   */
  async announcePairing(roomId: string, name: Uint8Array): Promise<{ roomId: string; expiresAt: number }> {
    const body = await this.#json("POST", "/v1/pairing/announcements", {
      json: { roomId, name: encodeBase64(name) },
    })
    return { roomId: stringField(body, "roomId"), expiresAt: seqField(body, "expiresAt") }
  }

  /** Hubs announcing from this device's public address, newest first. */
  async listPairingAnnouncements(): Promise<PairingAnnouncement[]> {
    const body = await this.#json("GET", "/v1/pairing/announcements")
    const list = isRecord(body) ? body.announcements : undefined
    if (!Array.isArray(list)) throw badResponse("announcement list")
    return list.map((a: unknown) => {
      let name: Uint8Array
      try {
        name = decodeBase64(stringField(a, "name"))
      } catch {
        throw badResponse("announcement name")
      }
      return {
        roomId: stringField(a, "roomId"),
        name,
        deviceId: stringField(a, "deviceId"),
        announcedAt: seqField(a, "announcedAt"),
        expiresAt: seqField(a, "expiresAt"),
      }
    })
  }

  /** Withdraws this hub's announcement of `roomId`. */
  async withdrawPairing(roomId: string): Promise<void> {
    await this.#request("DELETE", `/v1/pairing/announcements/${enc(roomId)}`)
  }

  /** The ICE servers to use for WebRTC (empty unless the relay's operator configured some). */
  async getIceServers(): Promise<IceServerConfig[]> {
    const body = await this.#json("GET", "/v1/rtc/ice-servers")
    const list = isRecord(body) ? body.iceServers : undefined
    if (!Array.isArray(list)) throw badResponse("ICE server list")
    return list.map((server: unknown) => {
      if (!isRecord(server)) throw badResponse("ICE server")
      const urls = server.urls
      const validUrls =
        typeof urls === "string" || (Array.isArray(urls) && urls.every((u) => typeof u === "string"))
      if (!validUrls) throw badResponse("ICE server urls")
      const result: IceServerConfig = { urls: urls as string | string[] }
      if (typeof server.username === "string") result.username = server.username
      if (typeof server.credential === "string") result.credential = server.credential
      return result
    })
  }

  /**
   * Hands an opaque (MLS-encrypted) signalling message to the other device's live WebSockets;
   * `delivered: 0` means it is offline (use the mailbox instead).
   */
  async sendSignal(deviceId: string, bytes: Uint8Array): Promise<{ delivered: number }> {
    const body = await this.#json("POST", `/v1/devices/${enc(deviceId)}/signal`, { body: bytes })
    return { delivered: seqField(body, "delivered") }
  }

  /** The relay's VAPID public key (base64url), the `applicationServerKey` to subscribe with. */
  async getVapidPublicKey(): Promise<string> {
    return stringField(await this.#json("GET", "/v1/push/vapid-public-key"), "publicKey")
  }

  /** Registers this device's push subscription (replacing an earlier one). */
  async setPushSubscription(subscription: PushSubscriptionJson): Promise<void> {
    await this.#request("PUT", "/v1/push/subscription", { json: subscription })
  }

  async deletePushSubscription(): Promise<void> {
    await this.#request("DELETE", "/v1/push/subscription")
  }

  /**
   * Asks the relay to Web-Push an opaque (end-to-end encrypted, ≤ 3072 bytes) payload to the space's
   * other devices, or to `to` among them (owner only).
   */
  async push(
    spaceId: string,
    payload: Uint8Array,
    options: { ttlSeconds?: number; urgency?: PushUrgency; to?: readonly string[] } = {},
  ): Promise<{ sent: number; removed: number; failed: number }> {
    const body = await this.#json("POST", `/v1/spaces/${enc(spaceId)}/push`, {
      json: { payload: encodeBase64(payload), ...options },
    })
    return {
      sent: seqField(body, "sent"),
      removed: seqField(body, "removed"),
      failed: seqField(body, "failed"),
    }
  }

  /**
   * Opens the relay's WebSocket (`/v1/ws`) as this device: live mailbox delivery and WebRTC
   * signalling. The token goes in the first frame, never in the URL.
   */
  connect(options: SocketOptions = {}): SignalSocket {
    if (this.#token === undefined)
      throw new SignalError(0, "UNAUTHENTICATED", "register or pass a token first")
    const base =
      this.#baseUrl === "" ? (globalThis as { location?: { href: string } }).location?.href : this.#baseUrl
    const url = new URL(`${this.#baseUrl}/v1/ws`, base)
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:"
    const open =
      options.webSocket ??
      ((u: string) =>
        new (globalThis as unknown as { WebSocket: new (u: string) => WebSocketLike }).WebSocket(u))
    return new SignalSocket(open(url.toString()), this.#token, options)
  }

  async readRoom(
    roomId: string,
    after: number,
    waitMs?: number,
    options: PollOptions = {},
  ): Promise<SignalMessage[]> {
    const path = `/v1/rooms/${enc(roomId)}/messages?${pollQuery(after, waitMs)}`
    return decodeMessages(await this.#json("GET", path, { signal: options.signal }))
  }
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
        body = decodeBase64(frame.body)
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
    const answer = await this.#call({ kind: "signal", to, body: encodeBase64(body) })
    if (!isSeq(answer.delivered)) throw badResponse('"delivered"')
    return answer.delivered
  }

  close(): void {
    this.#ws.close(1000, "bye")
  }
}

/** BodyInit wants a view of a plain ArrayBuffer; copy only when the caller's view is shared. */
function plainBytes(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return bytes.buffer instanceof ArrayBuffer ? (bytes as Uint8Array<ArrayBuffer>) : new Uint8Array(bytes)
}

function sliceRange(bytes: Uint8Array, range: BlobRange): Uint8Array {
  if ("suffix" in range) return bytes.subarray(Math.max(0, bytes.length - range.suffix))
  return bytes.subarray(range.start, range.end === undefined ? undefined : range.end + 1)
}

function enc(segment: string): string {
  return encodeURIComponent(segment)
}

function pollQuery(after: number, waitMs: number | undefined): string {
  const query = new URLSearchParams({ after: String(after) })
  if (waitMs !== undefined) query.set("wait", String(waitMs))
  return query.toString()
}

/**
 * Reads a response body, giving up (typed error, download cancelled) past `maxBytes`: for bodies whose size
 * the caller knows from a signed message, so an untrusted relay cannot make it buffer more.
 */
async function readAtMost(response: Response, maxBytes: number): Promise<Uint8Array> {
  if (!response.body) return new Uint8Array(await response.arrayBuffer())
  const reader = response.body.getReader()
  const parts: Uint8Array[] = []
  let total = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    total += value.length
    if (total > maxBytes) {
      await reader.cancel().catch(() => undefined)
      throw new SignalError(
        response.status,
        "BAD_RESPONSE",
        `relay sent more than the expected ${maxBytes} bytes`,
      )
    }
    parts.push(value)
  }
  const out = new Uint8Array(total)
  let at = 0
  for (const p of parts) {
    out.set(p, at)
    at += p.length
  }
  return out
}
