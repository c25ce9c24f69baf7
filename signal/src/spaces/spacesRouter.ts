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
    // Each space may hold a quota of blobs: a hub founds one, and a few more after a reset at most.
    if ((await ctx.store.countOwnedSpaces(device.deviceId)) >= ctx.config.maxSpacesPerHub) {
      throw new ApiError("FORBIDDEN", `a hub may own ${ctx.config.maxSpacesPerHub} spaces at most`)
    }
    const spaceId = createSpaceId()
    await ctx.store.createSpace({ spaceId, ownerId: device.deviceId, createdAt: ctx.now() })
    ctx.logger.info({ spaceId, ownerId: device.deviceId }, "space created")
    res.status(201).json({ spaceId })
  })

  router.put("/spaces/:spaceId/members/:deviceId", auth, async (req, res) => {
    const caller = authenticatedDevice(res)
    const { spaceId, deviceId } = memberParams.parse(req.params)
    await requireOwner(ctx.store, spaceId, caller.deviceId)
    const pending = pendingQuery.parse(req.query).pending === "1"
    if ((await ctx.store.getRole(spaceId, deviceId)) === undefined) {
      // The device must have asked this hub to let it in (posted to its pairing room): nobody enrolls a
      // device of another household. One answer for "unknown" and "did not ask": ids are not probed.
      if (!(await ctx.store.hasJoinConsent(deviceId, caller.deviceId, ctx.now()))) {
        throw new ApiError("FORBIDDEN", "the device has not asked to join this space")
      }
      if ((await ctx.store.countMembers(spaceId, deviceId)) >= ctx.config.maxMembersPerSpace) {
        throw new ApiError("FORBIDDEN", `a space may hold ${ctx.config.maxMembersPerSpace} devices at most`)
      }
      await ctx.store.putMember(spaceId, deviceId, ctx.now(), { pending })
      // One request, one membership: a later removal is final.
      if (!pending) await ctx.store.consumeJoinConsent(deviceId, caller.deviceId)
    }
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
