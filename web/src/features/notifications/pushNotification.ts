/**
 * The service worker's side of a push (docs/03-wire-format.md, "Push payload"): decrypt the hub's payload
 * with the MLS state this phone saved, and describe the notification to show.
 *
 * The worker never writes MLS state. When the saved state is behind the epoch the payload names (the app
 * was closed when the clip's commit arrived), it reads the mailbox from the saved cursor — without
 * acknowledging anything — and processes the commits on a throw-away copy of the session until it reaches
 * that epoch. The page later processes the same messages from the same saved state, so the two never
 * diverge. Anything that does not decrypt and verify gives the generic notification, never a wrong one.
 */
import {
  SignalClient,
  SpaceSession,
  VigilError,
  decodePushText,
  equalBytes,
  exportClipKey,
  exportPushSecret,
  fromBase64,
  classifyMailboxMessage,
  openPushPayload,
  pushPayloadEpoch,
  readRelayNotice,
  toBase64,
  type ClipId,
  type CameraPushNotice,
  type RelayNotice,
  type ClipPushNotice,
  type TrustPolicy,
} from "@vigil/protocol"
import { downloadAndDecrypt } from "../../space/mediaDownload.ts"
import type { LocalStore } from "../../store/db.ts"
import { labelText, timeText } from "../../ui/format.ts"

/** What `registration.showNotification` gets. */
export interface NotificationSpec {
  title: string
  options: {
    body: string
    tag: string
    icon?: string
    image?: string
    timestamp?: number
    data: NotificationData
  }
}

/** Kept on the notification; `notificationclick` opens `url`. */
export interface NotificationData {
  url: string
  clipId?: string
}

/** A thumbnail that does not arrive in this time is left out: the notification matters more. */
const thumbnailTimeoutMs = 8000
/** Notifications carry the picture as a data: URL; a bigger one is left out. */
const maxThumbnailBytes = 256 * 1024

/** The notification for a push message's text, for a phone with one home; never throws. */
export function notificationForPush(
  text: string,
  openStore: () => Promise<LocalStore>,
): Promise<NotificationSpec> {
  return notificationForHomes(text, [openStore])
}

/**
 * The notification for a push message's text on a phone with several homes (store/homes.ts): the home whose
 * MLS state opens it (or whose space a relay notice names) shows it, its name added when there are several;
 * the generic text when none does. Never throws.
 */
export async function notificationForHomes(
  text: string,
  openStores: readonly (() => Promise<LocalStore>)[],
): Promise<NotificationSpec> {
  let firstName: string | undefined
  for (const openStore of openStores) {
    const read = await readForHome(text, openStore, openStores.length > 1)
    firstName ??= read.hubName
    if (read.spec) return read.spec
  }
  return genericNotification(firstName)
}

/** One home's reading of a push: its notification when the push is this home's, and the home's name. */
async function readForHome(
  text: string,
  openStore: () => Promise<LocalStore>,
  nameHome: boolean,
): Promise<{ spec?: NotificationSpec; hubName?: string }> {
  let store: LocalStore | undefined
  let hubName: string | undefined
  try {
    store = await openStore()
    const [device, space, group] = await Promise.all([
      store.get("device"),
      store.get("space"),
      store.get("group"),
    ])
    hubName = space?.hubName
    if (!device || !space || !group) return { hubName }
    // The relay's own notice that the hub stopped checking in (signal/src/push/hubWatch.ts): in clear.
    const relayNotice = readRelayNotice(text)
    if (relayNotice) {
      return relayNotice.spaceId === space.spaceId
        ? { hubName, spec: hubSilenceNotification(relayNotice, space.hubName) }
        : { hubName }
    }
    const payload = decodePushText(text)
    const epoch = pushPayloadEpoch(payload)
    if (epoch === undefined) return { hubName }
    const hubKey = fromBase64(space.hubKey)
    const trust: TrustPolicy = (identity, key) => identity.role === "phone" || equalBytes(key, hubKey)
    const session = await SpaceSession.restore(fromBase64(group), { trust, persist: async () => {} })
    const client = new SignalClient({ baseUrl: device.signalUrl, token: device.token })
    if (session.epoch < epoch) await catchUp(session, client, space.after, epoch)
    if (session.epoch !== epoch) return { hubName }
    const { secret } = await exportPushSecret(session)
    const notice = await openPushPayload(payload, {
      secret,
      groupId: session.groupId,
      hubKey,
      signature: session.signature,
    })
    const named = (spec: NotificationSpec) =>
      nameHome ? { ...spec, title: `${spec.title} · ${space.hubName}` } : spec
    if (notice.kind === "camera-status") return { hubName, spec: named(cameraNotification(notice)) }
    const picture = notice.thumbnail
      ? await withTimeout(loadThumbnail(session, client, notice), thumbnailTimeoutMs)
      : undefined
    return { hubName, spec: named(clipNotification(notice, picture)) }
  } catch {
    // Not this home's, or unreadable: another home may read it; else the generic text (userVisibleOnly).
    return { hubName }
  } finally {
    store?.close()
  }
}

