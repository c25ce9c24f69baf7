import type { ErrorRequestHandler } from "express"
import { ZodError } from "zod"
import type { Logger } from "./log.ts"

/**
 * Every error code the relay answers with, and its HTTP status. The codes are part of the v1 API:
 * clients switch on them, so never rename one.
 */
export const errorStatus = {
  VALIDATION: 400,
  HASH_MISMATCH: 400,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  REQUEST_TIMEOUT: 408,
  PRECONDITION_FAILED: 412,
  ROOM_EXPIRED: 410,
  TOO_LARGE: 413,
  QUOTA_EXCEEDED: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  RANGE_NOT_SATISFIABLE: 416,
  ROOM_FULL: 429,
  MAILBOX_FULL: 429,
  ANNOUNCEMENTS_FULL: 429,
  RATE_LIMITED: 429,
  HEADERS_TOO_LARGE: 431,
  INTERNAL: 500,
  UNAVAILABLE: 503,
} as const

export type ErrorCode = keyof typeof errorStatus

/** JSON body of every error answer. */
export interface ErrorBody {
  error: { code: ErrorCode; message: string }
}

/** A failure the client caused (or may learn about); the error middleware turns it into a response. */
export class ApiError extends Error {
  readonly code: ErrorCode
  readonly status: number
  /** Extra response headers, e.g. `Content-Range` on a 416. */
  readonly headers: Readonly<Record<string, string>>

  constructor(code: ErrorCode, message: string, headers: Readonly<Record<string, string>> = {}) {
    super(message)
    this.name = "ApiError"
    this.code = code
    this.status = errorStatus[code]
    this.headers = headers
  }
}

/** The body parser (body-parser / http-errors) marks client errors with `expose` and a 4xx `status`. */
interface HttpClientError {
  status: number
  type?: unknown
  expose: true
}

function isHttpClientError(err: unknown): err is HttpClientError {
  if (typeof err !== "object" || err === null) return false
  const e = err as { status?: unknown; expose?: unknown }
  return e.expose === true && typeof e.status === "number" && e.status >= 400 && e.status < 500
}

/** Maps anything thrown by a handler to an ApiError; undefined means "unexpected" (500). */
function toApiError(err: unknown): ApiError | undefined {
  if (err instanceof ApiError) return err
  // The router decodes path parameters with decodeURIComponent: "%E0%A4%A" throws a URIError.
  if (err instanceof URIError) return new ApiError("VALIDATION", "malformed percent-encoding in the path")
  if (err instanceof ZodError) {
    // Name the offending fields, never echo the values (they may be secrets).
    const fields = err.issues.map((i) => (i.path.length > 0 ? i.path.join(".") : "(root)"))
    return new ApiError("VALIDATION", `invalid ${[...new Set(fields)].join(", ")}`)
  }
  if (isHttpClientError(err)) {
    // Fixed messages: body-parser's own messages can quote parts of the body.
    if (err.status === 404) return new ApiError("NOT_FOUND", "not found")
    if (err.status === 413) return new ApiError("TOO_LARGE", "request body too large")
    if (err.status === 415) return new ApiError("UNSUPPORTED_MEDIA_TYPE", "unsupported content encoding")
    // From the static file server (send): conditional and range requests on PWA files.
    if (err.status === 412) return new ApiError("PRECONDITION_FAILED", "precondition failed")
    if (err.status === 416) {
      const contentRange = (err as { headers?: Record<string, unknown> }).headers?.["Content-Range"]
      return new ApiError(
        "RANGE_NOT_SATISFIABLE",
        "range not satisfiable",
        typeof contentRange === "string" ? { "Content-Range": contentRange } : {},
      )
    }
    if (err.type === "entity.parse.failed") return new ApiError("VALIDATION", "malformed JSON body")
    return new ApiError("VALIDATION", "malformed request")
  }
  return undefined
}

const staleHeaders = [
  "Content-Type",
  "Content-Length",
  "Content-Range",
  "Content-Disposition",
  "Content-Encoding",
  "Accept-Ranges",
  "ETag",
  "Last-Modified",
]

/**
 * The one error middleware: typed errors become `{ error: { code, message } }` with their 4xx status,
 * anything else becomes a 500 INTERNAL without details (the details go to the log).
 */
export function createErrorHandler(logger: Logger): ErrorRequestHandler {
  return (err: unknown, req, res, _next) => {
    const apiError = toApiError(err)
    if (apiError === undefined) {
      logger.error({ err, method: req.method, path: req.path }, "unhandled error")
    }
    if (res.headersSent) {
      // Too late for a JSON answer (e.g. a blob stream failed midway): cut the connection so the
      // client sees a truncated response rather than a silently short one.
      res.destroy()
      return
    }
    const answer = apiError ?? new ApiError("INTERNAL", "internal error")
    // Drop what a handler set for the representation it meant to send (a static file's type,
    // range, validators, long-lived caching): the answer is now a JSON error nobody may cache.
    for (const name of staleHeaders) res.removeHeader(name)
    res.setHeader("Cache-Control", "no-store")
    res.setHeader("Content-Type", "application/json; charset=utf-8")
    for (const [name, value] of Object.entries(answer.headers)) res.setHeader(name, value)
    if (!req.complete) {
      // The body was not read to the end (e.g. 413 on a big upload): do not drain it, drop the connection.
      res.setHeader("Connection", "close")
    }
    const body: ErrorBody = { error: { code: answer.code, message: answer.message } }
    res.status(answer.status).json(body)
  }
}
