import { mkdir, readdir, readFile, rename, rm, stat } from "node:fs/promises"
import { join } from "node:path"
import {
  SerialQueue,
  SignalClient,
  checkPairingConfirmation,
  checkPairingNonce,
  confirmationCode,
  decodeDiscoveryRoomMessage,
  isDeviceRequestKind,
  openDeviceRequest,
  openPairingApproval,
  sealPairingNotice,
  peekEnvelopeKind,
  signDeviceRoster,
  encodeDiscoveryAnnouncement,
  newDiscoveryRoomId,
  openProbe,
  sealPairingResult,
  SignalError,
  SpaceSession,
  decodeKeyPackage,
  encodeInvite,
  clipRecordHashes,
  encryptClip,
  exportClipKey,
  exportFrameKey,
  fromBase64,
  fromHex,
  isRejoinRequest,
  keyPackageIdentity,
  mlsWireformat,
  openLiveRequest,
  openRejoinRequest,
  pairingRoomId,
  randomBytes,
  sha256,
  signHubMessage,
  toBase64,
  toBase64Url,
  toHex,
  verifyJoinRequest,
  VigilError,
  type BlobId,
  type CameraId,
  type ClipId,
  type DeviceId,
  type EventLabel,
  type DetectionInfo,
  type DeviceRequest,
  type DiscoveryRoomMessage,
  type HubProbe,
  type FrameKey,
  type HubMessage,
  type Invite,
  type LiveAnswer,
  type LiveRequest,
  type SpaceId,
  type SupportedSuite,
  type TrustPolicy,
} from "@vigil/protocol"
import { nodeAead } from "../crypto/nodeAead.ts"
import type { Logger } from "../log.ts"
import { writeFileAtomic } from "../store/atomicFile.ts"
import { FileStateStore } from "../store/fileStateStore.ts"
import {
  parseHubState,
  type HubRecords,
  type HubStateDoc,
  type NewOutboxEntry,
  type OutboxEntry,
} from "./hubState.ts"
import { TokenBuckets } from "./tokenBuckets.ts"
import { excessMail, laneOf, OutboxLanes, PassBlocks, saveLane } from "./outboxLanes.ts"
import { pushClipNotice, type PushContext } from "./pushNotifier.ts"

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
}

export interface PairedPhone {
  deviceId: DeviceId
  pairedAt: number
  /** The name the phone gave itself when it paired by discovery. */
  name?: string
}

/** A phone asking to join through discovery, with the code both screens show. */
export interface DiscoveryRequest {
  deviceId: DeviceId
  deviceName: string
  code: string
}

export interface DiscoveryOptions {
  /**
   * Asks the person at the hub whether the phone shows `request.code`; resolves true only for an explicit
   * yes. `signal` aborts when the phone cancelled or the time ran out (resolve false then).
   */
  confirm: (request: DiscoveryRequest, signal: AbortSignal) => Promise<boolean>
  onPaired?: (phone: PairedPhone) => void
  /** A request that ended without pairing, and why (for the person at the hub). */
  onRefused?: (request: DiscoveryRequest | { deviceId: DeviceId }, reason: string) => void
  /** A paired phone answered in the hub's place (its user compared the code). */
  onApproval?: (request: DiscoveryRequest, by: DeviceId, approve: boolean) => void
  /** How long both confirmations may take. Default 2 minutes. */
  confirmTimeoutMs?: number
  /**
   * Watch this room until then instead of announcing rotating rooms at signal: a paired phone picked it
   * for a join link ("pairing-open"), so only the phones it was given to know it.
   */
  room?: { roomId: string; until: number }
}

/** A pairing by discovery waiting for the phone's confirmation (the hub's is asked through `confirm`). */
interface PendingDiscovery {
  deviceId: DeviceId
  roomId: string
  onRoomMessage: (m: DiscoveryRoomMessage) => Promise<void>
}

export interface ClipToDeliver {
  mp4: Uint8Array
  cameraId: CameraId
  cameraName: string
  label: EventLabel
  startedAt: number
  endedAt: number
  /** When motion started (ms); `motionStartedAt - startedAt` is the pre-roll. */
  motionStartedAt?: number
  /** JPEG (at most 640 wide) of the best detection's picture, else of the motion's first picture. */
  thumbnail?: Uint8Array
  /**
   * What object detection saw during the clip, best score first: label, the model's class, score 0–1,
   * box normalized to the picture (0–1, origin top left), and when (ms).
   */
  detections?: {
    label: Exclude<EventLabel, "motion">
    className: string
    score: number
    box: { x: number; y: number; width: number; height: number }
    at: number
  }[]
  /** False: deliver the clip silently, without a push (its label is not one the camera notifies for). */
  notify?: boolean
}

export interface SightingToDeliver {
  cameraId: CameraId
  cameraName: string
  label: Exclude<EventLabel, "motion">
  score: number
  at: number
  motionStartedAt: number
  thumbnail?: Uint8Array
}

type ClipDetection = NonNullable<ClipToDeliver["detections"]>[number]

const clamp01 = (x: number) => Math.min(1, Math.max(0, x))

/** A detection as it travels in the announcement: clamped to the schema's ranges, a short class name. */
function detectionInfo(d: ClipDetection): DetectionInfo {
  return {
    label: d.label,
    className: d.className.slice(0, 32) || d.label,
    score: clamp01(d.score),
    box: {
      x: clamp01(d.box.x),
      y: clamp01(d.box.y),
      width: clamp01(d.box.width),
      height: clamp01(d.box.height),
    },
    at: Math.max(0, Math.round(d.at)),
  }
}

/** Receives phones' live-view requests, already MLS-decrypted and checked against the phone's pinned key. */
export type LiveRequestHandler = (request: LiveRequest, from: DeviceId) => void

const inviteTtlMs = 15 * 60_000
const roomPollMs = 20_000
/** Discovery re-announces this often (signal keeps an announcement 10 minutes) ... */
const announceEveryMs = 4 * 60_000
/** ... and moves to a fresh room this often (signal keeps a room 15 minutes after its first message). */
const discoveryRoomMs = 10 * 60_000
/** How long the hub watches the room of a join link a paired phone made. */
const joinLinkTtlMs = 15 * 60_000

/**
 * The hub's side of one camera space: its MLS group, its paired phones, pairing, and the delivery of
 * encrypted clips through signal. Every change goes through one queue and is saved, together with the
 * messages it produced, before anything is sent.
 */
export class HubSpace {
  private readonly queue = new SerialQueue()
  private captured: Uint8Array | undefined
  /** Phones being paired right now: trusted by the MLS layer only for the duration of their add. */
  private readonly pairing = new Map<string, DeviceId>()
  private flushing = false
  private flushAgain = false
  private retryTimer: NodeJS.Timeout | undefined
  /** Per sender: messages in the hub's mailbox, rejoins, and live offers (each one a commit). */
  private readonly inboxLimit = new TokenBuckets({ burst: 30, perMs: 1000 })
  private readonly rejoinLimit = new TokenBuckets({ burst: 3, perMs: 10 * 60_000 })
  private readonly liveLimit = new TokenBuckets({ burst: 6, perMs: 10_000 })
  /** When the hub last deleted clips past the retention at signal. */
  private relayPrunedAt = 0
  /** Per-device delivery lanes and their backoff (issue 14 finding 3). */
  private readonly lanes = new OutboxLanes()
  private stopped = false
  private readonly inboxAbort = new AbortController()
  /** Ends a pairing by discovery still waiting for confirmation when the hub stops. */
  private readonly discoveryAbort = new AbortController()
  private rotateTimer: NodeJS.Timeout | undefined
  private lastEpoch: bigint
  private epochStartedAt = Date.now()
  private readonly client: SignalClient
  private readonly log: Logger
  /** Resolves when the outbox is empty; tests and shutdown wait on it. */
  private drainedWaiters: { upTo: number; resolve: () => void }[] = []
  private liveHandler: LiveRequestHandler | undefined
  private removedListener: ((deviceId: DeviceId) => void) | undefined
  private pairingOpenListener: ((room: { roomId: string; until: number }, by: DeviceId) => void) | undefined

