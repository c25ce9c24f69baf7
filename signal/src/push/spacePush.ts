import type { AppContext } from "../http/context.ts"
import type { DeviceId, SpaceId } from "../ids.ts"
import type { PushService, PushUrgency } from "./pushSender.ts"

export interface SpacePushResult {
  sent: number
  removed: number
  failed: number
}

/**
 * Sends `payload` by Web Push to the space's devices other than `except` (all of them, or those of `to`
 * that belong to it): at most one request per device subscription, bounded by the space's size. Dead
 * subscriptions (404/410 from the push service) are removed.
 */
export async function pushToSpace(
  ctx: Pick<AppContext, "store" | "metrics" | "logger" | "config">,
  push: PushService,
  spaceId: SpaceId,
  payload: Uint8Array,
  options: { except: DeviceId; to?: readonly DeviceId[]; ttlSeconds: number; urgency: PushUrgency },
): Promise<SpacePushResult> {
  const members = new Set(await ctx.store.listSpaceDevices(spaceId))
  members.delete(options.except)
  const targets = (
    options.to === undefined ? [...members] : [...new Set(options.to)].filter((d) => members.has(d))
  ).slice(0, ctx.config.maxMembersPerSpace)
  const subscriptions = await ctx.store.listPushSubscriptions(targets)
  const sendOptions = { ttlSeconds: options.ttlSeconds, urgency: options.urgency }
  const outcomes = await Promise.all(
    subscriptions.map(async (subscription) => {
      const result = await push.sender.send(subscription, payload, sendOptions)
      ctx.metrics.pushes.inc({ result: result.kind })
      if (result.kind === "gone") {
        await ctx.store.deletePushSubscription(subscription.deviceId, subscription.endpoint)
        ctx.logger.info({ deviceId: subscription.deviceId }, "push subscription expired, removed")
      } else if (result.kind === "failed") {
        ctx.logger.warn({ deviceId: subscription.deviceId, status: result.statusCode }, "push failed")
      }
      return result.kind
    }),
  )
  const count = (kind: string) => outcomes.filter((o) => o === kind).length
  return { sent: count("sent"), removed: count("gone"), failed: count("failed") }
}
