import {
  SignalError,
  encodePushText,
  exportPushSecret,
  sealPushPayload,
  utf8,
  type CameraId,
  type ClipId,
  type EventLabel,
  type PushNotice,
  type RelayTransport,
  type SpaceId,
  type SpaceSession,
  type ThumbnailRef,
} from "@vigil/protocol"
import { nodeAead } from "../crypto/nodeAead.ts"
import type { Logger } from "../log.ts"
import { describe } from "./describe.ts"

/** What the notifier needs from the space; all of it is the space's own (hubSpace.ts). */
export interface PushContext {
  session: SpaceSession
  client: RelayTransport
  spaceId: SpaceId
  log: Logger
  /** Resolves once everything queued so far (the clip's commit and announcement) reached signal. */
  drained: () => Promise<void>
}

export interface ClipPush {
  clipId: ClipId
  cameraId: CameraId
  cameraName: string
  label: EventLabel
  startedAt: number
  thumbnail?: ThumbnailRef
  /** False: the camera does not notify for this label (e.g. plain motion); no push is sent. */
  notify?: boolean
}

/** A push that waited longer than this for nothing is pointless: the phone opens the app by then. */
const pushTtlSeconds = 6 * 3600
/** After signal said push is off (404), ask again only this much later (the operator may turn it on). */
const disabledRetryMs = 3600_000

/** Per signal client: until when push is known to be off at that relay. */
const disabledUntil = new WeakMap<RelayTransport, number>()

/**
 * After a clip was announced: seals the push payload (pushPayload.ts) under the push key of the epoch the
 * clip was announced in — so call it inside the space's queue, right after the announcement — and posts it
 * to signal once the outbox has delivered the commit and the announcement (the phone's service worker
 * reads them to reach that epoch). Never throws and never delays delivery: push failures are logged, and a
 * relay without push (404) is remembered quietly for an hour.
 */
export function pushClipNotice(ctx: PushContext, clip: ClipPush): Promise<void> {
  if (clip.notify === false) return Promise.resolve()
  return pushNotice(ctx, {
    kind: "clip",
    spaceId: ctx.spaceId,
    clipId: clip.clipId,
    cameraId: clip.cameraId,
    cameraName: clip.cameraName,
    label: clip.label,
    startedAt: clip.startedAt,
    ...(clip.thumbnail ? { thumbnail: clip.thumbnail } : {}),
  })
}

/** Any notice (a clip, a camera offline or back), sealed and posted as `pushClipNotice` describes. */
export async function pushNotice(ctx: PushContext, notice: PushNotice): Promise<void> {
  if ((disabledUntil.get(ctx.client) ?? 0) > Date.now()) return
  const about = notice.kind === "clip" ? { clipId: notice.clipId } : { cameraId: notice.cameraId }
  let text: string
  try {
    const { secret, epoch } = await exportPushSecret(ctx.session)
    const payload = await sealPushPayload({
      notice,
      epoch,
      secret,
      groupId: ctx.session.groupId,
      signKey: ctx.session.signaturePrivateKey,
      signature: ctx.session.signature,
      aead: nodeAead,
    })
    text = encodePushText(payload)
  } catch (err) {
    ctx.log.warn({ err: describe(err), ...about }, "push payload could not be sealed; no push")
    return
  }
  void ctx
    .drained()
    .then(() => ctx.client.push(ctx.spaceId, utf8(text), { ttlSeconds: pushTtlSeconds, urgency: "high" }))
    .then(
      (result) => ctx.log.debug({ ...about, ...result }, "push sent"),
      (err: unknown) => {
        if (err instanceof SignalError && err.status === 404) {
          disabledUntil.set(ctx.client, Date.now() + disabledRetryMs)
          ctx.log.info("web push is not enabled at signal; clips are delivered without push")
          return
        }
        ctx.log.warn({ err: describe(err), ...about }, "push failed; the message is delivered anyway")
      },
    )
}
