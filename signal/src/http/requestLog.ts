import type { RequestHandler } from "express"
import type { Logger } from "../log.ts"

/** One log line per request: method, path, status, duration. No headers, no query values, no bodies. */
export function logRequests(logger: Logger): RequestHandler {
  return (req, res, next) => {
    const started = process.hrtime.bigint()
    res.once("close", () => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6
      logger.info(
        {
          method: req.method,
          path: req.path,
          status: res.statusCode,
          ms: Math.round(ms),
          complete: res.writableFinished,
        },
        "request",
      )
    })
    next()
  }
}
