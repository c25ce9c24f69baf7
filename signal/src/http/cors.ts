import type { RequestHandler } from "express"
import { ApiError } from "../errors.ts"

const allowedMethods = "GET, HEAD, POST, PUT, DELETE"
const allowedHeaders = "Authorization, Content-Type, Range, X-Vigil-Recipients"
const exposedHeaders = "Content-Range, Content-Length, Accept-Ranges, ETag, Retry-After"

/**
 * CORS for the one PWA origin (when it is served from elsewhere); no other origin gets CORS headers,
 * and a preflight from one gets 403. Without `origin` the browser's same-origin policy stands alone.
 */
export function cors(origin: string | undefined): RequestHandler {
  return (req, res, next) => {
    if (origin === undefined) {
      next()
      return
    }
    res.append("Vary", "Origin")
    const requestOrigin = req.headers.origin
    const preflight = req.method === "OPTIONS" && req.headers["access-control-request-method"] !== undefined
    if (requestOrigin !== origin) {
      if (preflight) throw new ApiError("FORBIDDEN", "origin not allowed")
      next()
      return
    }
    res.setHeader("Access-Control-Allow-Origin", origin)
    res.setHeader("Access-Control-Expose-Headers", exposedHeaders)
    if (!preflight) {
      next()
      return
    }
    res.setHeader("Access-Control-Allow-Methods", allowedMethods)
    res.setHeader("Access-Control-Allow-Headers", allowedHeaders)
    res.setHeader("Access-Control-Max-Age", "600")
    res.status(204).end()
  }
}
