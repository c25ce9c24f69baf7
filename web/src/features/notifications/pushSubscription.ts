/**
 * Turning notifications on and off on this phone: the browser's permission, a push subscription made with
 * signal's VAPID key, and that subscription registered at signal (which only ever forwards the hub's
 * end-to-end encrypted payload to it).
 */
import { SignalClient, SignalError, bufferSource, fromBase64Url } from "@vigil/protocol"
import { LocalStore } from "../../store/db.ts"
import { listHomeDbs } from "../../store/homes.ts"
import { errorSentence } from "../../ui/errorText.ts"

export type PushState =
  | { kind: "unsupported"; reason: string }
  | { kind: "unpaired" }
  | { kind: "blocked" }
  | { kind: "off" }
  | { kind: "on" }

/** Browsers that use a push service the relay cannot reach never answer; give up after this long. */
const subscribeTimeoutMs = 20_000

/** A failure to explain to the user. */
export class PushSetupError extends Error {}

function pushSupported(): string | undefined {
  if (!("serviceWorker" in navigator)) return "this browser has no service workers"
  if (!("PushManager" in window)) return "this browser has no Web Push"
  if (!("Notification" in window)) return "this browser cannot show notifications"
  return undefined
}

/** The relay of every home on this phone, as that home's device (store/homes.ts). */
async function pairedClients(): Promise<SignalClient[]> {
  const clients: SignalClient[] = []
  for (const db of await listHomeDbs()) {
    const store = await LocalStore.open(db)
    try {
      const device = await store.get("device")
      if (device) clients.push(new SignalClient({ baseUrl: device.signalUrl, token: device.token }))
    } finally {
      store.close()
    }
  }
  return clients
}

/** The first home's relay: its VAPID key is the one the browser's subscription is made with. */
async function pairedClient(): Promise<SignalClient | undefined> {
  return (await pairedClients())[0]
}

export async function currentPushState(): Promise<PushState> {
  const unsupported = pushSupported()
  if (unsupported) return { kind: "unsupported", reason: unsupported }
  if (!(await pairedClient())) return { kind: "unpaired" }
  if (Notification.permission === "denied") return { kind: "blocked" }
  const registration = await navigator.serviceWorker.ready
  const subscription = await registration.pushManager.getSubscription()
  return subscription && Notification.permission === "granted" ? { kind: "on" } : { kind: "off" }
}

/** Asks for permission, subscribes with signal's VAPID key and registers the subscription at signal. */
export async function enablePush(): Promise<void> {
  const client = await pairedClient()
  if (!client) throw new PushSetupError("Pair this phone with your hub first.")
  if ((await Notification.requestPermission()) !== "granted") {
    throw new PushSetupError("Notifications are blocked for this site in the browser's settings.")
  }
  let publicKey: string
  try {
    publicKey = await client.getVapidPublicKey()
  } catch (err) {
    if (err instanceof SignalError && err.status === 404) {
      throw new PushSetupError("Your relay does not send notifications (its operator has not enabled push).")
    }
    throw new PushSetupError(`The relay could not be asked for notifications. ${errorSentence(err)}`)
  }
  const registration = await navigator.serviceWorker.ready
  let subscription: PushSubscription
  try {
    subscription = await withTimeout(
      registration.pushManager.subscribe({
        userVisibleOnly: true,
        applicationServerKey: bufferSource(fromBase64Url(publicKey)),
      }),
      subscribeTimeoutMs,
    )
  } catch (err) {
    throw new PushSetupError(`This browser's push service did not answer. ${errorSentence(err)}`)
  }
  const json = subscription.toJSON() as Parameters<SignalClient["setPushSubscription"]>[0]
  try {
    await client.setPushSubscription(json)
  } catch (err) {
    await subscription.unsubscribe()
    throw new PushSetupError(`The relay refused the subscription. ${errorSentence(err)}`)
  }
  // The other homes: the same subscription, registered by each home's device. A home on a relay with
  // another VAPID key cannot push to this subscription; its relay refuses it, and the first home's stays.
  for (const other of (await pairedClients()).slice(1)) {
    await other.setPushSubscription(json).catch(() => undefined)
  }
}

/**
 * After a home was added: if notifications are on, the browser's subscription is registered for every home
 * (the new one included). Nothing when they are off; a refusal leaves the other homes' as they were.
 */
export async function sharePushWithHomes(): Promise<void> {
  if (pushSupported() || Notification.permission !== "granted") return
  const subscription = await (await navigator.serviceWorker.ready).pushManager.getSubscription()
  if (!subscription) return
  const json = subscription.toJSON() as Parameters<SignalClient["setPushSubscription"]>[0]
  for (const client of await pairedClients()) await client.setPushSubscription(json).catch(() => undefined)
}

/** Unsubscribes here and at signal. */
export async function disablePush(): Promise<void> {
  const registration = await navigator.serviceWorker.ready
  const subscription = await registration.pushManager.getSubscription()
  await subscription?.unsubscribe()
  for (const client of await pairedClients()) await client.deletePushSubscription().catch(() => undefined)
}

function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  return Promise.race([
    work,
    new Promise<T>((_, reject) =>
      setTimeout(() => reject(new DOMException(`no answer in ${ms / 1000} s`, "TimeoutError")), ms),
    ),
  ])
}
