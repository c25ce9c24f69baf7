import { Router } from "express"
import { z } from "zod"
import { ApiError } from "../errors.ts"
import { authenticate, authenticatedDevice } from "../http/auth.ts"
import { rawBody } from "../http/body.ts"
import type { AppContext } from "../http/context.ts"
import { pageSize, pollQuerySchema, readWithLongPoll, signalOnClose } from "../http/longPoll.ts"
import { encodeWireMessage } from "../http/wireMessage.ts"
import { roomIdSchema, type RoomId } from "../ids.ts"

const roomParams = z.object({ roomId: roomIdSchema })

function roomKey(roomId: RoomId): string {
  return `room:${roomId}`
}

/**
 * Pairing rooms: short-lived, append-only message lists any authenticated device can use if it knows
 * the room id. They only introduce devices; the clients authenticate the pairing end to end. A room a hub
 * claimed (`PUT /rooms/:roomId/owner`, or by announcing it) records, for each device that writes into it,
 * that device's consent to be added to the hub's space.
 */
export function createRoomsRouter(ctx: AppContext): Router {
  const router = Router()
  const auth = authenticate(ctx)
  // Expired rooms are purged lazily, whenever rooms are used: no timer to stop on shutdown.
  const purge = (): Promise<void> => ctx.store.purgeRooms(ctx.now(), ctx.config.roomTombstoneMs)

  router.post(
    "/rooms/:roomId/messages",
    auth,
    ...rawBody(ctx.config.maxRoomMessageBytes),
    async (req, res) => {
      const sender = authenticatedDevice(res)
      const { roomId } = roomParams.parse(req.params)
      await purge()
      const result = await ctx.store.appendRoomMessage({
        roomId,
        from: sender.deviceId,
        sentAt: ctx.now(),
        body: req.body as Buffer,
        ttlMs: ctx.config.roomTtlMs,
        maxMessages: ctx.config.maxRoomMessages,
        consentTtlMs: ctx.config.joinConsentTtlMs,
      })
      if (result.kind === "expired") throw new ApiError("ROOM_EXPIRED", "pairing room expired")
      if (result.kind === "full") throw new ApiError("ROOM_FULL", "pairing room is full")
      ctx.notifier.notify(roomKey(roomId))
      res.status(201).json({ seq: result.seq })
    },
  )

  // A hub claims the room of its invite before handing the invite out: a device that then writes into it
  // consents to join that hub's space, and only that hub's (docs/04-relay.md "Joining a space").
  router.put("/rooms/:roomId/owner", auth, async (req, res) => {
    const device = authenticatedDevice(res)
    if (device.kind !== "hub") throw new ApiError("FORBIDDEN", "only a hub may claim a pairing room")
    const { roomId } = roomParams.parse(req.params)
    await purge()
    const result = await ctx.store.claimRoom(roomId, device.deviceId, ctx.now(), ctx.config.roomTtlMs)
    if (result.kind === "expired") throw new ApiError("ROOM_EXPIRED", "pairing room expired")
    if (result.kind === "taken") throw new ApiError("FORBIDDEN", "the room is another device's")
    res.status(204).end()
  })

  router.get("/rooms/:roomId/messages", auth, async (req, res) => {
    const { roomId } = roomParams.parse(req.params)
    const query = pollQuerySchema.parse(req.query)
    await purge()
    const signal = signalOnClose(res)
    const messages = await readWithLongPoll({
      notifier: ctx.notifier,
      key: roomKey(roomId),
      waitMs: query.wait ?? 0,
      signal,
      read: () => ctx.store.listRoomMessages(roomId, query.after ?? 0, pageSize, ctx.now()),
    })
    if (signal.aborted) return
    res.json({ messages: messages.map(encodeWireMessage) })
  })

  return router
}
