import webPush from "web-push"
import type { PushSender, PushSendResult } from "./pushSender.ts"
import type { VapidKeys } from "./vapidKeys.ts"

/** Push services answer within seconds; a stuck one must not hold a hub's request. */
const sendTimeoutMs = 10_000

/**
 * The production PushSender: encrypts the payload for the subscription (RFC 8291, aes128gcm) and
 * posts it to the push service with a VAPID JWT (RFC 8292). Never used by the tests.
 */
export function createWebPushSender(keys: VapidKeys, subject: string): PushSender {
  const vapidDetails = { subject, publicKey: keys.publicKey, privateKey: keys.privateKey }
  return {
    async send(subscription, payload, options): Promise<PushSendResult> {
      try {
        await webPush.sendNotification(
          { endpoint: subscription.endpoint, keys: { p256dh: subscription.p256dh, auth: subscription.auth } },
          Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength),
          {
            vapidDetails,
            TTL: options.ttlSeconds,
            urgency: options.urgency,
            timeout: sendTimeoutMs,
            contentEncoding: "aes128gcm",
          },
        )
        return { kind: "sent" }
      } catch (err) {
        if (err instanceof webPush.WebPushError) {
          if (err.statusCode === 404 || err.statusCode === 410) return { kind: "gone" }
          return { kind: "failed", statusCode: err.statusCode }
        }
        return { kind: "failed" }
      }
    },
  }
}
