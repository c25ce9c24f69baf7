/**
 * The hub's side of one camera space, as one door for the rest of the hub (the CLI, cameras, live view).
 * Behind it, each room has one job:
 *
 *   hubLedger.ts     the MLS session and the saved document; every change is saved with its outbox entries
 *   hubOutbox.ts     delivers saved entries to signal, one lane per device
 *   relayBlobs.ts    sealed clips at signal (upload, quota, retention) and the hub's local archive
 *   inviteDesk.ts    pairing by invite link or QR code
 *   discoveryDesk.ts pairing by discovery, with a code compared by a person
 *   phoneInbox.ts    what phones ask of the hub (rejoin, live offers, the Devices screen's requests)
 *   clipDelivery.ts  clips and sightings: a fresh epoch per clip, sealed, uploaded, announced, pushed
 */
import { join } from "node:path"
import {
  SignalClient,
  SpaceSession,
  exportFrameKey,
  fromHex,
  roleOf,
  toBase64,
  VigilError,
  type BlobId,
  type CameraId,
  type ClipId,
  type DeviceId,
  type FrameKey,
  type HubMessage,
  type Invite,
  type LiveAnswerBody,
  type PhoneRole,
  type SpaceId,
  type RelayTransport,
  type SupportedSuite,
} from "@vigil/protocol"
import { nodeAead } from "../crypto/nodeAead.ts"
import type { Logger } from "../log.ts"
import { FileStateStore } from "../store/fileStateStore.ts"
import {
  ClipDelivery,
  type CameraStatusToDeliver,
  type ClipToDeliver,
  type SightingToDeliver,
} from "./clipDelivery.ts"
import { describe } from "./describe.ts"
import { DiscoveryDesk, type DiscoveryOptions } from "./discoveryDesk.ts"
import { HubLedger, type PairedPhone } from "./hubLedger.ts"
import { HubOutbox } from "./hubOutbox.ts"
import { parseHubState, type HubRecords, type HubStateDoc } from "./hubState.ts"
import { InviteDesk } from "./inviteDesk.ts"
import { PhoneInbox, type LiveRequestHandler } from "./phoneInbox.ts"
import { RelayBlobs } from "./relayBlobs.ts"

export type { ClipToDeliver, SightingToDeliver } from "./clipDelivery.ts"
export type { DiscoveryOptions, DiscoveryRequest } from "./discoveryDesk.ts"
export type { PairedPhone } from "./hubLedger.ts"
export type { LiveRequestHandler } from "./phoneInbox.ts"

export interface HubSpaceOptions {
  dataDir: string
  signalUrl: string
  /** Where the PWA is served; pairing links point there. Defaults to the signal URL. */
  webUrl?: string
  hubName: string
  logger: Logger
  /** MLS ciphersuite for a new space (an existing space keeps its own). Default suite 1. */
  suite?: SupportedSuite
  /** Encrypted clips kept on the hub after upload: at most this many bytes (default 2 GiB) ... */
  localQuotaBytes?: number
  /** ... and no older than this (default 30 days). */
  localRetentionMs?: number
  /** The hub commits a fresh epoch at least this often, even with no clip (default one hour). */
  rotateIntervalMs?: number
  /** The configured cameras (config names); phones see them in the roster and may rename them. */
  cameras?: readonly { id: string; name: string }[]
  /** Clips at signal older than this are deleted by the hub (default 30 days). */
  relayRetentionMs?: number
  /** Mail a phone's full mailbox refused is dropped ("parked") once queued this long (default 7 days). */
  outboxParkAfterMs?: number
  /** Mail queued for one phone at most; older mail for it is dropped past this (default 1000). */
  maxQueuedMailPerPhone?: number
  /**
   * The relay as a transport for a device token (none before registering). Default: signal at
   * `signalUrl` over HTTP; unit tests pass an in-memory relay (protocol/src/memoryRelay.ts).
   */
  relay?: (token?: string) => RelayTransport
}

/** The hub's client at the relay: `opts.relay` (tests: an in-memory relay), else signal over HTTP. */
function relayFor(opts: HubSpaceOptions, baseUrl: string, token?: string): RelayTransport {
  return opts.relay ? opts.relay(token) : new SignalClient({ baseUrl, token })
}

