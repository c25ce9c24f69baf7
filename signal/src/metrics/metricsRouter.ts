import { timingSafeEqual } from "node:crypto"
import { Router, type Request } from "express"
import { ApiError } from "../errors.ts"
import { normalizeAddress } from "../http/clientAddress.ts"
import type { AppContext } from "../http/context.ts"

function isLoopback(address: string): boolean {
  return address === "::1" || address.startsWith("127.")
}

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given)
  const b = Buffer.from(expected)
  return a.length === b.length && timingSafeEqual(a, b)
}

/**
 * `GET /metrics`, Prometheus text format. Answers a scraper on the same machine (a loopback peer that
 * is not a proxy forwarding someone else), or anyone with `Authorization: Bearer <metricsToken>`;
 * everyone else gets 404 as if it did not exist.
 */
export function createMetricsRouter(ctx: AppContext): Router {
  const router = Router()
  const allowed = (req: Request): boolean => {
    const token = ctx.config.metricsToken
    const header = req.headers.authorization ?? ""
    if (token !== undefined && sameSecret(header, `Bearer ${token}`)) return true
    const peer = normalizeAddress(req.socket.remoteAddress ?? "")
    return isLoopback(peer) && req.headers["x-forwarded-for"] === undefined
  }
  router.get("/metrics", async (req, res) => {
    if (!allowed(req)) throw new ApiError("NOT_FOUND", `no route for GET /metrics`)
    res.setHeader("Cache-Control", "no-store")
    res.type("text/plain; version=0.0.4; charset=utf-8").send(await ctx.metrics.registry.render())
  })
  return router
}
