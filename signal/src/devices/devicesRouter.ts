import { Router } from "express"
import { z } from "zod"
import { authenticate, authenticatedDevice, createToken, hashToken } from "../http/auth.ts"
import { jsonBody } from "../http/body.ts"
import { addressGroup } from "../http/clientAddress.ts"
import { ApiError } from "../errors.ts"
import type { AppContext } from "../http/context.ts"
import { createDeviceId, deviceKindSchema } from "../ids.ts"

const registerSchema = z.object({ kind: deviceKindSchema })

/** `POST /v1/devices` (open registration) and `GET /v1/me`. */
export function createDevicesRouter(ctx: AppContext): Router {
  const router = Router()

  router.post("/devices", jsonBody, async (req, res) => {
    const { kind } = registerSchema.parse(req.body)
    // Registration is open, so each source gets few: every device may found a space or fill a mailbox.
    const taken = ctx.registrationLimiter.take(addressGroup(ctx.clientAddress(req)))
    if (!taken.ok) {
      ctx.metrics.rateLimited.inc({ scope: "registration" })
      throw new ApiError("RATE_LIMITED", "too many devices registered from this address", {
        "Retry-After": String(Math.ceil(taken.retryAfterMs / 1000)),
      })
    }
    const deviceId = createDeviceId()
    const token = createToken()
    await ctx.store.createDevice({ deviceId, kind, tokenHash: hashToken(token), createdAt: ctx.now() })
    ctx.logger.info({ deviceId, kind }, "device registered")
    res.status(201).json({ deviceId, token })
  })

  router.get("/me", authenticate(ctx), (_req, res) => {
    const device = authenticatedDevice(res)
    res.json({ deviceId: device.deviceId, kind: device.kind })
  })

  return router
}