export class HubSpace {
  private stopped = false
  private rotateTimer: NodeJS.Timeout | undefined
  private removedListener: ((deviceId: DeviceId) => void) | undefined
  private readonly client: RelayTransport
  private readonly log: Logger
  private readonly outbox: HubOutbox
  private readonly inbox: PhoneInbox
  private readonly invites: InviteDesk
  private readonly discovery: DiscoveryDesk
  private readonly clips: ClipDelivery

  private constructor(
    private readonly ledger: HubLedger,
    private readonly opts: HubSpaceOptions,
  ) {
    const doc = ledger.doc
    this.log = opts.logger
    this.client = relayFor(opts, doc.signalUrl, doc.device.token)
    const blobs = new RelayBlobs(ledger, this.client, this.log, opts)
    this.outbox = new HubOutbox(ledger, this.client, blobs, this.log, opts.outboxParkAfterMs)
    this.inbox = new PhoneInbox(ledger, this.client, this.log, opts.cameras ?? [])
    this.invites = new InviteDesk(ledger, this.client, this.log, opts.webUrl ?? doc.signalUrl)
    this.discovery = new DiscoveryDesk(ledger, this.client, this.log, opts.hubName)
    this.clips = new ClipDelivery(ledger, this.client, this.log, opts.dataDir, () => this.drained())
  }

  /** Opens the saved space, or registers the hub at signal and founds a new one. */
  static async open(opts: HubSpaceOptions): Promise<HubSpace> {
    const store = await FileStateStore.open<HubRecords>(join(opts.dataDir, "state.json"))
    let saved = parseHubState(await store.get("hub"), store.path)
    if (!saved) {
      saved = await HubSpace.found(opts)
      await store.commit({ put: { hub: saved } })
      opts.logger.info(
        { spaceId: saved.spaceId, deviceId: saved.device.deviceId },
        "registered a new camera space",
      )
    } else if (saved.signalUrl !== opts.signalUrl) {
      opts.logger.warn(
        { saved: saved.signalUrl, configured: opts.signalUrl },
        "signal URL changed; using the saved one",
      )
    }
    // The ledger tells the space what it saved through `holder`, which is set right after construction.
    const holder: { space?: HubSpace } = {}
    const ledger = await HubLedger.open(saved, store, {
      logger: opts.logger,
      cameras: opts.cameras,
      maxQueuedMailPerPhone: opts.maxQueuedMailPerPhone,
      onApplied: (entries) => {
        // A removed phone must see nothing new from now on: its live sessions end with the commit, not later.
        for (const e of entries)
          if (e.kind === "revoke") holder.space?.removedListener?.(e.deviceId as DeviceId)
        holder.space?.outbox.kick()
      },
    })
    const space = new HubSpace(ledger, opts)
    holder.space = space
    space.outbox.kick()
    void space.inbox.run()
    space.scheduleRotation()
    return space
  }

  /** Registers the hub at signal, creates its space and founds the MLS group. */
  private static async found(opts: HubSpaceOptions): Promise<HubStateDoc> {
    const device = await relayFor(opts, opts.signalUrl).registerDevice("hub")
    const { spaceId } = await relayFor(opts, opts.signalUrl, device.token).createSpace()
    const hubDeviceId = device.deviceId as DeviceId
    let group: Uint8Array | undefined
    await SpaceSession.create({
      groupId: fromHex(spaceId),
      self: { role: "hub", deviceId: hubDeviceId },
      trust: (identity) => identity.role === "hub" && identity.deviceId === hubDeviceId,
      persist: async (state) => void (group = state),
      suite: opts.suite,
    })
    if (!group) throw new VigilError("INTERNAL", "new group was not persisted")
    return {
      version: 1,
      signalUrl: opts.signalUrl,
      hubName: opts.hubName,
      device: { deviceId: device.deviceId, token: device.token },
      spaceId,
      group: toBase64(group),
      phones: [],
      inboxAfter: 0,
      outbox: [],
      nextOutboxId: 1,
    }
  }

  get spaceId(): SpaceId {
    return this.ledger.spaceId
  }

  get deviceId(): DeviceId {
    return this.ledger.deviceId
  }

