import type { Request, RequestHandler, Response } from "express"
import type { Logger } from "../log.ts"

/**
 * Route template of a request ("/v1/rooms/:roomId/messages"), "static" for PWA files, or
 * "unmatched": few distinct values for metrics, and no ids in logs (a room id derives from a pairing
 * secret).
 */
export function routeLabel(req: Request, res: Response): string {
  const label: unknown = res.locals.metricsRoute
  if (typeof label === "string") return label
  const route: unknown = req.route
  const path = typeof route === "object" && route !== null ? (route as { path?: unknown }).path : undefined
  if (typeof path === "string") return req.originalUrl.startsWith("/v1/") ? `/v1${path}` : path
  return "unmatched"
}

/** One log line per request: method, route template, status, duration. No ids, headers, queries or bodies. */
export function logRequests(logger: Logger): RequestHandler {
  return (req, res, next) => {
    const started = process.hrtime.bigint()
    res.once("close", () => {
      if (!logger.isLevelEnabled("info")) return
      const ms = Number(process.hrtime.bigint() - started) / 1e6
      logger.info(
        {
          method: req.method,
          route: routeLabel(req, res),
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
