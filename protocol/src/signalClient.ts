/**
 * Typed client of the relay's HTTP API v1 (docs/04-relay.md). Uses only `fetch`, `Uint8Array`,
 * `TextEncoder` and `atob`/`btoa`, so it runs unchanged in Node 20 and in the browser. The relay is
 * untrusted: answers are checked for shape, and everything sent through it must already be ciphertext.
 */

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

export interface PollOptions {
  /** Cancels a long poll (e.g. when the page hides); the call then throws SignalError ABORTED. */
  signal?: AbortSignal
}

/** A failed call: `status` is the HTTP status (0 when no answer), `code` the relay's error code. */
export class SignalError extends Error {
  readonly status: number
  readonly code: string

  constructor(status: number, code: string, message: string) {
    super(message)
    this.name = "SignalError"
    this.status = status
    this.code = code
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

  async addMember(spaceId: string, deviceId: string): Promise<void> {
    await this.#request("PUT", `/v1/spaces/${enc(spaceId)}/members/${enc(deviceId)}`)
  }

  async removeMember(spaceId: string, deviceId: string): Promise<void> {
    await this.#request("DELETE", `/v1/spaces/${enc(spaceId)}/members/${enc(deviceId)}`)
  }

  /** Uploads ciphertext; `blobId` must be the lowercase hex SHA-256 of `bytes`. */
  async putBlob(
    spaceId: string,
    blobId: string,
    bytes: Uint8Array,
  ): Promise<{ blobId: string; size: number }> {
    const body = await this.#json("PUT", `/v1/spaces/${enc(spaceId)}/blobs/${enc(blobId)}`, { body: bytes })
    return { blobId: stringField(body, "blobId"), size: seqField(body, "size") }
  }

  /** Downloads a blob, or a byte range of it. */
  async getBlob(spaceId: string, blobId: string, range?: BlobRange): Promise<Uint8Array> {
    const headers = range === undefined ? undefined : { range: rangeHeader(range) }
    const response = await this.#request("GET", `/v1/spaces/${enc(spaceId)}/blobs/${enc(blobId)}`, {
      headers,
    })
    const bytes = new Uint8Array(await response.arrayBuffer())
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