  private constructor(
    private doc: HubStateDoc,
    private session: SpaceSession,
    private readonly opts: HubSpaceOptions,
    private readonly hooks: { trust: TrustPolicy; persist: (state: Uint8Array) => Promise<void> },
    private readonly store: FileStateStore<HubRecords>,
  ) {
    this.lastEpoch = session.epoch
    this.client = new SignalClient({ baseUrl: doc.signalUrl, token: doc.device.token })
    this.log = opts.logger
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
    // The session's hooks reach the space through `holder`, which is set right after construction.
    const holder: { space?: HubSpace } = {}
    const hooks = HubSpace.hooksFor(holder)
    const session = await SpaceSession.restore(fromBase64(saved.group), hooks)
    const space = new HubSpace(saved, session, opts, hooks, store)
    holder.space = space
    space.kickFlush()
    void space.runInbox()
    space.scheduleRotation()
    return space
  }

  private static hooksFor(holder: { space?: HubSpace }) {
    return {
      trust: ((identity, key) =>
        holder.space?.trusts(identity.role, identity.deviceId, key) ?? false) as TrustPolicy,
      persist: async (state: Uint8Array) => {
        if (holder.space) holder.space.captured = state
      },
    }
  }

  /** Registers the hub at signal, creates its space and founds the MLS group. */
  private static async found(opts: HubSpaceOptions): Promise<HubStateDoc> {
    const device = await new SignalClient({ baseUrl: opts.signalUrl }).registerDevice("hub")
    const { spaceId } = await new SignalClient({ baseUrl: opts.signalUrl, token: device.token }).createSpace()
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

  private trusts(role: string, deviceId: string, key: Uint8Array): boolean {
    if (role === "hub") return deviceId === this.doc.device.deviceId
    const keyHex = toHex(key)
    if (this.pairing.get(keyHex) === deviceId) return true
    return this.doc.phones.some((p) => p.deviceId === deviceId && p.signatureKey === keyHex)
  }

  get spaceId(): SpaceId {
    return this.doc.spaceId as SpaceId
  }

  get deviceId(): DeviceId {
    return this.doc.device.deviceId as DeviceId
  }

  get epoch(): bigint {
    return this.session.epoch
  }

  get phones(): PairedPhone[] {
    return this.doc.phones.map((p) => ({
      deviceId: p.deviceId as DeviceId,
      pairedAt: p.pairedAt,
      ...(p.name ? { name: p.name } : {}),
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
    return this.doc.cameraNames?.[cameraId] ?? configured
  }

  get pendingOutbox(): number {
    return this.doc.outbox.length
  }

  private get hubSignatureKey(): Uint8Array {
    const self = this.session.members().find((m) => m.leafIndex === this.session.ownLeafIndex)
    if (!self) throw new VigilError("INTERNAL", "hub leaf missing from its own group")
    return self.signaturePublicKey
  }

  /**
   * Saves the session state captured by the last operation together with the messages it produced, then
   * starts delivering them. Must run inside the queue.
   */
  private async applyLocked(entries: NewOutboxEntry[], change?: (doc: HubStateDoc) => HubStateDoc) {
    let next: HubStateDoc = { ...this.doc }
    if (this.captured) next.group = toBase64(this.captured)
    let id = next.nextOutboxId
    const queuedAt = Date.now()
    const numbered = entries.map((e) => ({ ...e, id: id++, queuedAt }) as OutboxEntry)
    next = { ...next, outbox: [...next.outbox, ...numbered], nextOutboxId: id }
    if (change) next = change(next)
    // A phone away for long must not grow the state file (rewritten on every change) without bound.
    const excess = excessMail(next.outbox, this.opts.maxQueuedMailPerPhone ?? 1000)
    if (excess.size > 0) {
      this.log.warn({ dropped: excess.size }, "too much mail queued for a phone; dropped its oldest")
      next = { ...next, outbox: next.outbox.filter((e) => !excess.has(e.id)) }
    }
    try {
      await this.store.commit({ put: { hub: next } })
    } catch (err) {
      // The in-memory session moved ahead of the disk: go back to what is saved, so nothing unsaved is sent.
      this.session = await SpaceSession.restore(fromBase64(this.doc.group), this.hooks)
      this.captured = undefined
      throw err
    }
    this.captured = undefined
    this.doc = next
    // A removed phone must see nothing new from now on: its live sessions end with the commit, not later.
    for (const e of entries) if (e.kind === "revoke") this.removedListener?.(e.deviceId as DeviceId)
    if (this.session.epoch !== this.lastEpoch) {
      this.lastEpoch = this.session.epoch
      this.epochStartedAt = Date.now()
    }
    this.kickFlush()
  }

  /** Forward secrecy with no events: a quiet hub still moves to a fresh epoch every `rotateIntervalMs`. */
  private scheduleRotation() {
    const every = this.opts.rotateIntervalMs ?? 3600_000
    this.rotateTimer = setInterval(
      () => {
        if (this.stopped || this.doc.phones.length === 0 || Date.now() - this.epochStartedAt < every) return
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
    return this.queue.run(async () => {
      const { commit } = await this.session.rotate()
      await this.applyLocked(this.mailToPhones(commit))
    })
  }

  private mailToPhones(body: Uint8Array, phones = this.doc.phones): NewOutboxEntry[] {
    const encoded = toBase64(body)
    return phones.map((p) => ({ kind: "mail", to: p.deviceId, body: encoded }))
  }

  /** A one-time pairing invite; the returned URL opens the PWA straight into pairing. */
  async createInvite(
    onPaired?: (phone: PairedPhone) => void,
  ): Promise<{ invite: Invite; code: string; url: string }> {
    const invite: Invite = {
      signal: this.doc.signalUrl,
      spaceId: this.spaceId,
      hubDeviceId: this.deviceId,
      hubName: this.doc.hubName,
      hubKey: this.hubSignatureKey,
      secret: randomBytes(32),
      expiresAt: Date.now() + inviteTtlMs,
      suite: this.session.suite as SupportedSuite,
    }
    await this.claimPairingRoom(await pairingRoomId(invite.secret))
    const code = encodeInvite(invite)
    const webUrl = (this.opts.webUrl ?? this.doc.signalUrl).replace(/\/+$/, "")
    void this.watchInvite(invite, onPaired)
    return { invite, code, url: `${webUrl}/#pair=${code}` }
  }

  /**
   * The phone that writes its join request into this room consents, at signal, to join this hub's space and
   * no other; the room must be ours before the phone can use it.
   */
  private async claimPairingRoom(roomId: string): Promise<void> {
    await this.client.claimRoom(roomId).catch((err: unknown) => {
      // A relay from before join consents (no such route) adds members without asking: pair anyway.
      if (!(err instanceof SignalError && err.status === 404 && err.code === "NOT_FOUND")) throw err
      this.log.warn("signal does not know join consents (an older relay); pairing without")
    })
  }

  private async watchInvite(invite: Invite, onPaired?: (phone: PairedPhone) => void) {
    const roomId = await pairingRoomId(invite.secret)
    let after = 0
    while (!this.stopped && Date.now() < invite.expiresAt) {
      let messages: Awaited<ReturnType<SignalClient["readRoom"]>>
      try {
        messages = await this.client.readRoom(
          roomId,
          after,
          Math.min(roomPollMs, invite.expiresAt - Date.now()),
        )
      } catch (err) {
        this.log.warn({ err: describe(err) }, "pairing room unreachable; retrying")
        await sleep(2000)
        continue
      }
      for (const m of messages) {
        after = Math.max(after, m.seq)
        try {
          const phone = await this.acceptJoin(invite, m.from as DeviceId, m.body)
          this.log.info({ deviceId: phone.deviceId }, "phone paired")
          onPaired?.(phone)
          return // one invite pairs one phone
        } catch (err) {
          this.log.warn({ err: describe(err), from: m.from }, "refused a pairing request")
        }
      }
    }
  }

  /**
   * Checks a joining phone's key package: its credential names this device as a phone, and the device is
   * not paired yet. Returns its signature key (hex), which the MLS layer trusts while the add is made.
   */
  private newPhoneKeyLocked(keyPackageBytes: Uint8Array, from: DeviceId): string {
    const keyPackage = decodeKeyPackage(keyPackageBytes)
    const identity = keyPackageIdentity(keyPackage)
    if (identity?.role !== "phone" || identity.deviceId !== from) {
      throw new VigilError("UNTRUSTED_CREDENTIAL", "key package credential does not match the device")
    }
    if (this.doc.phones.some((p) => p.deviceId === from)) {
      throw new VigilError("PAIRING_INVALID", "device is already paired")
    }
    return toHex(keyPackage.leafNode.signaturePublicKey)
  }

  private acceptJoin(invite: Invite, from: DeviceId, body: Uint8Array): Promise<PairedPhone> {
    return this.queue.run(async () => {
      const request = await verifyJoinRequest(invite.secret, body)
      if (request.deviceId !== from)
        throw new VigilError("PAIRING_INVALID", "join request names another device")
      const keyHex = this.newPhoneKeyLocked(request.keyPackage, from)
      this.pairing.set(keyHex, from)
      try {
        const existing = this.doc.phones
        const { commit, welcome } = await this.session.addMember(request.keyPackage)
        const pairedAt = Date.now()
        await this.applyLocked(
          [
            ...this.mailToPhones(commit, existing),
            { kind: "grant", deviceId: from },
            { kind: "mail", to: from, body: toBase64(welcome) },
          ],
          (doc) => ({ ...doc, phones: [...doc.phones, { deviceId: from, signatureKey: keyHex, pairedAt }] }),
        )
        return { deviceId: from, pairedAt }
      } finally {
        this.pairing.delete(keyHex)
      }
    })
  }

  /**
   * Pairing mode by discovery (protocol/src/pairingDiscovery.ts): announces this hub at signal to phones on
   * the same network and pairs the phones that ask, one at a time, once the code is confirmed on both
   * sides. Runs until the returned `stop` is called or the hub closes.
   */
  startDiscovery(opts: DiscoveryOptions): { stop: () => void } {
    const abort = new AbortController()
    void this.runDiscovery(opts, abort.signal)
    return { stop: () => abort.abort() }
  }

  private async runDiscovery(opts: DiscoveryOptions, stop: AbortSignal) {
    const name = encodeDiscoveryAnnouncement({
      name: this.opts.hubName,
      suite: this.session.suite as SupportedSuite,
    })
    let roomId = ""
    let roomSince = 0
    let announcedAt = 0
    let after = 0
    let pending: PendingDiscovery | undefined
    const withdraw = (room: string) =>
      room
        ? this.client
            .withdrawPairing(room)
            .catch((err: unknown) =>
              this.log.warn({ err: describe(err) }, "withdrawing the announcement failed"),
            )
        : Promise.resolve()
    if (opts.room) {
      roomId = opts.room.roomId
      roomSince = Number.POSITIVE_INFINITY
      announcedAt = Number.POSITIVE_INFINITY
      try {
        await this.claimPairingRoom(roomId)
      } catch (err) {
        this.log.warn({ err: describe(err) }, "the join link's room could not be claimed; not watching it")
        return
      }
    }
    while (!stop.aborted && !this.stopped) {
      if (opts.room && Date.now() > opts.room.until && !pending) break
      try {
        const now = Date.now()
        if (!opts.room && !pending && now - roomSince > discoveryRoomMs) {
          void withdraw(roomId)
          roomId = newDiscoveryRoomId()
          roomSince = now
          announcedAt = 0
          after = 0
        }
        if (!opts.room && now - announcedAt > announceEveryMs) {
          await this.client.announcePairing(roomId, name)
          announcedAt = now
          this.log.info({ roomId }, "announced for pairing by discovery")
        }
        const messages = await this.client.readRoom(roomId, after, roomPollMs)
        for (const m of messages) {
          after = Math.max(after, m.seq)
          let msg: DiscoveryRoomMessage
          try {
            msg = decodeDiscoveryRoomMessage(m.body, m.from)
          } catch (err) {
            this.log.warn({ err: describe(err), from: m.from }, "refused a message in the pairing room")
            continue
          }
          if (msg.kind === "join") {
            if (pending) {
              this.log.warn(
                { from: m.from },
                "a pairing is already waiting for confirmation; request ignored",
              )
              continue
            }
            const current: PendingDiscovery = {
              deviceId: msg.deviceId,
              roomId,
              onRoomMessage: async () => {},
            }
            pending = current
            void this.pairByDiscovery(msg, current, opts).finally(() => {
              if (pending === current) pending = undefined
            })
          } else if (pending && (pending.deviceId === msg.deviceId || msg.kind === "approve")) {
            await pending.onRoomMessage(msg)
          } else {
            this.log.warn({ from: m.from, kind: msg.kind }, "pairing message for no pending request")
          }
        }
      } catch (err) {
        if (stop.aborted || this.stopped) break
        this.log.warn({ err: describe(err) }, "pairing room unreachable; retrying")
        await sleep(2000)
      }
    }
    if (!opts.room) await withdraw(roomId)
  }

  /**
   * One pairing by discovery. The phone is answered with a probe (discoveryProbe.ts), a throwaway group of
   * two: nothing of the household is shown before both people said the codes match, and the household's
   * queue is not held while they compare them. Only then is the phone added to the household's group.
   */
  private async pairByDiscovery(
    join: Extract<DiscoveryRoomMessage, { kind: "join" }>,
    ctx: PendingDiscovery,
    opts: DiscoveryOptions,
  ): Promise<void> {
    const from = join.deviceId
    try {
      if (this.doc.phones.some((p) => p.deviceId === from)) {
        throw new VigilError("PAIRING_INVALID", "device is already paired")
      }
      const probe = await openProbe({ hubDeviceId: this.deviceId, join, suite: this.session.suite })
      await this.discoveryProbe(join, probe, ctx, opts)
    } catch (err) {
      this.log.warn({ err: describe(err), from }, "refused a pairing request")
      opts.onRefused?.({ deviceId: from }, describe(err))
    }
  }

  private async discoveryProbe(
    join: Extract<DiscoveryRoomMessage, { kind: "join" }>,
    { probe, welcome, phoneKey }: HubProbe,
    ctx: PendingDiscovery,
    opts: DiscoveryOptions,
  ) {
    const from = join.deviceId
    // The code needs the phone's nonce, which it reveals only once it holds the Welcome (confirmationCode.ts).
    let code: string | undefined
    let request: DiscoveryRequest = { deviceId: from, deviceName: join.deviceName, code: "" }

    const decided = new AbortController()
    let nonceSaid: (nonce: Uint8Array | undefined) => void = () => {}
    const revealed = new Promise<Uint8Array | undefined>((resolve) => (nonceSaid = resolve))
    // The phone's side: its confirmation, with the key package it wants in the household's group.
    let phoneSaid: (keyPackage: Uint8Array | undefined) => void = () => {}
    const phoneYes = new Promise<Uint8Array | undefined>((resolve) => (phoneSaid = resolve))
    // The hub's side: its terminal, or a paired phone whose user compared the code (signed approval).
    let hubSaid: (yes: boolean) => void = () => {}
    const hubYes = new Promise<boolean>((resolve) => (hubSaid = resolve))
    ctx.onRoomMessage = async (m) => {
      if (m.kind === "approve") {
        if (code === undefined) return
        try {
          const approval = await openPairingApproval(m.signed, {
            groupId: this.session.groupId,
            from: m.deviceId,
            pinnedKey: (deviceId) => this.pinnedPhoneKey(deviceId),
            signature: this.session.signature,
            target: from,
            code,
          })
          this.log.info({ by: m.deviceId, approve: approval.approve }, "a paired phone answered a pairing")
          opts.onApproval?.(request, approval.deviceId, approval.approve)
          if (!approval.approve) reason = "refused on a paired phone"
          hubSaid(approval.approve)
        } catch (err) {
          this.log.warn({ err: describe(err), from: m.deviceId }, "refused a pairing approval")
        }
        return
      }
      if (m.deviceId !== from) return
      if (m.kind === "cancel") {
        nonceSaid(undefined)
        return phoneSaid(undefined)
      }
      if (m.kind === "reveal") {
        if (code !== undefined) return
        try {
          await checkPairingNonce(m.nonce, join.commitment)
          nonceSaid(m.nonce)
        } catch (err) {
          // Not what the phone committed to: someone is playing with the pairing. End it.
          this.log.warn({ err: describe(err), from }, "refused a pairing nonce")
          reason = "the phone's nonce did not match its request"
          nonceSaid(undefined)
          phoneSaid(undefined)
        }
        return
      }
      if (m.kind !== "confirm" || code === undefined) return
      try {
        // Sealed in the probe, which only this phone and the hub hold.
        const opened = await probe.open(m.sealed, probe.ownLeafIndex)
        if (opened.kind !== "application")
          throw new VigilError("UNEXPECTED_MESSAGE", "expected a confirmation")
        phoneSaid(checkPairingConfirmation(opened.data, { deviceId: from, code, phoneKey }).keyPackage)
      } catch (err) {
        this.log.warn({ err: describe(err), from }, "refused a pairing confirmation")
      }
    }

    let keyPackage: Uint8Array | undefined
    let reason = "refused at the hub"
    const stopping = () => {
      reason = "the hub is stopping"
      decided.abort()
    }
    try {
      // The phone may read its mailbox at signal only once it shares the space with the hub.
      // Pending: mail only. Until both people confirmed, the phone must not list, read or delete clips.
      await this.client.addMember(this.spaceId, from, { pending: true })
      await this.client.sendToMailbox(from, welcome)
      const timeoutMs = opts.confirmTimeoutMs ?? 120_000
      const timer = setTimeout(() => {
        reason = "no confirmation in time"
        decided.abort()
      }, timeoutMs)
      if (this.discoveryAbort.signal.aborted) stopping()
      this.discoveryAbort.signal.addEventListener("abort", stopping, { once: true })
      const aborted = new Promise<undefined>((resolve) => {
        if (decided.signal.aborted) resolve(undefined)
        decided.signal.addEventListener("abort", () => resolve(undefined), { once: true })
      })
      const nonce = await Promise.race([revealed, aborted])
      if (nonce) {
        code = await confirmationCode(probe.epochAuthenticator, nonce)
        request = { ...request, code }
        void opts.confirm(request, decided.signal).then((yes) => {
          if (!decided.signal.aborted) hubSaid(yes)
        })
        await this.noticeToPhones(request, ctx.roomId, Date.now() + timeoutMs)
        const never = new Promise<undefined>(() => {})
        keyPackage = await Promise.race([
          Promise.all([hubYes, phoneYes]).then(([a, b]) => (a ? b : undefined)),
          hubYes.then((yes) => (yes ? never : undefined)),
          phoneYes.then((kp) => {
            if (!kp && reason === "refused at the hub") reason = "cancelled on the phone"
            return kp ? never : undefined
          }),
          aborted,
        ])
      } else if (reason === "refused at the hub") {
        reason = "cancelled on the phone" // the timer and a stopping hub set their own reason
      }
      clearTimeout(timer)
      if (keyPackage) {
        const phone = await this.queue.run(() => this.admitLocked(from, join.deviceName, keyPackage!, probe))
        this.log.info({ deviceId: from }, "phone paired by discovery")
        opts.onPaired?.(phone)
        return
      }
    } catch (err) {
      reason = describe(err)
    } finally {
      decided.abort()
      this.discoveryAbort.signal.removeEventListener("abort", stopping)
      ctx.onRoomMessage = async () => {}
    }

    // Refused: the phone hears so, in the probe, and learns nothing else.
    const refusal = await sealPairingResult({ kind: "pairing-result", to: from, accepted: false }, probe)
    await this.client.sendToMailbox(from, refusal).catch(() => undefined)
    await this.client.removeMember(this.spaceId, from).catch((err: unknown) => {
      this.log.warn({ err: describe(err), from }, "could not revoke a refused phone at signal")
    })
    this.log.info({ deviceId: from, reason }, "pairing by discovery refused")
    opts.onRefused?.(request, reason)
  }

  /**
   * Both people said yes: adds the phone's household key package to the group in one commit, saved with its
   * outbox: the commit to the other phones, the grant at signal, the result (with the Welcome) sealed in
   * the probe, and the new roster.
   */
  private async admitLocked(
    from: DeviceId,
    name: string,
    keyPackage: Uint8Array,
    probe: SpaceSession,
  ): Promise<PairedPhone> {
    const keyHex = this.newPhoneKeyLocked(keyPackage, from)
    this.pairing.set(keyHex, from)
    try {
      const existing = this.doc.phones
      const { commit, welcome } = await this.session.addMember(keyPackage)
      const pairedAt = Date.now()
      const phones = [...existing, { deviceId: from, signatureKey: keyHex, pairedAt, name }]
      const roster = await this.session.seal(await this.signRosterLocked(phones))
      const result = await sealPairingResult(
        {
          kind: "pairing-result",
          to: from,
          accepted: true,
          spaceId: this.spaceId,
          epoch: this.session.epoch.toString(),
          hubKey: this.hubSignatureKey,
          welcome,
        },
        probe,
      )
      await this.applyLocked(
        [
          ...this.mailToPhones(commit, existing),
          { kind: "grant", deviceId: from }, // from pending to full member at signal
          { kind: "mail", to: from, body: toBase64(result) },
          ...this.mailToPhones(roster, phones),
        ],
        (doc) => ({
          ...doc,
          phones: [...doc.phones, { deviceId: from, signatureKey: keyHex, pairedAt, name }],
        }),
      )
      return { deviceId: from, pairedAt, name }
    } finally {
      this.pairing.delete(keyHex)
    }
  }

  /**
   * Tells the paired phones that a new phone waits (its name and code), so one of them may approve it. Sent
   * directly, not through the outbox: it is worthless after the request ends, and a lost one only means
   * approving at the hub's terminal.
   */
  private async noticeToPhones(request: DiscoveryRequest, roomId: string, expiresAt: number) {
    if (this.doc.phones.length === 0) return
    // Sealed for the epoch the paired phones are in now (exporting changes no state).
    const { notice, phones } = await this.queue.run(async () => ({
      notice: await sealPairingNotice(
        {
          kind: "pairing-pending",
          spaceId: this.spaceId,
          roomId,
          deviceId: request.deviceId,
          deviceName: request.deviceName,
          code: request.code,
          expiresAt,
        },
        this.session,
        this.session.signaturePrivateKey,
        this.session.signature,
        nodeAead,
      ),
      phones: this.doc.phones,
    }))
    await Promise.all(
      phones.map((p) =>
        this.client.sendToMailbox(p.deviceId, notice).catch((err: unknown) => {
          this.log.warn({ err: describe(err), to: p.deviceId }, "pairing notice not delivered")
        }),
      ),
    )
  }

  /**
   * Reads the hub's own mailbox: phones write here when they need something from the hub (a rejoin after
   * losing their state; live view, as MLS application messages). Each message is handled, saved, then
   * acknowledged.
   */
  private async runInbox() {
    let backoff = 1000
    while (!this.stopped) {
      try {
        const messages = await this.client.fetchMailbox(this.doc.inboxAfter, 20_000, {
          signal: this.inboxAbort.signal,
        })
        for (const m of messages) await this.handleInbox(m.seq, m.from as DeviceId, m.body)
        if (messages.length > 0) await this.client.ackMailbox(this.doc.inboxAfter)
        backoff = 1000
      } catch (err) {
        if (this.stopped) return
        this.log.warn({ err: describe(err) }, "hub mailbox unreachable; retrying")
        await sleep(backoff)
        backoff = Math.min(backoff * 2, 30_000)
      }
    }
  }

  private async handleInbox(seq: number, from: DeviceId, body: Uint8Array): Promise<void> {
    const live = await this.queue.run(async () => {
      let entries: NewOutboxEntry[] = []
      let change: ((doc: HubStateDoc) => HubStateDoc) | undefined
      let request: LiveRequest | undefined
      try {
        // Each of these costs the hub a commit (a fresh epoch for every phone) or an MLS decryption:
        // a phone, paired or pending, gets a few at a time (issue 14 finding 10).
        const limit = isRejoinRequest(body) ? this.rejoinLimit : this.inboxLimit
        if (!limit.take(from, Date.now())) {
          throw new VigilError("UNEXPECTED_MESSAGE", "the device sends the hub too much; message dropped")
        }
        if (isRejoinRequest(body)) {
          ;({ entries, change } = await this.rejoinLocked(from, body))
          this.log.info({ deviceId: from }, "phone rejoined after losing its state")
        } else {
          const opened = await this.openPhoneMessageLocked(from, body)
          if (opened.kind === "live") request = opened.request
          else ({ entries, change } = opened)
        }
      } catch (err) {
        if (!(err instanceof VigilError)) throw err
        this.log.warn({ err: describe(err), from, seq }, "refused a message in the hub mailbox")
      }
      if (request && !this.liveLimit.take(from, Date.now())) {
        this.log.warn({ from, seq }, "a phone asks for live view too often; request dropped")
        request = undefined
      }
      if (entries.length === 0 && !change) {
        // Junk, or a live request (its commit saves everything): nothing to save now. The position and
        // any decryption state go to disk with the next change; the mailbox is acknowledged at signal
        // all the same, so nothing is read twice.
        this.doc = { ...this.doc, inboxAfter: seq }
        return request
      }
      await this.applyLocked(entries, (doc) => ({ ...(change ? change(doc) : doc), inboxAfter: seq }))
      return request
    })
    // Outside the queue: the handler answers through `openLiveSession`, which queues its own work.
    if (live) this.liveHandler?.(live, from)
  }

  /** A phone's MLS application message: a live-view request, or a request from the Devices screen. */
  private async openPhoneMessageLocked(
    from: DeviceId,
    body: Uint8Array,
  ): Promise<
    | { kind: "live"; request: LiveRequest }
    | { kind: "device"; entries: NewOutboxEntry[]; change: (doc: HubStateDoc) => HubStateDoc }
  > {
    if (mlsWireformat(body) !== "mls_private_message") {
      throw new VigilError("UNEXPECTED_MESSAGE", "the hub accepts rejoin requests and MLS messages only")
    }
    // Only the hub commits: passing its own leaf makes the session refuse a commit from any phone.
    const incoming = await this.session.open(body, this.session.ownLeafIndex)
    if (incoming.kind !== "application") {
      throw new VigilError("UNEXPECTED_MESSAGE", "a phone sent the hub a commit")
    }
    if (isDeviceRequestKind(peekEnvelopeKind(incoming.data))) {
      return { kind: "device", ...(await this.deviceRequestLocked(from, incoming.data)) }
    }
    const request = await openLiveRequest(incoming.data, {
      groupId: this.session.groupId,
      from,
      pinnedKey: (deviceId) => this.pinnedPhoneKey(deviceId),
      signature: this.session.signature,
      now: Date.now(),
    })
    return { kind: "live", request }
  }

  private pinnedPhoneKey(deviceId: DeviceId): Uint8Array | undefined {
    const phone = this.doc.phones.find((p) => p.deviceId === deviceId)
    return phone ? fromHex(phone.signatureKey) : undefined
  }

  /**
   * A paired phone asks for the roster, or to remove a phone (protocol/src/deviceRoster.ts). Only a paired
   * phone's fresh request, signed with its pinned key, is acted on; a removal is a Remove commit for every
   * phone (the removed one learns it was removed), then signal stops serving that phone.
   */
  private async deviceRequestLocked(from: DeviceId, data: Uint8Array) {
    const sender = this.doc.phones.find((p) => p.deviceId === from)
    const request = await openDeviceRequest(data, {
      groupId: this.session.groupId,
      from,
      pinnedKey: (deviceId) => this.pinnedPhoneKey(deviceId),
      signature: this.session.signature,
      now: Date.now(),
      notBefore: sender?.lastRequestAt,
    })
    const stamp = (doc: HubStateDoc): HubStateDoc => ({
      ...doc,
      phones: doc.phones.map((p) => (p.deviceId === from ? { ...p, lastRequestAt: request.issuedAt } : p)),
    })
    if (request.kind === "device-roster-request") {
      const roster = await this.session.seal(await this.signRosterLocked(this.doc.phones))
      return {
        entries: [{ kind: "mail", to: from, body: toBase64(roster) }] as NewOutboxEntry[],
        change: stamp,
      }
    }
    if (request.kind === "rename-camera") return this.renameCameraLocked(request, stamp)
    if (request.kind === "pairing-open") {
      const room = { roomId: request.roomId, until: Date.now() + joinLinkTtlMs }
      this.log.info({ by: from }, "watching a room for a phone invited by a paired phone")
      this.pairingOpenListener?.(room, from)
      return { entries: [] as NewOutboxEntry[], change: stamp }
    }
    const target = request.target
    if (!this.doc.phones.some((p) => p.deviceId === target)) {
      throw new VigilError("NOT_A_MEMBER", "the phone to remove is not paired")
    }
    try {
      const { commit } = await this.session.removeMember(target)
      const remaining = this.doc.phones.filter((p) => p.deviceId !== target)
      const roster = await this.session.seal(await this.signRosterLocked(remaining))
      this.log.info({ deviceId: target, by: from }, "phone removed at another phone's request")
      return {
        entries: [
          ...this.mailToPhones(commit),
          { kind: "revoke", deviceId: target },
          ...this.mailToPhones(roster, remaining),
        ] as NewOutboxEntry[],
        change: (doc: HubStateDoc) =>
          stamp({ ...doc, phones: doc.phones.filter((p) => p.deviceId !== target) }),
      }
    } catch (err) {
      // Nothing of a half-made removal may be saved: back to the saved epoch.
      this.session = await SpaceSession.restore(fromBase64(this.doc.group), this.hooks)
      this.captured = undefined
      throw err
    }
  }

  /**
   * A phone renames one of the configured cameras for everyone: saved in the hub's state (it outlives
   * restarts and config edits of other fields), used by every later announcement, sighting and push, and
   * told to every phone in a new roster. The name was checked by `openDeviceRequest`.
   */
  private async renameCameraLocked(
    request: Extract<DeviceRequest, { kind: "rename-camera" }>,
    stamp: (doc: HubStateDoc) => HubStateDoc,
  ) {
    const camera = (this.opts.cameras ?? []).find((c) => c.id === request.cameraId)
    if (!camera) throw new VigilError("UNEXPECTED_MESSAGE", `no camera ${request.cameraId} on this hub`)
    // Back to the config's name: no override left behind.
    const { [camera.id]: _old, ...others } = this.doc.cameraNames ?? {}
    const cameraNames = request.name === camera.name ? others : { ...others, [camera.id]: request.name }
    const roster = await this.session.seal(await this.signRosterLocked(this.doc.phones, cameraNames))
    this.log.info(
      { cameraId: camera.id, by: request.deviceId, name: request.name },
      "camera renamed at a phone's request",
    )
    return {
      entries: this.mailToPhones(roster),
      change: (doc: HubStateDoc) => stamp({ ...doc, cameraNames }),
    }
  }

  /** The phones and their names, signed by the hub for the Devices screen (sealed by the caller). */
  private signRosterLocked(
    phones: HubStateDoc["phones"],
    cameraNames = this.doc.cameraNames,
  ): Promise<Uint8Array> {
    return signDeviceRoster(
      {
        kind: "device-roster",
        spaceId: this.spaceId,
        epoch: this.session.epoch.toString(),
        devices: phones.map((p) => ({
          deviceId: p.deviceId as DeviceId,
          pairedAt: p.pairedAt,
          ...(p.name ? { name: p.name } : {}),
        })),
        cameras: (this.opts.cameras ?? []).slice(0, 64).map((c) => ({
          id: c.id as CameraId,
          name: (cameraNames?.[c.id] ?? c.name).slice(0, 64),
        })),
      },
      this.session.groupId,
      this.session.signaturePrivateKey,
      this.session.signature,
    )
  }

  /** Where phones' live-view requests go (the live service); without one they are logged and dropped. */
  onLiveRequest(handler: LiveRequestHandler): void {
    this.liveHandler = handler
  }

  /** Called once a phone's removal is saved (from this hub's CLI or at another phone's request). */
  onPhoneRemoved(listener: (deviceId: DeviceId) => void): void {
    this.removedListener = listener
  }

  /** Called when a paired phone asks the hub to watch a room for a phone it invites (a join link). */
  onPairingOpenRequested(listener: (room: { roomId: string; until: number }, by: DeviceId) => void): void {
    this.pairingOpenListener = listener
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
    makeAnswer: (
      frameKey: FrameKey,
    ) => Promise<Omit<LiveAnswer, "kind" | "spaceId" | "to" | "streamId" | "epoch">>,
  ): Promise<FrameKey> {
    return this.queue.run(async () => {
      if (!this.doc.phones.some((p) => p.deviceId === to)) {
        throw new VigilError("NOT_A_MEMBER", `device ${to} is not paired`)
      }
      const { commit } = await this.session.rotate()
      const frameKey = await exportFrameKey(this.session, streamId, nodeAead)
      let sealed: Uint8Array
      try {
        const answer = await makeAnswer(frameKey)
        sealed = await this.sealLocked({
          ...answer,
          kind: "live-answer",
          spaceId: this.spaceId,
          to,
          streamId,
          epoch: frameKey.epoch.toString(),
        })
      } catch (err) {
        await this.applyLocked(this.mailToPhones(commit))
        throw err
      }
      // One save for the new epoch and the answer; the asking phone's mail goes first (every phone still
      // gets the commit before anything later), so its answer does not wait behind the others' commits.
      const asker = this.doc.phones.filter((p) => p.deviceId === to)
      const others = this.doc.phones.filter((p) => p.deviceId !== to)
      await this.applyLocked([
        ...this.mailToPhones(commit, asker),
        { kind: "mail", to, body: toBase64(sealed) },
        ...this.mailToPhones(commit, others),
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
    return this.queue.run(() => this.sealForLocked(to, message))
  }

  private async sealForLocked(to: DeviceId, message: HubMessage) {
    const sealed = await this.sealLocked(message)
    await this.applyLocked([{ kind: "mail", to, body: toBase64(sealed) }])
  }

  /** Signs a hub message and seals it as an MLS application message (saved by the caller's applyLocked). */
  private async sealLocked(message: HubMessage): Promise<Uint8Array> {
    const signed = await signHubMessage(
      message,
      this.session.groupId,
      this.session.signaturePrivateKey,
      this.session.signature,
    )
    return this.session.seal(signed)
  }

  private async rejoinLocked(from: DeviceId, body: Uint8Array) {
    const phone = this.doc.phones.find((p) => p.deviceId === from)
    const request = await openRejoinRequest(
      body,
      (deviceId) => (deviceId === from && phone ? fromHex(phone.signatureKey) : undefined),
      this.session.signature,
      { now: Date.now(), notBefore: phone?.lastRejoinAt },
    )
    if (request.spaceId !== this.spaceId)
      throw new VigilError("PAIRING_INVALID", "rejoin request for another space")
    const keyPackage = decodeKeyPackage(request.keyPackage)
    const identity = keyPackageIdentity(keyPackage)
    if (identity?.role !== "phone" || identity.deviceId !== from) {
      throw new VigilError("UNTRUSTED_CREDENTIAL", "key package credential does not match the device")
    }
    if (toHex(keyPackage.leafNode.signaturePublicKey) !== phone!.signatureKey) {
      throw new VigilError("UNTRUSTED_CREDENTIAL", "a rejoin must keep the device's signature key")
    }
    const { commit, welcome } = await this.session.readdMember(from, request.keyPackage)
    const others = this.doc.phones.filter((p) => p.deviceId !== from)
    return {
      entries: [
        ...this.mailToPhones(commit, others),
        { kind: "mail", to: from, body: toBase64(welcome) },
      ] as NewOutboxEntry[],
      change: (doc: HubStateDoc) => ({
        ...doc,
        phones: doc.phones.map((p) => (p.deviceId === from ? { ...p, lastRejoinAt: request.issuedAt } : p)),
      }),
    }
  }

  /**
   * Removes a phone (this hub's CLI, `hub phones remove`): a Remove commit for every phone (the removed one
   * learns it was removed), signal stops serving it, and the others get the new roster, as when a paired
   * phone asks for the removal. It can decrypt nothing new.
   */
  removePhone(deviceId: DeviceId): Promise<void> {
    return this.queue.run(async () => {
      if (!this.doc.phones.some((p) => p.deviceId === deviceId)) {
        throw new VigilError("NOT_A_MEMBER", "the phone to remove is not paired")
      }
      try {
        const { commit } = await this.session.removeMember(deviceId)
        const remaining = this.doc.phones.filter((p) => p.deviceId !== deviceId)
        const roster = await this.session.seal(await this.signRosterLocked(remaining))
        await this.applyLocked(
          [
            ...this.mailToPhones(commit),
            { kind: "revoke", deviceId },
            ...this.mailToPhones(roster, remaining),
          ],
          (doc) => ({ ...doc, phones: doc.phones.filter((p) => p.deviceId !== deviceId) }),
        )
        this.log.info({ deviceId }, "phone removed at the hub")
      } catch (err) {
        // Nothing of a half-made removal may be kept: back to the saved epoch.
        this.session = await SpaceSession.restore(fromBase64(this.doc.group), this.hooks)
        this.captured = undefined
        throw err
      }
    })
  }

  /** What pushNotifier.ts needs to seal and send a clip's push (inside the queue, after the announcement). */
  private pushContext(): PushContext {
    const { session, client, spaceId, log } = this
    return { session, client, spaceId, log, drained: () => this.drained() }
  }

  /**
   * Encrypts a clip for the phones and queues its delivery: a fresh epoch (forward secrecy per clip), the
   * clip sealed under a key exported from it, uploaded, then announced in a message signed by the hub.
   */
  deliverClip(clip: ClipToDeliver): Promise<{ clipId: ClipId; blobId: BlobId } | undefined> {
    return this.queue.run(async () => {
      if (this.doc.phones.length === 0) {
        this.log.info({ cameraId: clip.cameraId }, "clip recorded but no phone is paired; not delivered")
        return undefined
      }
      const { commit } = await this.session.rotate()
      await this.applyLocked(this.mailToPhones(commit))

      const clipId = toHex(randomBytes(16)) as ClipId
      const cameraName = this.cameraName(clip.cameraId, clip.cameraName)
      const sealedClip = await this.sealMediaLocked(clip.mp4, clipId)
      const thumbnail = clip.thumbnail ? await this.sealMediaLocked(clip.thumbnail) : undefined
      const seq = (this.doc.announcedSeq ?? 0) + 1
      const announcement = await this.signLocked({
        kind: "clip",
        seq,
        clipId,
        spaceId: this.spaceId,
        blobId: sealedClip.ref.blobId as BlobId,
        size: sealedClip.ref.size,
        epoch: sealedClip.epoch.toString(),
        cameraId: clip.cameraId,
        cameraName,
        label: clip.label,
        startedAt: clip.startedAt,
        endedAt: clip.endedAt,
        mimeType: 'video/mp4; codecs="avc1.42C01E"',
        ...(clip.motionStartedAt !== undefined ? { motionStartedAt: clip.motionStartedAt } : {}),
        ...(thumbnail ? { thumbnail: thumbnail.ref } : {}),
        ...(clip.detections?.length ? { detections: clip.detections.slice(0, 20).map(detectionInfo) } : {}),
        ...(sealedClip.recordHashes ? { recordHashes: toBase64Url(sealedClip.recordHashes) } : {}),
      })
      const sealed = await this.session.seal(announcement)
      await this.applyLocked(
        [...(thumbnail ? [thumbnail.entry] : []), sealedClip.entry, ...this.mailToPhones(sealed)],
        (doc) => ({ ...doc, announcedSeq: seq }),
      )
      await pushClipNotice(this.pushContext(), { ...clip, cameraName, clipId, thumbnail: thumbnail?.ref })
      return { clipId, blobId: sealedClip.ref.blobId as BlobId }
    })
  }

  /**
   * The early notification: an object was recognised and the clip is still recording. Label, camera, time
   * and a picture reach the phones now; the clip follows with the same camera and motion start.
   */
  deliverSighting(sighting: SightingToDeliver): Promise<void> {
    return this.queue.run(async () => {
      if (this.doc.phones.length === 0) return
      const thumbnail = sighting.thumbnail ? await this.sealMediaLocked(sighting.thumbnail) : undefined
      const seq = (this.doc.announcedSeq ?? 0) + 1
      const message = await this.signLocked({
        kind: "sighting",
        seq,
        spaceId: this.spaceId,
        epoch: this.session.epoch.toString(),
        cameraId: sighting.cameraId,
        cameraName: this.cameraName(sighting.cameraId, sighting.cameraName),
        label: sighting.label,
        score: Math.min(1, Math.max(0, sighting.score)),
        at: Math.round(sighting.at),
        motionStartedAt: Math.round(sighting.motionStartedAt),
        ...(thumbnail ? { thumbnail: thumbnail.ref } : {}),
      })
      const sealed = await this.session.seal(message)
      await this.applyLocked(
        [...(thumbnail ? [thumbnail.entry] : []), ...this.mailToPhones(sealed)],
        (doc) => ({ ...doc, announcedSeq: seq }),
      )
    })
  }

  /** Encrypts media under a key exported from the current epoch and writes it for upload. Inside the queue. */
  private async sealMediaLocked(bytes: Uint8Array, id = toHex(randomBytes(16)) as ClipId) {
    const { clipKey, epoch } = await exportClipKey(this.session, id, nodeAead)
    const blob = await encryptClip(clipKey, bytes)
    const blobId = toHex(await sha256(blob))
    const path = join(this.opts.dataDir, "outgoing", `${blobId}.vclip`)
    await writeFileAtomic(path, blob)
    return {
      ref: { clipId: id, blobId, size: blob.length },
      recordHashes: await clipRecordHashes(blob),
      epoch,
      entry: { kind: "blob", blobId, path } as NewOutboxEntry,
    }
  }

  private signLocked(message: HubMessage): Promise<Uint8Array> {
    return signHubMessage(
      message,
      this.session.groupId,
      this.session.signaturePrivateKey,
      this.session.signature,
    )
  }

  private kickFlush() {
    void this.flush()
  }

  /**
   * Delivers the outbox in order within each lane (outboxLanes.ts); an entry leaves the outbox only once
   * signal accepted it. A lane that fails waits on its own backoff; the others go on.
   */
  private async flush(): Promise<void> {
    if (this.flushing) {
      this.flushAgain = true
      return
    }
    this.flushing = true
    try {
      let delivered: boolean
      do {
        this.flushAgain = false
        // Another pass after any delivery: a revoke that got through frees its device's held-back mail.
        delivered = await this.deliverPass()
      } while ((this.flushAgain || delivered) && !this.stopped && this.doc.outbox.length > 0)
    } catch (err) {
      // Saving the shortened outbox failed (disk full, say): the entry stays and is delivered again
      // (every entry is idempotent at signal or for the phones). Never an unhandled rejection.
      this.log.error({ err: describe(err) }, "could not save the outbox; retrying")
      if (!this.stopped) this.lanes.failed(saveLane, "signal", Date.now())
    } finally {
      this.flushing = false
    }
    if (this.stopped) return
    this.lanes.prune(this.doc.outbox)
    this.resolveDrained()
    this.scheduleRetry()
  }

  /** One pass over the outbox: every entry whose lane is free is tried once, in order. True if one left. */
  private async deliverPass(): Promise<boolean> {
    const blocks = new PassBlocks()
    let delivered = false
    for (const entry of [...this.doc.outbox]) {
      if (this.stopped) return delivered // closing: the entry stays in the saved outbox, goes out next start
      const lane = laneOf(entry)
      // A revoke does not wait out its lane's backoff: a full mailbox must not delay a removal.
      const backingOff = entry.kind !== "revoke" && this.lanes.waiting(lane, Date.now())
      if (blocks.mustWait(entry) || backingOff) {
        blocks.holdBack(entry)
        continue
      }
      const outcome = await this.deliver(entry)
      if (this.stopped) return delivered
      if (outcome.kind === "retry") {
        const parkAfter = this.opts.outboxParkAfterMs ?? 7 * 24 * 3600_000
        const stuckFor = Date.now() - (entry.queuedAt ?? Date.now())
        if (!(outcome.stall === "recipient" && entry.kind === "mail" && stuckFor > parkAfter)) {
          this.lanes.failed(lane, outcome.stall, Date.now())
          blocks.holdBack(entry)
          continue
        }
        // Refused for days: the phone is gone or hostile. It rejoins if it comes back (it missed commits).
        this.log.warn({ to: entry.to, stuckForMs: stuckFor }, "a phone refused its mail for too long; parked")
      } else {
        this.lanes.succeeded(lane)
      }
      await this.queue.run(async () => {
        const next = { ...this.doc, outbox: this.doc.outbox.filter((e) => e.id !== entry.id) }
        await this.store.commit({ put: { hub: next } })
        this.doc = next
      })
      delivered = true
      this.resolveDrained()
    }
    this.lanes.succeeded(saveLane)
    return delivered
  }

  /** Wakes the next pass when the earliest waiting lane may be tried again. */
  private scheduleRetry() {
    if (this.retryTimer) clearTimeout(this.retryTimer)
    this.retryTimer = undefined
    const at = this.lanes.nextRetryAt()
    if (at === undefined || this.doc.outbox.length === 0) return
    this.retryTimer = setTimeout(
      () => {
        this.retryTimer = undefined
        void this.flush()
      },
      Math.max(0, at - Date.now()),
    )
    this.retryTimer.unref()
  }

  private async deliver(
    entry: OutboxEntry,
  ): Promise<{ kind: "done" } | { kind: "retry"; stall: "recipient" | "signal" }> {
    try {
      switch (entry.kind) {
        case "grant":
          await this.client.addMember(this.spaceId, entry.deviceId)
          break
        case "revoke":
          await this.client.removeMember(this.spaceId, entry.deviceId)
          break
        case "blob": {
          let bytes: Uint8Array
          try {
            bytes = await readFile(entry.path)
          } catch (err) {
            this.log.error({ err: describe(err), blobId: entry.blobId }, "encrypted clip missing from disk")
            return { kind: "done" }
          }
          await this.uploadBlob(entry.blobId, bytes)
          await this.keepLocally(entry.path, entry.blobId)
          break
        }
        case "mail":
          await this.client.sendToMailbox(entry.to, fromBase64(entry.body))
          break
      }
      return { kind: "done" }
    } catch (err) {
      if (err instanceof SignalError && err.status >= 400 && err.status < 500 && err.status !== 429) {
        // Permanent refusal (e.g. the device was removed): keeping it would block everything behind it.
        this.log.warn({ err: describe(err), kind: entry.kind }, "signal refused an outbox entry; dropped")
        return { kind: "done" }
      }
      if (err instanceof SignalError && err.code === "MAILBOX_FULL") {
        this.log.warn(
          { to: entry.kind === "mail" ? entry.to : undefined },
          "a phone's mailbox is full; its mail waits",
        )
        return { kind: "retry", stall: "recipient" }
      }
      this.log.warn({ err: describe(err), kind: entry.kind }, "signal unreachable; will retry")
      return { kind: "retry", stall: "signal" }
    }
  }

  /**
   * Uploads a sealed clip or picture. A full space at signal (413 QUOTA_EXCEEDED) makes room by deleting
   * the hub's oldest blobs there, never by dropping the new one: the newest clip is the one that matters
   * (issue 14 finding 14). Blobs past the retention are deleted at most once an hour, after an upload.
   */
  private async uploadBlob(blobId: string, bytes: Uint8Array) {
    // The phones it is for: when every one of them has deleted it, signal deletes it (a phone's delete only
    // withdraws its own claim; the hub's retention deletes the rest).
    const phones = this.doc.phones.map((p) => p.deviceId)
    const recipients = phones.length > 0 ? { recipients: phones } : {}
    try {
      await this.client.putBlob(this.spaceId, blobId, bytes, recipients)
    } catch (err) {
      if (!(err instanceof SignalError && err.code === "QUOTA_EXCEEDED")) throw err
      await this.deleteRelayBlobs({ needBytes: bytes.length })
      await this.client.putBlob(this.spaceId, blobId, bytes, recipients)
    }
    if (Date.now() - this.relayPrunedAt > 3600_000) {
      this.relayPrunedAt = Date.now()
      await this.deleteRelayBlobs({}).catch((err: unknown) =>
        this.log.warn({ err: describe(err) }, "could not delete old clips at signal"),
      )
    }
  }

  /**
   * Deletes, oldest first, the space's blobs at signal older than the retention, and as many more as it
   * takes to free `needBytes` under the quota. Only the hub may delete for everyone (phones drop their own
   * claim only), so this is what keeps the relay's quota from refusing new clips.
   */
  private async deleteRelayBlobs(options: { needBytes?: number }) {
    const retentionMs = this.opts.relayRetentionMs ?? 30 * 24 * 3600_000
    let cursor: string | undefined
    let deleted = 0
    let free: number | undefined
    for (let page = 0; page < 100; page++) {
      const listed = await this.client.listBlobs(this.spaceId, { cursor, limit: 100 })
      free ??= listed.quotaBytes - listed.usedBytes
      for (const blob of listed.blobs) {
        const old = Date.now() - blob.createdAt > retentionMs
        const short = options.needBytes !== undefined && free < options.needBytes
        if (!old && !short) {
          if (deleted > 0) this.log.info({ deleted }, "deleted old clips at signal")
          return
        }
        await this.client.deleteBlob(this.spaceId, blob.blobId).catch((err: unknown) => {
          if (!(err instanceof SignalError && err.status === 404)) throw err
        })
        free += blob.size
        deleted++
      }
      if (listed.nextCursor === null) break
      cursor = listed.nextCursor
    }
    if (deleted > 0) this.log.info({ deleted }, "deleted old clips at signal")
  }

  /**
   * Uploaded media stays on the hub too (still encrypted), so the relay's retention is not the only copy:
   * kept under a byte quota and a maximum age, oldest removed first.
   */
  private async keepLocally(path: string, blobId: string) {
    const dir = join(this.opts.dataDir, "clips")
    await mkdir(dir, { recursive: true })
    await rename(path, join(dir, `${blobId}.vclip`))
    const quota = this.opts.localQuotaBytes ?? 2 * 1024 ** 3
    const maxAge = this.opts.localRetentionMs ?? 30 * 24 * 3600_000
    const files = await Promise.all(
      (await readdir(dir)).map(async (name) => ({ path: join(dir, name), ...(await stat(join(dir, name))) })),
    )
    files.sort((a, b) => a.mtimeMs - b.mtimeMs)
    let total = files.reduce((sum, f) => sum + f.size, 0)
    for (const f of files) {
      if (total <= quota && Date.now() - f.mtimeMs <= maxAge) break
      await rm(f.path, { force: true })
      total -= f.size
    }
  }

  /**
   * Resolves once everything queued so far has been delivered, except mail waiting for a phone whose
   * mailbox is full: that phone's trouble must not hold up the others (the push after a clip, say).
   */
  drained(): Promise<void> {
    const upTo = this.doc.nextOutboxId - 1
    if (this.isDrained(upTo)) return Promise.resolve()
    return new Promise((resolve) => this.drainedWaiters.push({ upTo, resolve }))
  }

  private isDrained(upTo: number): boolean {
    return this.doc.outbox.every(
      (e) => e.id > upTo || (e.kind === "mail" && this.lanes.stalledByRecipient(laneOf(e))),
    )
  }

  private resolveDrained() {
    this.drainedWaiters = this.drainedWaiters.filter((w) => {
      if (!this.isDrained(w.upTo)) return true
      w.resolve()
      return false
    })
  }

  async close(): Promise<void> {
    this.stopped = true
    this.inboxAbort.abort()
    this.discoveryAbort.abort()
    if (this.rotateTimer) clearInterval(this.rotateTimer)
    if (this.retryTimer) clearTimeout(this.retryTimer)
    await this.queue.run(async () => {})
  }
}

function describe(err: unknown): string {
  if (err instanceof VigilError || err instanceof SignalError) return `${err.code}: ${err.message}`
  return err instanceof Error ? err.message : String(err)
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