/** Processes the mailbox's messages after `after` on this copy of the session, until it is at `epoch`. */
async function catchUp(session: SpaceSession, client: SignalClient, after: number, epoch: bigint) {
  const hub = session.members().find((m) => m.identity.role === "hub")
  if (!hub) return
  for (const message of await client.fetchMailbox(after)) {
    if (session.epoch >= epoch) return
    // Pairing notices (sealed, not MLS) share the mailbox: they only have to be stepped over.
    const kind = classifyMailboxMessage(message.body)
    if (kind.kind !== "mls" || kind.wireformat !== "mls_private_message") continue
    try {
      await session.open(message.body, hub.leafIndex)
    } catch (err) {
      // The page will meet the same message and report it; here it only means this epoch is not reached.
      if (!(err instanceof VigilError)) throw err
    }
  }
}

/** Downloads and decrypts the notice's picture (checked against the hub-signed blob id), as a data: URL. */
async function loadThumbnail(
  session: SpaceSession,
  client: SignalClient,
  notice: ClipPushNotice,
): Promise<string | undefined> {
  const ref = notice.thumbnail
  if (!ref || ref.size > maxThumbnailBytes * 2) return undefined
  const { secret } = await exportClipKey(session, ref.clipId as ClipId)
  // The hub signed the size and blob id: the relay can neither make the worker buffer more nor swap it.
  const jpeg = await downloadAndDecrypt(client, { ...ref, spaceId: notice.spaceId }, secret)
  return jpeg.length <= maxThumbnailBytes ? `data:image/jpeg;base64,${toBase64(jpeg)}` : undefined
}

function withTimeout<T>(work: Promise<T>, ms: number): Promise<T | undefined> {
  return Promise.race([
    work.catch(() => undefined),
    new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), ms)),
  ])
}

/** "Person — Front door", "15:02:07", the picture, one notification per clip. */
export function clipNotification(notice: ClipPushNotice, picture?: string): NotificationSpec {
  return {
    title: `${labelText(notice.label)} — ${notice.cameraName}`,
    options: {
      body: timeText(notice.startedAt),
      tag: `clip-${notice.clipId}`,
      timestamp: notice.startedAt,
      ...(picture ? { icon: picture, image: picture } : {}),
      data: { url: `/#clip=${notice.clipId}`, clipId: notice.clipId },
    },
  }
}

/**
 * "Front door offline" / "No video since 14:02", replaced by "Front door is back" when it recovers (one
 * notification per camera: the same tag).
 */
export function cameraNotification(notice: CameraPushNotice): NotificationSpec {
  const offline = notice.state === "offline"
  return {
    title: offline ? `${notice.cameraName} offline` : `${notice.cameraName} is back`,
    options: {
      body: offline
        ? `No video since ${timeText(notice.since)}`
        : `Video again since ${timeText(notice.since)}`,
      tag: `camera-${notice.cameraId}`,
      timestamp: notice.since,
      data: { url: "/" },
    },
  }
}

/**
 * "Home: no contact with the hub" / "The relay has not heard from it since 14:02…", then "Home: the hub is
 * back". Only the relay says so (it could lie, as it could drop everything): the text names it.
 */
export function hubSilenceNotification(notice: RelayNotice, hubName: string): NotificationSpec {
  const silent = notice.relay === "hub-silent"
  return {
    title: silent ? `${hubName}: no contact with the hub` : `${hubName}: the hub is back`,
    options: {
      body: silent
        ? `The relay has not heard from the hub since ${timeText(notice.since)}. It may be off or offline.`
        : `The relay heard from the hub again at ${timeText(notice.since)}.`,
      tag: `hub-${notice.spaceId}`,
      timestamp: notice.since,
      data: { url: "/" },
    },
  }
}

/** What a push shows when it cannot be read: true for every clip, and it names no detail. */
export function genericNotification(hubName: string | undefined): NotificationSpec {
  return {
    title: `Motion — ${hubName ?? "your camera"}`,
    options: { body: "Open Vigil to see what happened.", tag: "vigil-event", data: { url: "/" } },
  }
}
