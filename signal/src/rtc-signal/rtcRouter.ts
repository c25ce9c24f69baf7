import { Router } from "express"
import { z } from "zod"
import { authenticate, authenticatedDevice } from "../http/auth.ts"
import { rawBody } from "../http/body.ts"
import type { AppContext } from "../http/context.ts"
import { deviceIdSchema } from "../ids.ts"
import { iceServersFor, isTurnServer, noTurnHint, turnConfigured } from "./iceServers.ts"
import { relaySignal } from "./relaySignal.ts"

const recipientParams = z.object({ deviceId: deviceIdSchema })

/**
 * WebRTC signalling: `GET /v1/rtc/ice-servers` (from the settings; empty by default, no third-party
 * STUN/TURN) and `POST /v1/devices/:deviceId/signal`, which hands an opaque, MLS-encrypted offer,
 * answer or candidate to the recipient's live WebSockets (the same as a `signal` frame).
 */
export function createRtcRouter(ctx: AppContext): Router {
  const router = Router()
  const auth = authenticate(ctx)
  if (!turnConfigured(ctx.config.iceServers, ctx.config.turnSecret)) ctx.logger.info(noTurnHint)

  router.get("/rtc/ice-servers", auth, async (_req, res) => {
    const device = authenticatedDevice(res)
    // Anyone may register a device and a hub may create a space, so TURN credentials (a relay that
    // forwards anything) go only to devices of a household in use: a space a hub owns with at least one
    // phone that confirmed its pairing (and was not removed). Others get the list without relay entries.
    const inSpace = await ctx.store.inActiveSpace(device.deviceId)
    const servers = inSpace ? ctx.config.iceServers : ctx.config.iceServers.filter((s) => !isTurnServer(s))
    const iceServers = iceServersFor(servers, device.deviceId, {
      turnSecret: ctx.config.turnSecret,
      ttlMs: ctx.config.turnCredentialTtlMs,
      now: ctx.now(),
    })
    res.json({ iceServers })
  })

  router.post("/devices/:deviceId/signal", auth, ...rawBody(ctx.config.maxSignalBytes), async (req, res) => {
    const sender = authenticatedDevice(res)
    const { deviceId: to } = recipientParams.parse(req.params)
    const delivered = await relaySignal(ctx, sender.deviceId, to, req.body as Buffer)
    res.json({ delivered })
  })

  return router
}
