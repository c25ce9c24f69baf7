/**
 * One HTTP exchange with the relay: bearer token, JSON or octet-stream body, and the mapping of every
 * failure to a SignalError (no answer: status 0 NETWORK/ABORTED; an error answer: its status and the
 * `{ error: { code, message } }` the relay sent). Only `fetch`, so it runs in Node and in the browser.
 */
import { concatBytes } from "./bytes.ts"
import type { BlobRange } from "./relayTransport.ts"
import { badResponse, isRecord } from "./relayResponses.ts"
import { SignalError } from "./signalError.ts"

export interface RelayRequest {
  /** Sent as application/octet-stream. */
  body?: Uint8Array
  /** Sent as application/json. */
  json?: unknown
  headers?: Record<string, string>
  signal?: AbortSignal
}

const jsonEncoder = new TextEncoder()

/** The relay at one base URL, called as the device whose token it holds (if any). */
export class RelayHttp {
  readonly baseUrl: string
  readonly #fetch: typeof fetch
  token: string | undefined

  constructor(baseUrl: string, token: string | undefined, fetchImpl: typeof fetch | undefined) {
    this.baseUrl = baseUrl.replace(/\/+$/, "")
    this.token = token
    this.#fetch = fetchImpl ?? ((input, init) => fetch(input, init))
  }

  /** Sends the request; resolves with a 2xx response, else rejects with a SignalError. */
  async request(method: string, path: string, init: RelayRequest = {}): Promise<Response> {
    const headers: Record<string, string> = { ...init.headers }
    if (this.token !== undefined) headers.authorization = `Bearer ${this.token}`
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
      response = await this.#fetch(`${this.baseUrl}${path}`, {
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
    if (!response.ok) throw await errorOf(response)
    return response
  }

  /** `request`, then the answer's JSON body (BAD_RESPONSE when it is not JSON). */
  async json(method: string, path: string, init?: RelayRequest): Promise<unknown> {
    const response = await this.request(method, path, init)
    try {
      return (await response.json()) as unknown
    } catch {
      throw badResponse("JSON body")
    }
  }
}

/** The SignalError for a non-2xx answer: the relay's code and message when it sent its JSON error body. */
async function errorOf(response: Response): Promise<SignalError> {
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
  return new SignalError(response.status, code, message)
}

/** BodyInit wants a view of a plain ArrayBuffer; copy only when the caller's view is shared. */
function plainBytes(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return bytes.buffer instanceof ArrayBuffer ? (bytes as Uint8Array<ArrayBuffer>) : new Uint8Array(bytes)
}

/** A path segment, percent-encoded. */
export function enc(segment: string): string {
  return encodeURIComponent(segment)
}

/** `after=<seq>[&wait=<ms>]` of a mailbox or room read. */
export function pollQuery(after: number, waitMs: number | undefined): string {
  const query = new URLSearchParams({ after: String(after) })
  if (waitMs !== undefined) query.set("wait", String(waitMs))
  return query.toString()
}

export function rangeHeader(range: BlobRange): string {
  if ("suffix" in range) return `bytes=-${range.suffix}`
  return `bytes=${range.start}-${range.end ?? ""}`
}

/** The range cut out of the whole body (for a proxy that dropped the Range header and sent 200). */
export function sliceRange(bytes: Uint8Array, range: BlobRange): Uint8Array {
  if ("suffix" in range) return bytes.subarray(Math.max(0, bytes.length - range.suffix))
  return bytes.subarray(range.start, range.end === undefined ? undefined : range.end + 1)
}

/**
 * Reads a response body, giving up (typed error, download cancelled) past `maxBytes`: for bodies whose size
 * the caller knows from a signed message, so an untrusted relay cannot make it buffer more.
 */
export async function readAtMost(response: Response, maxBytes: number): Promise<Uint8Array> {
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
  return concatBytes(...parts)
}
