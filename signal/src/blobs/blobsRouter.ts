import { pipeline } from "node:stream/promises"
import { Router } from "express"
import { z } from "zod"
import { ApiError } from "../errors.ts"
import { authenticate, authenticatedDevice } from "../http/auth.ts"
import { declaredLength, requireOctetStream } from "../http/body.ts"
import type { AppContext } from "../http/context.ts"
import { parseRange } from "../http/range.ts"
import { blobIdSchema, spaceIdSchema } from "../ids.ts"
import { requireOwner } from "../spaces/spaceAccess.ts"

const blobParams = z.object({ spaceId: spaceIdSchema, blobId: blobIdSchema })

/** Encrypted blobs: `PUT|GET /v1/spaces/:spaceId/blobs/:blobId`. */
export function createBlobsRouter(ctx: AppContext): Router {
  const router = Router()
  const auth = authenticate(ctx.store)

  router.put("/spaces/:spaceId/blobs/:blobId", auth, async (req, res) => {
    const caller = authenticatedDevice(res)
    const { spaceId, blobId } = blobParams.parse(req.params)
    await requireOwner(ctx.store, spaceId, caller.deviceId)
    requireOctetStream(req)
    const maxBytes = ctx.config.maxBlobBytes
    const length = declaredLength(req)
    if (length !== undefined && length > maxBytes)
      throw new ApiError("TOO_LARGE", `blob exceeds ${maxBytes} bytes`)

    const { size } = await ctx.blobs.put(blobId, req, { maxBytes })
    await ctx.store.putBlobRef({ spaceId, blobId, size, createdAt: ctx.now() })
    ctx.logger.info({ spaceId, blobId, size }, "blob stored")
    res.status(201).json({ blobId, size })
  })

  router.get("/spaces/:spaceId/blobs/:blobId", auth, async (req, res) => {
    const caller = authenticatedDevice(res)
    const { spaceId, blobId } = blobParams.parse(req.params)
    // One answer for "no such space", "not yours" and "no such blob": existence stays private.
    const notFound = new ApiError("NOT_FOUND", "blob not found")
    if ((await ctx.store.getRole(spaceId, caller.deviceId)) === undefined) throw notFound
    const ref = await ctx.store.getBlobRef(spaceId, blobId)
    if (ref === undefined) throw notFound
    const stored = await ctx.blobs.stat(blobId)
    if (stored === undefined) throw new Error(`blob ${blobId} is referenced but missing from the blob store`)

    const size = stored.size
    const range = parseRange(req.headers.range, size)
    if (range.kind === "unsatisfiable") {
      throw new ApiError("RANGE_NOT_SATISFIABLE", "range not satisfiable", {
        "Content-Range": `bytes */${size}`,
      })
    }
    res.setHeader("Content-Type", "application/octet-stream")
    res.setHeader("Accept-Ranges", "bytes")
    res.setHeader("ETag", `"${blobId}"`)
    if (range.kind === "partial") {
      const { start, end } = range.range
      res.status(206)
      res.setHeader("Content-Range", `bytes ${start}-${end}/${size}`)
      res.setHeader("Content-Length", String(end - start + 1))
    } else {
      res.status(200)
      res.setHeader("Content-Length", String(size))
    }
    if (req.method === "HEAD" || size === 0) {
      res.end()
      return
    }
    const stream = await ctx.blobs.read(blobId, range.kind === "partial" ? range.range : undefined)
    try {
      await pipeline(stream, res)
    } catch (err) {
      // A client that leaves mid-download is routine; anything else is a real failure.
      if ((err as NodeJS.ErrnoException).code !== "ERR_STREAM_PREMATURE_CLOSE") throw err
      ctx.logger.debug({ spaceId, blobId }, "blob download aborted by client")
    }
  })

  return router
}
