import { basename } from "node:path"
import express, { Router, type Response } from "express"

/**
 * CSP of the PWA: everything from our own origin; media, images and reads also from blob: URLs, which can
 * only name objects this origin's own scripts created (decrypted clips), so they open no way out.
 */
export const webContentSecurityPolicy = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' blob: data:",
  "media-src 'self' blob:",
  "connect-src 'self' blob:",
  "worker-src 'self'",
  "manifest-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ")

/** Files that must be revalidated on every load, or an update would never reach installed PWAs. */
const revalidated = new Set(["index.html", "sw.js", "manifest.webmanifest", "manifest.json"])

function setWebHeaders(res: Response, path: string): void {
  res.setHeader("Content-Security-Policy", webContentSecurityPolicy)
  const name = basename(path)
  // Vite puts content-hashed files under /assets/; their names change when their bytes do.
  const hashed = /[\\/]assets[\\/]/.test(path) && !revalidated.has(name)
  res.setHeader("Cache-Control", hashed ? "public, max-age=31536000, immutable" : "no-cache")
}

/**
 * Serves the built PWA from `webRoot`, with an SPA fallback: a GET navigation (Accept: text/html)
 * to an unknown path outside /v1 gets index.html.
 */
export function createStaticWebRouter(webRoot: string): Router {
  const router = Router()
  router.use(express.static(webRoot, { index: ["index.html"], setHeaders: setWebHeaders, fallthrough: true }))
  router.use((req, res, next) => {
    // Only a real navigation: `fetch()` sends Accept: */* and must get the JSON 404 instead.
    const wantsHtml =
      req.headers["sec-fetch-mode"] === "navigate" || /\btext\/html\b/.test(req.headers.accept ?? "")
    const isNavigation = (req.method === "GET" || req.method === "HEAD") && wantsHtml
    if (!isNavigation || req.path === "/v1" || req.path.startsWith("/v1/")) {
      next()
      return
    }
    setWebHeaders(res, "index.html")
    res.sendFile("index.html", { root: webRoot }, (err) => {
      if (err) next(err)
    })
  })
  return router
}
