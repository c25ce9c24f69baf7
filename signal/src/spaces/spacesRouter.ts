import { Router } from "express"
import { z } from "zod"
import { ApiError } from "../errors.ts"
import { authenticate, authenticatedDevice } from "../http/auth.ts"
import type { AppContext } from "../http/context.ts"
import { createSpaceId, deviceIdSchema, spaceIdSchema } from "../ids.ts"
import { requireOwner } from "./spaceAccess.ts"

const memberParams = z.object({ spaceId: spaceIdSchema, deviceId: deviceIdSchema })

/** `?pending=1`: a phone being paired, which may use mailboxes only until the hub adds it for good. */
const pendingQuery = z.object({ pending: z.enum(["0", "1"]).optional() })

/** `POST /v1/spaces` and membership: `PUT|DELETE /v1/spaces/:spaceId/members/:deviceId[?pending=1]`. */
export function createSpacesRouter(ctx: AppContext): Router {
  const router = Router()
  const auth = authenticate(ctx)

  router.post("/spaces", auth, async (_req, res) => {
    const device = authenticatedDevice(res)
    if (device.kind !== "hub") throw new ApiError("FORBIDDEN", "only a hub may create a space")
    const spaceId = createSpaceId()
    await ctx.store.createSpace({ spaceId, ownerId: device.deviceId, createdAt: ctx.now() })
    ctx.logger.info({ spaceId, ownerId: device.deviceId }, "space created")
    res.status(201).json({ spaceId })
  })

  router.put("/spaces/:spaceId/members/:deviceId", auth, async (req, res) => {
    const caller = authenticatedDevice(res)
    const { spaceId, deviceId } = memberParams.parse(req.params)
    await requireOwner(ctx.store, spaceId, caller.deviceId)
    if ((await ctx.store.getDevice(deviceId)) === undefined)
      throw new ApiError("NOT_FOUND", "device not found")
    const pending = pendingQuery.parse(req.query).pending === "1"
    await ctx.store.putMember(spaceId, deviceId, ctx.now(), { pending })
    ctx.logger.info({ spaceId, deviceId, pending }, "member added")
    res.status(204).end()
  })

  router.delete("/spaces/:spaceId/members/:deviceId", auth, async (req, res) => {
    const caller = authenticatedDevice(res)
    const { spaceId, deviceId } = memberParams.parse(req.params)
    await requireOwner(ctx.store, spaceId, caller.deviceId)
    await ctx.store.deleteMember(spaceId, deviceId)
    ctx.logger.info({ spaceId, deviceId }, "member removed")
    res.status(204).end()
  })

  return router
}
