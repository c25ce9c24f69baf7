import express, { type Request, type RequestHandler } from "express"
import { ApiError } from "../errors.ts"

function mediaType(req: Request): string {
  return (req.headers["content-type"] ?? "").split(";")[0]?.trim().toLowerCase() ?? ""
}

/** Throws 415 unless the request says `Content-Type: application/octet-stream`. */
export function requireOctetStream(req: Request): void {
  if (mediaType(req) !== "application/octet-stream") {
    throw new ApiError("UNSUPPORTED_MEDIA_TYPE", "expected Content-Type: application/octet-stream")
  }
}

/** The declared Content-Length, if any. */
export function declaredLength(req: Request): number | undefined {
  const header = req.headers["content-length"]
  return header !== undefined && /^\d+$/.test(header) ? Number(header) : undefined
}

/** Small JSON bodies only; parse failures become 400 VALIDATION in the error middleware. */
export const jsonBody: RequestHandler = express.json({ limit: "16kb", strict: true })

/**
 * Reads a whole small octet-stream body (mailbox and room messages) with a byte limit, and puts it
 * on `req.body` as a Buffer. Empty bodies are rejected.
 */
export function rawBody(limit: number): RequestHandler[] {
  const parse = express.raw({ type: () => true, limit })
  return [
    (req, _res, next) => {
      requireOctetStream(req)
      const length = declaredLength(req)
      if (length !== undefined && length > limit)
        throw new ApiError("TOO_LARGE", `body exceeds ${limit} bytes`)
      next()
    },
    parse,
    (req, _res, next) => {
      const body: unknown = req.body
      if (!Buffer.isBuffer(body) || body.byteLength === 0) throw new ApiError("VALIDATION", "empty body")
      next()
    },
  ]
}