  get epoch(): bigint {
    return this.ledger.session.epoch
  }

  get phones(): PairedPhone[] {
    return this.ledger.doc.phones.map((p) => ({
      deviceId: p.deviceId as DeviceId,
      pairedAt: p.pairedAt,
      ...(p.name ? { name: p.name } : {}),
      role: roleOf(p),
    }))
  }

  /** The configured cameras with the names phones gave them (a rename wins over the config's name). */
  get cameras(): { id: CameraId; name: string }[] {
    return (this.opts.cameras ?? []).map((c) => ({
      id: c.id as CameraId,
      name: this.cameraName(c.id, c.name),
    }))
  }

  /** The name to announce a camera under: the one a phone gave it, else `configured`. */
  cameraName(cameraId: string, configured: string): string {
    return this.ledger.cameraName(cameraId, configured)
  }

  get pendingOutbox(): number {
    return this.outbox.pending
  }

  /** Forward secrecy with no events: a quiet hub still moves to a fresh epoch every `rotateIntervalMs`. */
  private scheduleRotation() {
    const every = this.opts.rotateIntervalMs ?? 3600_000
    this.rotateTimer = setInterval(
      () => {
        if (this.stopped || this.ledger.doc.phones.length === 0 || this.ledger.epochAgeMs < every) return
        void this.rotate().catch((err: unknown) =>
          this.log.warn({ err: describe(err) }, "scheduled rotation failed"),
        )
      },
      Math.min(every, 60_000),
    )
    this.rotateTimer.unref()
  }

  /** Commits a fresh epoch for all phones. */
  rotate(): Promise<void> {
    const ledger = this.ledger
    return ledger.transact(async () => {
      const { commit } = await ledger.session.rotate()
      await ledger.apply(ledger.mailToPhones(commit))
    })
  }

  /** A one-time pairing invite; the returned URL opens the PWA straight into pairing. */
  createInvite(
    onPaired?: (phone: PairedPhone) => void,
  ): Promise<{ invite: Invite; code: string; url: string }> {
    return this.invites.create(onPaired)
  }

  /**
   * Pairing mode by discovery (protocol/src/pairingDiscovery.ts): announces this hub at signal to phones on
   * the same network and pairs the phones that ask, one at a time, once the code is confirmed on both
   * sides. Runs until the returned `stop` is called or the hub closes.
   */
  startDiscovery(opts: DiscoveryOptions): { stop: () => void } {
    return this.discovery.start(opts)
  }

  /** Where phones' live-view requests go (the live service); without one they are logged and dropped. */
  onLiveRequest(handler: LiveRequestHandler): void {
    this.inbox.liveHandler = handler
  }

  /** Called once a phone's removal is saved (from this hub's CLI or at another phone's request). */
  onPhoneRemoved(listener: (deviceId: DeviceId) => void): void {
    this.removedListener = listener
  }

  /** Called when a paired phone asks the hub to watch a room for a phone it invites (a join link). */
  onPairingOpenRequested(listener: (room: { roomId: string; until: number }, by: DeviceId) => void): void {
    this.inbox.pairingOpenListener = listener
  }

  /**
   * Starts a live session for one phone: a fresh epoch (its commit goes to every phone), the stream's frame
   * key exported from it, and the answer `makeAnswer` builds from that key, signed and sealed in the same
   * epoch. Both are queued in one step, so the phone meets the answer right after the commit and derives
   * the same key.
   */
  openLiveSession(
    to: DeviceId,
    streamId: number,
    makeAnswer: (frameKey: FrameKey) => Promise<LiveAnswerBody>,
  ): Promise<FrameKey> {
    return this.ledger.transact(async () => {
      if (!this.ledger.doc.phones.some((p) => p.deviceId === to)) {
        throw new VigilError("NOT_A_MEMBER", `device ${to} is not paired`)
      }
      const { commit } = await this.ledger.session.rotate()
      const frameKey = await exportFrameKey(this.ledger.session, streamId, nodeAead)
      let sealed: Uint8Array
      try {
        const answer = await makeAnswer(frameKey)
        sealed = await this.ledger.sealHubMessage({
          ...answer,
          kind: "live-answer",
          spaceId: this.ledger.spaceId,
          to,
          streamId,
          epoch: frameKey.epoch.toString(),
        })
      } catch (err) {
        await this.ledger.apply(this.ledger.mailToPhones(commit))
        throw err
      }
      // One save for the new epoch and the answer; the asking phone's mail goes first (every phone still
      // gets the commit before anything later), so its answer does not wait behind the others' commits.
      const asker = this.ledger.doc.phones.filter((p) => p.deviceId === to)
      const others = this.ledger.doc.phones.filter((p) => p.deviceId !== to)
      await this.ledger.apply([
        ...this.ledger.mailToPhones(commit, asker),
        { kind: "mail", to, body: toBase64(sealed) },
        ...this.ledger.mailToPhones(commit, others),
      ])
      return frameKey
    })
  }

