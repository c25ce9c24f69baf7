import type { RequestHandler } from "express"

/** CSP for API answers: nothing may be loaded or framed. The PWA routes set their own. */
export const apiContentSecurityPolicy = "default-src 'none'; frame-ancestors 'none'"

/** Headers every answer carries. */
export const securityHeaders: RequestHandler = (_req, res, next) => {
  res.setHeader("X-Content-Type-Options", "nosniff")
  res.setHeader("Referrer-Policy", "no-referrer")
  res.setHeader("X-Frame-Options", "DENY")
  res.setHeader("Cross-Origin-Opener-Policy", "same-origin")
  res.setHeader("Cross-Origin-Resource-Policy", "same-origin")
  res.setHeader("Content-Security-Policy", apiContentSecurityPolicy)
  next()
}

/** API answers depend on the caller's token: no cache may keep them. */
export const noStore: RequestHandler = (_req, res, next) => {
  res.setHeader("Cache-Control", "no-store")
  next()
}
