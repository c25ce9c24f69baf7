import { Router } from "express"
import { z } from "zod"
import { ApiError } from "../errors.ts"
import { authenticate, authenticatedDevice } from "../http/auth.ts"
import { jsonBody } from "../http/body.ts"
import type { AppContext } from "../http/context.ts"
import { deviceIdSchema, spaceIdSchema } from "../ids.ts"
import { requireOwner } from "../spaces/spaceAccess.ts"
import { base64Schema } from "../ws/frames.ts"
import { pushUrgencies, type PushService } from "./pushSender.ts"
import { pushToSpace } from "./spacePush.ts"

const base64url = (bytes: number) =>
  z
    .string()
    .regex(/^[A-Za-z0-9_-]+={0,2}$/)
    .refine((s) => Buffer.from(s, "base64url").byteLength === bytes, `expected ${bytes} bytes`)

/** What the browser's `PushSubscription.toJSON()` gives. */
const subscriptionSchema = z.object({
  endpoint: z.string().max(1024),
  expirationTime: z.number().nullable().optional(),
  keys: z.object({ p256dh: base64url(65), auth: base64url(16) }),
})

const pushRequestSchema = z.strictObject({
  payload: base64Schema,
  ttlSeconds: z
    .number()
    .int()
    .min(0)
    .max(28 * 24 * 3600)
    .optional(),
  urgency: z.enum(pushUrgencies).optional(),
  to: z.array(deviceIdSchema).max(256).optional(),
})

const spaceParams = z.object({ spaceId: spaceIdSchema })

/** An https URL on a known push service (or a subdomain of one), without credentials or odd ports. */
export function isAllowedPushEndpoint(endpoint: string, pushHosts: readonly string[]): boolean {
  let url: URL
  try {
    url = new URL(endpoint)
  } catch {
    return false
  }
  if (url.protocol !== "https:" || url.username !== "" || url.password !== "") return false
  if (url.port !== "" && url.port !== "443") return false
  const host = url.hostname.toLowerCase()
  return pushHosts.some((allowed) => host === allowed || host.endsWith(`.${allowed}`))
}

/** Push runs only with a sender and at least one push service the operator allowed (`pushHosts`). */
function requirePush(ctx: { push?: PushService; config: { pushHosts: readonly string[] } }): PushService {
  if (ctx.push === undefined || ctx.config.pushHosts.length === 0) {
    throw new ApiError("NOT_FOUND", "web push is not enabled on this relay (no pushHosts configured)")
  }
  return ctx.push
}

/**
 * Web Push: phones register a subscription; the hub of a space asks the relay to push an opaque
 * (end-to-end encrypted) payload to the space's other devices. Dead subscriptions (404/410 from the
 * push service) are removed.
 */
export function createPushRouter(ctx: AppContext): Router {
  const router = Router()
  const auth = authenticate(ctx)

  router.get("/push/vapid-public-key", (_req, res) => {
    res.json({ publicKey: requirePush(ctx).publicKey })
  })

  router.put("/push/subscription", auth, jsonBody, async (req, res) => {
    requirePush(ctx)
    const device = authenticatedDevice(res)
    const { endpoint, keys } = subscriptionSchema.parse(req.body)
    if (!isAllowedPushEndpoint(endpoint, ctx.config.pushHosts)) {
      throw new ApiError("VALIDATION", "endpoint is not an https URL of a known push service")
    }
    await ctx.store.putPushSubscription(
      { deviceId: device.deviceId, endpoint, p256dh: keys.p256dh, auth: keys.auth },
      ctx.now(),
    )
    res.status(204).end()
  })

  router.delete("/push/subscription", auth, async (_req, res) => {
    const device = authenticatedDevice(res)
    await ctx.store.deletePushSubscription(device.deviceId)
    res.status(204).end()
  })

  router.post("/spaces/:spaceId/push", auth, jsonBody, async (req, res) => {
    const push = requirePush(ctx)
    const caller = authenticatedDevice(res)
    const { spaceId } = spaceParams.parse(req.params)
    await requireOwner(ctx.store, spaceId, caller.deviceId)
    const request = pushRequestSchema.parse(req.body)
    const taken = ctx.pushLimiter.take(spaceId)
    if (!taken.ok) {
      ctx.metrics.rateLimited.inc({ scope: "push" })
      throw new ApiError("RATE_LIMITED", "too many pushes for this space", {
        "Retry-After": String(Math.ceil(taken.retryAfterMs / 1000)),
      })
    }
    const payload = Buffer.from(request.payload, "base64")
    if (payload.byteLength === 0) throw new ApiError("VALIDATION", "empty payload")
    if (payload.byteLength > ctx.config.maxPushPayloadBytes) {
      throw new ApiError("TOO_LARGE", `payload exceeds ${ctx.config.maxPushPayloadBytes} bytes`)
    }
    const result = await pushToSpace(ctx, push, spaceId, payload, {
      except: caller.deviceId,
      ...(request.to ? { to: request.to } : {}),
      ttlSeconds: request.ttlSeconds ?? 24 * 3600,
      urgency: request.urgency ?? "high",
    })
    res.json(result)
  })

  return router
}
