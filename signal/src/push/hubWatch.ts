/**
 * Silent-hub alerts (issue 16): a hub checks in with the relay all the time (its mailbox long poll), so the
 * relay notices when one stops — power cut, network down, crash — and tells the phones of its spaces by
 * Web Push, then again when it is back. The relay learns nothing it did not know: it always saw the hub's
 * requests. The notice is the relay's own word, in clear, and the app says so ("reported by the relay"); a
 * relay could lie about it, as it can drop everything anyway.
 *
 * Push text (UTF-8 JSON, never base64url, so the service worker tells it from the hub's sealed payloads):
 *   { "relay": "hub-silent" | "hub-back", "spaceId": "<32 hex>", "since": <ms> }
 * `since`: the hub's last request (silent), or its first one after the silence (back).
 *
 * What the relay knows of hubs is in memory; after a restart every hub that owns a space counts as heard at
 * the restart, so a hub that never comes back is still reported one threshold later.
 */
import type { AppContext } from "../http/context.ts"
import type { DeviceId, SpaceId } from "../ids.ts"
import { pushToSpace } from "./spacePush.ts"

export type RelayNoticeKind = "hub-silent" | "hub-back"

export class HubWatch {
  /** Hub → when it last made a request (ms). */
  private readonly heardAt = new Map<DeviceId, number>()
  /** Hubs reported silent, and since when. */
  private readonly silent = new Map<DeviceId, number>()
  private timer: NodeJS.Timeout | undefined
  private checking: Promise<unknown> = Promise.resolve()

  constructor(
    private readonly ctx: Pick<AppContext, "store" | "metrics" | "logger" | "config" | "now" | "push">,
  ) {}

  get enabled(): boolean {
    return (
      this.ctx.config.hubSilentAlertMs > 0 &&
      this.ctx.push !== undefined &&
      this.ctx.config.pushHosts.length > 0
    )
  }

  /** Starts watching: every hub owning a space counts as heard now; checks run until `stop`. */
  async start(): Promise<void> {
    if (!this.enabled) return
    const now = this.ctx.now()
    for (const { ownerId } of await this.ctx.store.listSpaceOwners()) {
      if (!this.heardAt.has(ownerId)) this.heardAt.set(ownerId, now)
    }
    const every = Math.min(30_000, Math.max(1000, Math.floor(this.ctx.config.hubSilentAlertMs / 5)))
    this.timer = setInterval(() => {
      this.checking = this.check().catch((err: unknown) => this.ctx.logger.error({ err }, "hub watch failed"))
    }, every)
    this.timer.unref()
  }

  async stop(): Promise<void> {
    clearInterval(this.timer)
    await this.checking
  }

  /** A request from a hub: it is alive (and, if it was reported silent, reported back). */
  heard(hubId: DeviceId): void {
    if (!this.enabled) return
    const now = this.ctx.now()
    this.heardAt.set(hubId, now)
    if (this.silent.delete(hubId)) {
      this.ctx.logger.info({ hubId }, "a silent hub checked in again")
      void this.ctx.store
        .listSpaceOwners()
        .then((spaces) => this.notify(spaces, hubId, "hub-back", now))
        .catch((err: unknown) => this.ctx.logger.warn({ err, hubId }, "hub status push failed"))
    }
  }

  /** Reports every hub silent for longer than the threshold (once per silence). */
  async check(): Promise<void> {
    const now = this.ctx.now()
    const late: [DeviceId, number][] = []
    for (const [hubId, at] of this.heardAt) {
      if (!this.silent.has(hubId) && now - at >= this.ctx.config.hubSilentAlertMs) late.push([hubId, at])
    }
    if (late.length === 0) return
    // One read of the spaces for every hub found silent in this check.
    const spaces = await this.ctx.store.listSpaceOwners()
    for (const [hubId, at] of late) {
      this.silent.set(hubId, at)
      this.ctx.logger.info({ hubId, since: at }, "a hub has not checked in; telling its phones")
      await this.notify(spaces, hubId, "hub-silent", at)
    }
  }

  private async notify(
    spaces: readonly { spaceId: SpaceId; ownerId: DeviceId }[],
    hubId: DeviceId,
    kind: RelayNoticeKind,
    since: number,
  ): Promise<void> {
    const push = this.ctx.push
    if (!push) return
    try {
      for (const { spaceId } of spaces.filter((s) => s.ownerId === hubId)) {
        const text = JSON.stringify({ relay: kind, spaceId, since })
        await pushToSpace(this.ctx, push, spaceId, Buffer.from(text, "utf8"), {
          except: hubId,
          ttlSeconds: 24 * 3600,
          urgency: kind === "hub-silent" ? "high" : "normal",
        })
      }
    } catch (err) {
      this.ctx.logger.warn({ err, hubId, kind }, "hub status push failed")
    }
  }
}
