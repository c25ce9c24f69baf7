import { Transform } from "node:stream"
import { pipeline } from "node:stream/promises"
import { Router, type Request } from "express"
import { z } from "zod"
import { ApiError } from "../errors.ts"
import { authenticate, authenticatedDevice } from "../http/auth.ts"
import { declaredLength, jsonBody, requireOctetStream } from "../http/body.ts"
import type { AppContext } from "../http/context.ts"
import { parseRange } from "../http/range.ts"
import {
  blobIdSchema,
  deviceIdSchema,
  spaceIdSchema,
  type BlobId,
  type DeviceId,
  type SpaceId,
} from "../ids.ts"
import { deleteBlobIfUnreferenced } from "../janitor/sweep.ts"
import { requireOwner, requireRole } from "../spaces/spaceAccess.ts"

const blobParams = z.object({ spaceId: spaceIdSchema, blobId: blobIdSchema })
const spaceParams = z.object({ spaceId: spaceIdSchema })
const recipientsSchema = z.strictObject({ recipients: z.array(deviceIdSchema).max(256) })
const listQuerySchema = z.object({
  cursor: z
    .string()
    .regex(/^\d{1,15}\.[0-9a-f]{64}$/)
    .optional(),
  limit: z
    .string()
    .regex(/^\d{1,4}$/)
    .transform(Number)
    .pipe(z.number().int().min(1).max(1000))
    .optional(),
})

/** Header naming the devices that must acknowledge a blob before it is deleted (comma-separated ids). */
export const recipientsHeader = "x-vigil-recipients"

function isErrno(err: unknown, code: string): boolean {
  return typeof err === "object" && err !== null && (err as NodeJS.ErrnoException).code === code
}

function parseRecipientsHeader(req: Request): DeviceId[] | undefined {
  const header = req.headers[recipientsHeader]
  if (header === undefined) return undefined
  if (Array.isArray(header)) throw new ApiError("VALIDATION", `one ${recipientsHeader} header at most`)
  const ids = header
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "")
  if (ids.length > 256) throw new ApiError("VALIDATION", `too many recipients in ${recipientsHeader}`)
  return ids.map((id) => {
    const parsed = deviceIdSchema.safeParse(id)
    if (!parsed.success) throw new ApiError("VALIDATION", `invalid device id in ${recipientsHeader}`)
    return parsed.data
  })
}

/** Recipients must be devices of the space; the owner knows them, so naming the culprit leaks nothing. */
async function requireSpaceDevices(ctx: AppContext, spaceId: SpaceId, recipients: readonly DeviceId[]) {
  const devices = new Set(await ctx.store.listSpaceDevices(spaceId))
  const stranger = recipients.find((d) => !devices.has(d))
  if (stranger !== undefined) throw new ApiError("VALIDATION", `recipient ${stranger} is not in the space`)
}

/** Passes the chunks through, counting their bytes; errors of the source (client gone) propagate. */
async function* counted(source: AsyncIterable<Buffer>, onBytes: (n: number) => void): AsyncIterable<Buffer> {
  for await (const chunk of source) {
    onBytes(chunk.byteLength)
    yield chunk
  }
}

/** Counts the bytes that pass, for the download metrics. */
function countingStream(onBytes: (n: number) => void): Transform {
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      onBytes(chunk.byteLength)
      callback(null, chunk)
    },
  })
}

/**
 * Encrypted blobs of a space: upload (owner; streamed, size-capped, per-space quota), download with
 * Range (owner and members), list, delete (owner for everyone; a member drops its own claim), recipients and their acknowledgements. A blob is
 * deleted when every named recipient acknowledged it, or `retentionMs` after upload.
 */
