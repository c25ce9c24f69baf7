import { Router } from "express"
import { z } from "zod"
import { ApiError } from "../errors.ts"
import { authenticate, authenticatedDevice } from "../http/auth.ts"
import { jsonBody } from "../http/body.ts"
import { addressGroup } from "../http/clientAddress.ts"
import type { AppContext } from "../http/context.ts"
import { roomIdSchema } from "../ids.ts"
import { base64Schema } from "../ws/frames.ts"

const announceSchema = z.strictObject({ roomId: roomIdSchema, name: base64Schema })
const roomParams = z.object({ roomId: roomIdSchema })

/**
 * Discovery of a hub in pairing mode by a phone on the same network: the hub announces
 * `{ roomId, name }`, the relay files it under the hub's public address (IPv4, or IPv6 /64), and a
 * phone lists what was announced from its own address. The room only introduces the two; the pairing
 * itself is authenticated end to end by the clients.
 */
export function createAnnouncementsRouter(ctx: AppContext): Router {
  const router = Router()
  const auth = authenticate(ctx)

  router.post("/pairing/announcements", auth, jsonBody, async (req, res) => {
    const device = authenticatedDevice(res)
    if (device.kind !== "hub") throw new ApiError("FORBIDDEN", "only a hub may announce itself")
    const { roomId, name } = announceSchema.parse(req.body)
    if (Buffer.byteLength(name, "base64") > ctx.config.maxAnnouncementNameBytes) {
      throw new ApiError("TOO_LARGE", `name exceeds ${ctx.config.maxAnnouncementNameBytes} bytes`)
    }
    const now = ctx.now()
    const expiresAt = now + ctx.config.announcementTtlMs
    // Announcing a room claims it: phones that write into it consent to join this hub's space.
    const claimed = await ctx.store.claimRoom(roomId, device.deviceId, now, ctx.config.roomTtlMs)
    if (claimed.kind === "expired") throw new ApiError("ROOM_EXPIRED", "pairing room expired")
    if (claimed.kind === "taken") throw new ApiError("FORBIDDEN", "another device announced this room")
    const group = addressGroup(ctx.clientAddress(req))
    const result = ctx.announcements.put(
      group,
      {
        roomId,
        name,
        deviceId: device.deviceId,
        deviceCreatedAt: device.createdAt,
        announcedAt: now,
        expiresAt,
      },
      ctx.config.maxAnnouncementsPerAddress,
      now,
    )
    if (result.kind === "full") {
      throw new ApiError("ANNOUNCEMENTS_FULL", "too many hubs are announcing from this address")
    }
    if (result.kind === "taken") throw new ApiError("FORBIDDEN", "another device announced this room")
    res.status(201).json({ roomId, expiresAt })
  })

  router.get("/pairing/announcements", auth, async (req, res) => {
    const group = addressGroup(ctx.clientAddress(req))
    const announcements = ctx.announcements.list(group, ctx.now()).map((a) => ({
      roomId: a.roomId,
      name: a.name,
      deviceId: a.deviceId,
      announcedAt: a.announcedAt,
      expiresAt: a.expiresAt,
    }))
    res.json({ announcements })
  })

  router.delete("/pairing/announcements/:roomId", auth, async (req, res) => {
    const device = authenticatedDevice(res)
    const { roomId } = roomParams.parse(req.params)
    ctx.announcements.delete(device.deviceId, roomId)
    res.status(204).end()
  })

  return router
}