  /** The ICE servers signal's operator configured for WebRTC (none by default). */
  getIceServers() {
    return this.client.getIceServers()
  }

  /** Signs, seals and mails one hub message to one phone (it is readable by the group, addressed to one). */
  sendToPhone(to: DeviceId, message: HubMessage): Promise<void> {
    const ledger = this.ledger
    return ledger.transact(async () => {
      const sealed = await ledger.sealHubMessage(message)
      await ledger.apply([{ kind: "mail", to, body: toBase64(sealed) }])
    })
  }

  /**
   * Removes a phone (this hub's CLI, `hub phones remove`): a Remove commit for every phone (the removed one
   * learns it was removed), signal stops serving it, and the others get the new roster, as when a paired
   * phone asks for the removal. It can decrypt nothing new.
   */
  removePhone(deviceId: DeviceId): Promise<void> {
    const ledger = this.ledger
    return ledger.transact(async () => {
      const { entries, change } = await ledger.removePhone(deviceId)
      await ledger.apply(entries, change)
      this.log.info({ deviceId }, "phone removed at the hub")
    })
  }

  /**
   * Makes a phone an owner or a member (this hub's CLI, `hub phones role`). The hub's terminal is the
   * household's root of trust: it may do what no phone may, except leave the household without an owner.
   */
  setRole(deviceId: DeviceId, role: PhoneRole): Promise<void> {
    const ledger = this.ledger
    return ledger.transact(async () => {
      const phones = ledger.doc.phones
      const owners = phones.filter((p) => roleOf(p) === "owner" && p.deviceId !== deviceId)
      if (role === "member" && owners.length === 0) {
        throw new VigilError(
          "NOT_AN_OWNER",
          "the last owner cannot be made a member; make another phone an owner first",
        )
      }
      const { entries, change } = await ledger.setRole(deviceId, role)
      await ledger.apply(entries, change)
      this.log.info({ deviceId, role }, "phone's role changed at the hub")
    })
  }

  /**
   * Encrypts a clip for the phones and queues its delivery: a fresh epoch (forward secrecy per clip), the
   * clip sealed under a key exported from it, uploaded, then announced in a message signed by the hub.
   */
  deliverClip(clip: ClipToDeliver): Promise<{ clipId: ClipId; blobId: BlobId } | undefined> {
    return this.clips.deliverClip(clip)
  }

  /** The early notification: an object recognised while the clip still records. */
  deliverSighting(sighting: SightingToDeliver): Promise<void> {
    return this.clips.deliverSighting(sighting)
  }

  /** A camera went offline or came back; false when the phones were told so already. */
  deliverCameraStatus(status: CameraStatusToDeliver): Promise<boolean> {
    return this.clips.deliverCameraStatus(status)
  }

  /** Cameras the phones were told are offline, with since when (ms). */
  get offlineCameras(): Readonly<Record<string, number>> {
    return this.ledger.doc.offlineCameras ?? {}
  }

  /**
   * Resolves once everything queued so far has been delivered, except mail waiting for a phone whose
   * mailbox is full: that phone's trouble must not hold up the others (the push after a clip, say).
   */
  drained(): Promise<void> {
    return this.outbox.drained()
  }

  async close(): Promise<void> {
    this.stopped = true
    this.inbox.stop()
    this.discovery.stop()
    this.invites.stop()
    if (this.rotateTimer) clearInterval(this.rotateTimer)
    this.outbox.stop()
    await this.ledger.queue.run(async () => {})
  }
}