export function createBlobsRouter(ctx: AppContext): Router {
  const router = Router()
  const auth = authenticate(ctx)

  router.put("/spaces/:spaceId/blobs/:blobId", auth, async (req, res) => {
    const caller = authenticatedDevice(res)
    const { spaceId, blobId } = blobParams.parse(req.params)
    await requireOwner(ctx.store, spaceId, caller.deviceId)
    requireOctetStream(req)
    const recipients = parseRecipientsHeader(req)
    if (recipients !== undefined) await requireSpaceDevices(ctx, spaceId, recipients)
    const maxBytes = ctx.config.maxBlobBytes
    const length = declaredLength(req)
    if (length !== undefined && length > maxBytes)
      throw new ApiError("TOO_LARGE", `blob exceeds ${maxBytes} bytes`)

    // Quota: a blob the space already holds costs nothing; a new one must fit in what is left.
    const quota = ctx.config.spaceQuotaBytes
    const known = (await ctx.store.getBlobRef(spaceId, blobId)) !== undefined
    const left = known ? Number.MAX_SAFE_INTEGER : quota - (await ctx.store.spaceUsage(spaceId))
    const quotaError = () =>
      new ApiError("QUOTA_EXCEEDED", `the space's blobs would exceed its quota of ${quota} bytes`)
    if (length !== undefined && length > left) throw quotaError()

    const size = await ctx.blobLock.run(blobId, async () => {
      let stored: { size: number }
      try {
        const body = counted(req, (n) => ctx.metrics.blobBytesIn.inc({}, n))
        stored = await ctx.blobs.put(blobId, body, { maxBytes: Math.min(maxBytes, Math.max(0, left)) })
      } catch (err) {
        if (err instanceof ApiError && err.code === "TOO_LARGE" && left < maxBytes) throw quotaError()
        throw err
      }
      const recorded = await ctx.store.putBlobRef({
        spaceId,
        blobId,
        size: stored.size,
        createdAt: ctx.now(),
        recipients,
        quotaBytes: quota,
      })
      if (recorded.kind === "quota") {
        // Another upload to the space won the race for the last bytes.
        if (!(await ctx.store.isBlobReferenced(blobId))) await ctx.blobs.delete(blobId)
        throw quotaError()
      }
      return stored.size
    })
    ctx.logger.info({ spaceId, blobId, size }, "blob stored")
    res.status(201).json({ blobId, size })
  })

  router.get("/spaces/:spaceId/blobs", auth, async (req, res) => {
    const caller = authenticatedDevice(res)
    const { spaceId } = spaceParams.parse(req.params)
    await requireRole(ctx.store, spaceId, caller.deviceId)
    const query = listQuerySchema.parse(req.query)
    const limit = query.limit ?? 100
    const [createdAt, blobId] = query.cursor?.split(".") ?? []
    const after =
      createdAt !== undefined && blobId !== undefined
        ? { createdAt: Number(createdAt), blobId: blobId as BlobId }
        : undefined
    const refs = await ctx.store.listBlobRefs(spaceId, { limit, after })
    const last = refs.at(-1)
    res.json({
      blobs: refs.map((r) => ({ ...r, expiresAt: r.createdAt + ctx.config.retentionMs })),
      usedBytes: await ctx.store.spaceUsage(spaceId),
      quotaBytes: ctx.config.spaceQuotaBytes,
      nextCursor: refs.length === limit && last !== undefined ? `${last.createdAt}.${last.blobId}` : null,
    })
  })

  router.put("/spaces/:spaceId/blobs/:blobId/recipients", auth, jsonBody, async (req, res) => {
    const caller = authenticatedDevice(res)
    const { spaceId, blobId } = blobParams.parse(req.params)
    await requireOwner(ctx.store, spaceId, caller.deviceId)
    const { recipients } = recipientsSchema.parse(req.body)
    await requireSpaceDevices(ctx, spaceId, recipients)
    if (!(await ctx.store.setBlobRecipients(spaceId, blobId, recipients))) {
      throw new ApiError("NOT_FOUND", "blob not found")
    }
    res.status(204).end()
  })

  router.post("/spaces/:spaceId/blobs/:blobId/ack", auth, async (req, res) => {
    const caller = authenticatedDevice(res)
    const { spaceId, blobId } = blobParams.parse(req.params)
    const notFound = new ApiError("NOT_FOUND", "blob not found")
    if ((await ctx.store.getRole(spaceId, caller.deviceId)) === undefined) throw notFound
    const result = await ctx.store.ackBlob(spaceId, blobId, caller.deviceId)
    if (result.kind === "absent") throw notFound
    if (result.kind === "released") await deleteBlobIfUnreferenced(ctx, blobId, "acknowledged")
    res.json({ deleted: result.kind === "released" })
  })

  // The owner (the hub, which uploaded it) deletes a blob for everyone: retention, quota. A member (a phone
  // whose user deleted the event) only drops its own claim on it, as an acknowledgement does: one phone
  // must not erase a clip from every other phone of the household. A removed phone gets 404 like an outsider.
  router.delete("/spaces/:spaceId/blobs/:blobId", auth, async (req, res) => {
    const caller = authenticatedDevice(res)
    const { spaceId, blobId } = blobParams.parse(req.params)
    const notFound = new ApiError("NOT_FOUND", "blob not found")
    const role = await ctx.store.getRole(spaceId, caller.deviceId)
    if (role === undefined) throw notFound
    if (role === "owner") {
      if (!(await ctx.store.deleteBlobRef(spaceId, blobId))) throw notFound
      await deleteBlobIfUnreferenced(ctx, blobId, "owner")
    } else {
      const result = await ctx.store.ackBlob(spaceId, blobId, caller.deviceId)
      if (result.kind === "absent") throw notFound
      if (result.kind === "released") await deleteBlobIfUnreferenced(ctx, blobId, "acknowledged")
    }
    ctx.logger.info(
      { spaceId, blobId, by: role },
      role === "owner" ? "blob deleted" : "blob dropped by a member",
    )
    res.status(204).end()
  })

  router.get("/spaces/:spaceId/blobs/:blobId", auth, async (req, res) => {
    const caller = authenticatedDevice(res)
    const { spaceId, blobId } = blobParams.parse(req.params)
    // One answer for "no such space", "not yours" and "no such blob": existence stays private.
    const notFound = new ApiError("NOT_FOUND", "blob not found")
    if ((await ctx.store.getRole(spaceId, caller.deviceId)) === undefined) throw notFound
    const ref = await ctx.store.getBlobRef(spaceId, blobId)
    if (ref === undefined) throw notFound
    // The janitor may delete the bytes between the reference check and here: then it is gone.
    const vanished = async (): Promise<ApiError> => {
      if ((await ctx.store.getBlobRef(spaceId, blobId)) === undefined) return notFound
      throw new Error(`blob ${blobId} is referenced but missing from the blob store`)
    }
    const stored = await ctx.blobs.stat(blobId)
    if (stored === undefined) throw await vanished()

    const size = stored.size
    const range = parseRange(req.headers.range, size)
    if (range.kind === "unsatisfiable") {
      throw new ApiError("RANGE_NOT_SATISFIABLE", "range not satisfiable", {
        "Content-Range": `bytes */${size}`,
      })
    }
    let stream
    if (req.method !== "HEAD" && size > 0) {
      try {
        stream = await ctx.blobs.read(blobId, range.kind === "partial" ? range.range : undefined)
      } catch (err) {
        if (isErrno(err, "ENOENT")) throw await vanished()
        throw err
      }
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
    if (stream === undefined) {
      res.end()
      return
    }
    try {
      await pipeline(
        stream,
        countingStream((n) => ctx.metrics.blobBytesOut.inc({}, n)),
        res,
      )
    } catch (err) {
      // A client that leaves mid-download is routine; anything else is a real failure.
      if ((err as NodeJS.ErrnoException).code !== "ERR_STREAM_PREMATURE_CLOSE") throw err
      ctx.logger.debug({ spaceId, blobId }, "blob download aborted by client")
    }
  })

  return router
}
