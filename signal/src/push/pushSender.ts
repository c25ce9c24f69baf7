import type { PushSubscriptionRecord } from "../store/metaStore.ts"

export const pushUrgencies = ["very-low", "low", "normal", "high"] as const
export type PushUrgency = (typeof pushUrgencies)[number]

export type PushSendResult =
  | { kind: "sent" }
  /** The push service answered 404 or 410: the subscription is dead and must be removed. */
  | { kind: "gone" }
  | { kind: "failed"; statusCode?: number }

/** Delivers one encrypted Web Push message. The real one uses `web-push`; tests inject a fake. */
export interface PushSender {
  send(
    subscription: PushSubscriptionRecord,
    payload: Uint8Array,
    options: { ttlSeconds: number; urgency: PushUrgency },
  ): Promise<PushSendResult>
}

/** Web Push as the app sees it: a sender and the VAPID public key phones subscribe with. */
export interface PushService {
  sender: PushSender
  /** VAPID public key, base64url (the `applicationServerKey` of PushManager.subscribe). */
  publicKey: string
}
