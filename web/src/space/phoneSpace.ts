import {
  CryptoError,
  ProtocolStateError,
  SignalClient,
  SpaceSession,
  VigilError,
  createJoinRequest,
  createPendingJoin,
  createRejoinRequest,
  defaultSuiteName,
  supportedSuites,
  loadSuite,
  pendingSignatureKeys,
  decryptClip,
  equalBytes,
  exportClipKey,
  exportFrameKey,
  fromBase64,
  fromBase64Url,
  importClipKey,
  mlsWireformat,
  claimedEpoch,
  openDeviceRoster,
  encodeDiscoveryRoomMessage,
  isPairingNoticeBytes,
  encodeJoinLink,
  newDiscoveryRoomId,
  isSealedPairingNoticeBytes,
  openSealedPairingNotice,
  signPairingApproval,
  openSignedHubMessage,
  peekEnvelopeKind,
  signDeviceRequest,
  pairingRoomId,
  SerialQueue,
  SignalError,
  signLiveRequest,
  sha256,
  toBase64,
  toHex,
  type CameraId,
  type ClipId,
  type ClipKey,
  type DeviceId,
  type DeviceRequest,
  type DeviceRoster,
  type PairingNotice,
  type FrameKey,
  type IceServerConfig,
  type Invite,
  type LiveAnswer,
  type LiveRefused,
  type LiveRequest,
  type SpaceId,
  type TrustPolicy,
} from "@vigil/protocol"
import type { DeviceRecord, EventRecord, HeldRecord, LocalStore, SpaceRecord } from "../store/db.ts"

export type SpaceStatus =
  | { kind: "waiting-for-hub" }
  | { kind: "repairing"; reason: string }
  | { kind: "paired" }
  | { kind: "offline"; reason: string }
  | { kind: "removed" }

/** The provisional event of a sighting; the clip of the same camera and motion start replaces it. */
const sightingId = (cameraId: string, motionStartedAt: number) => `s-${cameraId}-${motionStartedAt}`

export interface PhoneSpaceOptions {
  /** How often the phone refreshes its leaf keys (post-compromise security). Default 24 hours. */
  keyRefreshMs?: number
  /**
   * How long messages claiming a later epoch may wait, with nothing authenticated arriving after them,
   * before the phone asks the hub to let it back in (it keeps its group until the hub's Welcome). Default 60 s.
   */
  stuckAfterMs?: number
  /**
   * After how long without any authenticated message from the hub the app says so. The hub commits a new
   * epoch at least hourly, so silence beyond two of those means it is off, or its messages are withheld.
   * Default 2 h 15 min.
   */
  silentAfterMs?: number
}

/**
 * What the phone can tell about the hub's messages reaching it (issue 14, finding 5): the relay can drop
 * or hold back messages, but not without the phone noticing a skipped number or a long silence.
 */
export interface HubNews {
  /** Set when nothing authenticated came from the hub for `silentAfterMs`: since when (ms). */
  silentSince?: number
  /** Clip announcements and sightings whose numbers were skipped. */
  missing: number
}

/** An event's clip at signal: its URL, the request headers, and the key of its records. */
export interface ClipSource {
  url: string
  headers: Record<string, string>
  /** SHA-256 (hex) of the whole stored blob, as the hub announced it. */
  blobId: string
  /** The blob's size in bytes, as the hub signed it: a download stops past it. */
  size: number
  /** The hub-signed SHA-256 of each record, when the announcement listed them. */
  recordHashes?: Uint8Array
  key: ClipKey
}

/** What the hub said about a live session this phone asked for (web/src/features/live). */
export type LiveReply =
  | { kind: "live-answer"; answer: LiveAnswer; frameKey: FrameKey }
  | { kind: "live-refused"; refused: LiveRefused }

const defaultKeyRefreshMs = 24 * 3600_000
/** A refresh request that got no Welcome is sent again after this long. */
const refreshRetryMs = 10 * 60_000
const defaultStuckAfterMs = 60_000
const defaultSilentAfterMs = 135 * 60_000
/** Bounds of the held messages (finding 2): a forger fills them, never more. */
const maxHeldMessages = 32
const maxHeldBytes = 64 * 1024

/**
 * This phone's membership in one camera space: it pairs, follows the hub's MLS epochs through its signal
 * mailbox, records the clips the hub announces, and downloads and decrypts them on demand.
 */
export class PhoneSpace {
  private session: SpaceSession | undefined
  private captured: Uint8Array | undefined
  private stopped = false
  private readonly abort = new AbortController()
  private readonly client: SignalClient
  status: SpaceStatus
  /** Messages that could not be used (kept for the UI and tests; the last 20). */
  problems: string[] = []
  private joinedNow = false
  /** One MLS operation and its save at a time: the mailbox loop and live requests share the session. */
  private readonly ops = new SerialQueue()
  private liveListener: ((reply: LiveReply) => void) | undefined
  /** The hub's last roster (names of the phones), kept in memory for the Devices screen. */
  private roster: DeviceRoster | undefined
  /** A new phone waiting to be paired, which this phone's user may approve (hub-signed notice). */
  pairingNotice: PairingNotice | undefined
  /** Messages claiming a later epoch, oldest first (saved as the `held` record when they change). */
  private held: HeldRecord["messages"] = []
  private heldChanged = false
  private rejoinSentAt = 0
  /** Until a first authenticated message is recorded (records from before `heardAt` existed). */
  private readonly loadedAt = Date.now()

  private constructor(
    private readonly store: LocalStore,
    private readonly device: DeviceRecord,
    private space: SpaceRecord,
    private readonly onChange: () => void,
    private readonly options: PhoneSpaceOptions = {},
  ) {
    this.client = new SignalClient({ baseUrl: device.signalUrl, token: device.token })
    this.status = { kind: "waiting-for-hub" }
  }

  get hubName(): string {
    return this.space.hubName
  }

  get deviceId(): string {
    return this.device.deviceId
  }

  /** The hub's key is pinned from the invite; phones are vouched for by the hub that added them. */
  private readonly trust: TrustPolicy = (identity, key) =>
    identity.role === "phone" || equalBytes(key, fromBase64(this.space.hubKey))

  private hooks() {
    return { trust: this.trust, persist: async (state: Uint8Array) => void (this.captured = state) }
  }

  /** Loads the paired space saved on this device, if any. */
  static async load(
    store: LocalStore,
    onChange: () => void,
    options?: PhoneSpaceOptions,
  ): Promise<PhoneSpace | undefined> {
    const [device, space] = await Promise.all([store.get("device"), store.get("space")])
    if (!device || !space) return undefined
    const phone = new PhoneSpace(store, device, space, onChange, options)
    const [group, pending, held] = await Promise.all([
      store.get("group"),
      store.get("pending"),
      store.get("held"),
    ])
    phone.held = held?.messages ?? []
    if (group) {
      try {
        phone.session = await SpaceSession.restore(fromBase64(group), phone.hooks())
        // A phone removed by the hub keeps the state of the commit that removed it: no leaf of its own.
        const member = phone.session.members().some((m) => m.identity.deviceId === device.deviceId)
        phone.status = member ? { kind: "paired" } : { kind: "removed" }
      } catch (err) {
        if (!(err instanceof VigilError)) throw err
        await phone.requestRejoin("the saved group state is damaged")
      }
    } else if (!pending) {
      await phone.requestRejoin("the group state is missing")
    }
    return phone
  }

  /**
   * Starts pairing from an invite: registers this device at the hub's signal server, and posts a join
   * request that only a holder of the invite could have made. The hub answers with a Welcome in our mailbox.
   */
  static async pair(
    store: LocalStore,
    invite: Invite,
    onChange: () => void,
    options?: PhoneSpaceOptions,
    /**
     * Pairing replaces the phone's current home (its device, keys and group): only after the user chose so
     * on a screen that named both (web/src/features/pairing/replacePairingDialog.ts). Issue 14, finding 4.
     */
    { replace = false }: { replace?: boolean } = {},
  ): Promise<PhoneSpace> {
    const current = await store.get("space")
    if (current && !replace) {
      throw new ProtocolStateError(
        "ALREADY_PAIRED",
        `this phone is paired with ${current.hubName}; replacing it needs the user's choice`,
      )
    }
    const registered = await new SignalClient({ baseUrl: invite.signal }).registerDevice("phone")
    const pending = await createPendingJoin(
      { role: "phone", deviceId: registered.deviceId as DeviceId },
      invite.suite,
    )
    const keys = pendingSignatureKeys(pending)
    const device: DeviceRecord = {
      signalUrl: invite.signal,
      deviceId: registered.deviceId,
      token: registered.token,
      signPublicKey: toBase64(keys.publicKey),
      signKey: toBase64(keys.signKey),
    }
    const space: SpaceRecord = {
      spaceId: invite.spaceId,
      hubDeviceId: invite.hubDeviceId,
      hubName: invite.hubName,
      hubKey: toBase64(invite.hubKey),
      suite: invite.suite,
      after: 0,
    }
    await store.commit({
      put: {
        device,
        space,
        pending: {
          keyPackage: toBase64(pending.keyPackage),
          privatePackage: toBase64(pending.privatePackage),
          spaceId: invite.spaceId,
        },
      },
      remove: ["group", "held"],
    })
    const authed = new SignalClient({ baseUrl: invite.signal, token: registered.token })
    const request = await createJoinRequest(invite.secret, {
      deviceId: registered.deviceId as DeviceId,
      keyPackage: pending.keyPackage,
    })
    await authed.postToRoom(await pairingRoomId(invite.secret), request)
    return new PhoneSpace(store, device, space, onChange, options)
  }

  /** Follows the mailbox until stopped: long-polls, processes in order, saves, then acknowledges. */
  async run(): Promise<void> {
    let backoff = 1000
    while (!this.stopped && this.status.kind !== "removed") {
      try {
        const messages = await this.client.fetchMailbox(this.space.after, 25_000, {
          signal: this.abort.signal,
        })
        if (this.stopped) return
        for (const m of messages) await this.process(m.seq, m.body)
        if (messages.length > 0) await this.client.ackMailbox(this.space.after)
        await this.rejoinIfStuck()
        await this.refreshIfDue()
        if (this.status.kind === "offline")
          this.status = this.session ? { kind: "paired" } : { kind: "waiting-for-hub" }
        backoff = 1000
        this.onChange()
      } catch (err) {
        if (this.stopped) return
        this.status = { kind: "offline", reason: err instanceof Error ? err.message : String(err) }
        this.onChange()
        await new Promise((r) => setTimeout(r, backoff))
        backoff = Math.min(backoff * 2, 30_000)
      }
    }
  }

  stop() {
    this.stopped = true
    this.abort.abort()
  }

  private process(seq: number, body: Uint8Array): Promise<void> {
    return this.ops.run(() => this.processLocked(seq, body))
  }

  private async processLocked(seq: number, body: Uint8Array): Promise<void> {
    const events: EventRecord[] = []
    await this.processOne(seq, body, events)
    await this.releaseHeld(events)
    this.space = { ...this.space, after: seq }
    await this.store.commit({
      put: {
        space: this.space,
        ...(this.captured ? { group: toBase64(this.captured) } : {}),
        ...(this.heldChanged ? { held: { messages: this.held } } : {}),
      },
      ...(this.joinedNow ? { remove: ["pending" as const] } : {}),
      events,
      removeEvents: events
        .filter((e) => !e.pending && e.motionStartedAt !== undefined)
        .map((e) => sightingId(e.cameraId, e.motionStartedAt!)),
    })
    this.captured = undefined
    this.joinedNow = false
    this.heldChanged = false
  }

  /** One mailbox message (or a held one, again); what it revealed goes into `events`. */
  private async processOne(seq: number, body: Uint8Array, events: EventRecord[]): Promise<void> {
    try {
      if (isPairingNoticeBytes(body)) {
        // Hubs before issue 14 (finding 13) mailed notices unsealed: the relay could read and replay them.
        throw new VigilError("UNEXPECTED_MESSAGE", "unsealed pairing notice refused")
      }
      const wireformat = isSealedPairingNoticeBytes(body) ? undefined : mlsWireformat(body)
      if (wireformat === undefined) await this.readPairingNotice(body)
      else if (wireformat === "mls_welcome") await this.join(body)
      else if (wireformat === "mls_private_message") {
        const event = await this.openPrivate(body)
        if (event) events.push(event)
      } else throw new VigilError("UNEXPECTED_MESSAGE", `unexpected ${wireformat} in the mailbox`)
      if (wireformat !== undefined) this.markVerified(seq)
    } catch (err) {
      // A message we cannot use is skipped, never retried forever; the MLS layer refuses replays anyway.
      if (!(err instanceof VigilError)) throw err
      if (err.code === "EPOCH_AHEAD") {
        this.hold(seq, body)
        return
      }
      this.noteProblem(`message ${seq} skipped: ${err.code}: ${err.message}`)
    }
  }

  private noteProblem(problem: string) {
    this.problems = [...this.problems.slice(-19), problem]
  }

  /** MLS authenticated this message (or it was the Welcome we joined from): the hub is still in step. */
  private markVerified(seq: number) {
    // A rejoin asked for on a hint that authenticated traffic now contradicts: the group is fine as it is.
    if (this.status.kind === "repairing" && this.session) this.status = { kind: "paired" }
    this.space = {
      ...this.space,
      verifiedSeq: Math.max(seq, this.space.verifiedSeq ?? 0),
      heardAt: Date.now(),
    }
  }

  /**
   * Keeps a message whose header claims a later epoch: its commit may still come (out of order, or from a
   * held message). Bounded: a forger can fill the buffer and push out older held messages, nothing else.
   */
  private hold(seq: number, body: Uint8Array) {
    if (body.length > maxHeldBytes) {
      this.noteProblem(`message ${seq} skipped: EPOCH_AHEAD: too large to keep`)
      return
    }
    const epoch = claimedEpoch(body)
    if (epoch === undefined) return
    const dropped = this.held.length >= maxHeldMessages ? this.held[0] : undefined
    this.held = [
      ...this.held.slice(dropped ? 1 : 0),
      { seq, body: toBase64(body), epoch: epoch.toString(), heldAt: Date.now() },
    ]
    this.heldChanged = true
    if (dropped) this.noteProblem(`message ${dropped.seq} skipped: EPOCH_AHEAD: held too long`)
    this.noteProblem(`message ${seq} held: EPOCH_AHEAD: claims epoch ${epoch}`)
  }

  /** Retries, oldest first, the held messages whose epoch the session has now reached. */
  private async releaseHeld(events: EventRecord[]) {
    // Each turn takes one message out; a bounded loop all the same, whatever processing puts back.
    for (let turn = 0; turn <= maxHeldMessages; turn++) {
      const session = this.session
      if (!session) return
      const ready = this.held.find((m) => BigInt(m.epoch) <= session.epoch)
      if (!ready) return
      this.held = this.held.filter((m) => m !== ready)
      this.heldChanged = true
      await this.processOne(ready.seq, fromBase64(ready.body), events)
    }
  }

  /**
   * A phone that really missed a commit sees only messages it cannot place, and nothing authenticated
   * after them. When that has lasted `stuckAfterMs`, it asks the hub to re-add it — as a key refresh: the
   * current group stays in use (and saved) until a Welcome signed by the pinned hub key replaces it, so a
   * forged hint costs at most one request per `refreshRetryMs` and never the group.
   */
  private async rejoinIfStuck() {
    if (!this.session || this.status.kind === "removed") return
    const unplaced = this.held.filter((m) => m.seq > (this.space.verifiedSeq ?? 0))
    if (unplaced.length === 0) return
    const now = Date.now()
    const since = Math.min(...unplaced.map((m) => m.heldAt))
    if (now - since < (this.options.stuckAfterMs ?? defaultStuckAfterMs)) return
    if (now - this.rejoinSentAt < refreshRetryMs) return
    this.rejoinSentAt = now
    this.status = { kind: "repairing", reason: "a commit from the hub was missed" }
    this.onChange()
    await this.sendFreshKeys({ refresh: true })
  }

  /**
   * Asks the hub to re-add this phone after a desync: a fresh key package under the same signature key, in
   * a request signed with it. The hub answers with a Welcome; clips sent while out of sync stay unreadable
   * (their epochs' keys are gone, by design).
   */
  async requestRejoin(reason: string): Promise<void> {
    this.session = undefined
    this.captured = undefined
    this.status = { kind: "repairing", reason }
    await this.sendFreshKeys({ refresh: false })
    this.onChange()
  }

  private refreshSentAt = 0

  private async refreshIfDue() {
    const every = this.options.keyRefreshMs ?? defaultKeyRefreshMs
    const now = Date.now()
    if (
      !this.session ||
      now - (this.space.keysFreshAt ?? 0) < every ||
      now - this.refreshSentAt < refreshRetryMs
    ) {
      return
    }
    this.refreshSentAt = now
    await this.refreshKeys()
  }

  /**
   * Post-compromise security for the phone's leaf: the same request as a rejoin (fresh HPKE keys, same
   * signature key), but the current session stays in use until the hub's new Welcome replaces it, so no clip
   * is missed. ts-mls 1.6 cannot author MLS Update proposals, so this re-add is how phones refresh.
   */
  async refreshKeys(): Promise<void> {
    if (!this.session) return
    await this.sendFreshKeys({ refresh: true })
  }

  private async sendFreshKeys({ refresh }: { refresh: boolean }) {
    const keys = {
      publicKey: fromBase64(this.device.signPublicKey),
      signKey: fromBase64(this.device.signKey),
    }
    const deviceId = this.device.deviceId as DeviceId
    const suite = supportedSuites.find((x) => x === this.space.suite) ?? defaultSuiteName
    const pending = await createPendingJoin({ role: "phone", deviceId }, suite, keys)
    const request = await createRejoinRequest(
      {
        deviceId,
        spaceId: this.space.spaceId as SpaceId,
        keyPackage: pending.keyPackage,
        issuedAt: Date.now(),
      },
      keys.signKey,
      (await loadSuite(suite)).signature,
    )
    await this.store.commit({
      put: {
        pending: {
          keyPackage: toBase64(pending.keyPackage),
          privatePackage: toBase64(pending.privatePackage),
          spaceId: this.space.spaceId,
          refresh,
        },
      },
      ...(refresh ? {} : { remove: ["group" as const] }),
    })
    await this.client.sendToMailbox(this.space.hubDeviceId, request)
  }

  private async join(welcome: Uint8Array) {
    const pending = await this.store.get("pending")
    if (!pending) throw new VigilError("UNEXPECTED_MESSAGE", "Welcome without a pending pairing")
    if (this.session && !pending.refresh) {
      throw new VigilError("UNEXPECTED_MESSAGE", "already a member; Welcome ignored")
    }
    const session = await SpaceSession.join({
      welcome,
      pending: {
        keyPackage: fromBase64(pending.keyPackage),
        privatePackage: fromBase64(pending.privatePackage),
      },
      ...this.hooks(),
      // Only the hub adds phones: a Welcome signed by any other member is a fork (issue 14, finding 11).
      signer: fromBase64(this.space.hubKey),
    })
    const hub = session.members().find((m) => m.identity.role === "hub")
    if (!hub || !equalBytes(hub.signaturePublicKey, fromBase64(this.space.hubKey))) {
      this.captured = undefined
      throw new CryptoError("UNTRUSTED_CREDENTIAL", "the Welcome is not from the hub we paired with")
    }
    if (toHex(session.groupId) !== this.space.spaceId) {
      this.captured = undefined
      throw new CryptoError("UNTRUSTED_CREDENTIAL", "the Welcome is for another camera space")
    }
    this.session = session
    this.joinedNow = true
    this.space = { ...this.space, keysFreshAt: Date.now() }
    this.status = { kind: "paired" }
    // Held messages from before the epoch we joined at can never be opened now.
    const kept = this.held.filter((m) => BigInt(m.epoch) >= session.epoch)
    if (kept.length !== this.held.length) {
      this.held = kept
      this.heldChanged = true
    }
  }

  private hubLeafIndex(session: SpaceSession): number {
    const hub = session.members().find((m) => m.identity.role === "hub")
    if (!hub) throw new CryptoError("UNTRUSTED_CREDENTIAL", "no hub in the group")
    return hub.leafIndex
  }

  /** The ICE servers signal's operator configured for WebRTC (none by default). */
  getIceServers(): Promise<IceServerConfig[]> {
    return this.client.getIceServers()
  }

  /** Where the hub's live answers for this phone go (one live view at a time). */
  onLiveReply(listener: ((reply: LiveReply) => void) | undefined): void {
    this.liveListener = listener
  }

  /**
   * Sends the hub a live request: signed with this device's key, sealed as an MLS application message, and
   * mailed to the hub. The new session state is saved before anything leaves the phone.
   */
  sendLiveRequest(request: LiveRequest): Promise<void> {
    return this.sendSignedToHub((session, signKey) =>
      signLiveRequest(request, session.groupId, signKey, session.signature),
    )
  }

  /**
   * Signs with this device's key (`sign`), seals the result as an MLS application message, saves the new
   * session state, and only then mails it to the hub.
   */
  private sendSignedToHub(
    sign: (session: SpaceSession, signKey: Uint8Array) => Promise<Uint8Array>,
  ): Promise<void> {
    return this.ops.run(async () => {
      const session = this.session
      if (!session) throw new VigilError("UNEXPECTED_MESSAGE", "not paired yet")
      const sealed = await session.seal(await sign(session, fromBase64(this.device.signKey)))
      await this.store.commit({ put: { group: toBase64(this.captured ?? session.encode()) } })
      this.captured = undefined
      await this.client.sendToMailbox(this.space.hubDeviceId, sealed)
    })
  }

  /** A hub-signed notice that a new phone waits; kept (in memory) until answered or expired. */
  private async readPairingNotice(body: Uint8Array) {
    const session = this.session
    if (!session) throw new VigilError("UNEXPECTED_MESSAGE", "pairing notice before the Welcome")
    const notice = await openSealedPairingNotice(
      body,
      session,
      fromBase64(this.space.hubKey),
      session.signature,
    )
    if (notice.spaceId !== this.space.spaceId)
      throw new CryptoError("UNTRUSTED_CREDENTIAL", "pairing notice for another space")
    this.pairingNotice = notice
  }

  /** The notice still worth showing: not answered, not expired, and the new phone not yet a member. */
  get pendingPairing(): PairingNotice | undefined {
    const n = this.pairingNotice
    if (!n || n.expiresAt < Date.now()) return undefined
    if (this.session?.members().some((m) => m.identity.deviceId === n.deviceId)) return undefined
    return n
  }

  /**
   * This phone's user compared the code with the new phone's screen: a signed approval (or refusal) goes
   * into the pairing room, where the hub takes it in place of the "y" at its terminal.
   */
  async answerPairing(approve: boolean): Promise<void> {
    const notice = this.pairingNotice
    const session = this.session
    if (!notice || !session) return
    this.pairingNotice = undefined
    const deviceId = this.device.deviceId as DeviceId
    const signed = await signPairingApproval(
      { kind: "pairing-approve", deviceId, target: notice.deviceId, code: notice.code, approve },
      session.groupId,
      fromBase64(this.device.signKey),
      session.signature,
    )
    await this.client.postToRoom(
      notice.roomId,
      encodeDiscoveryRoomMessage({ kind: "approve", deviceId, signed }),
    )
  }

  /**
   * The phones of this space as this phone's own MLS ratchet tree lists them (the authority on who can read
   * new clips), with the names from the hub's roster when one arrived.
   */
  devices(): { deviceId: string; name: string | undefined; self: boolean; pairedAt: number | undefined }[] {
    if (!this.session) return []
    return this.session
      .members()
      .filter((m) => m.identity.role === "phone")
      .map((m) => {
        const known = this.roster?.devices.find((d) => d.deviceId === m.identity.deviceId)
        return {
          deviceId: m.identity.deviceId,
          name: known?.name,
          self: m.identity.deviceId === this.device.deviceId,
          pairedAt: known?.pairedAt,
        }
      })
  }

  /** The hub's cameras with their current names, from its last roster (none before one arrived). */
  cameras(): { id: string; name: string }[] {
    return this.roster?.cameras ?? []
  }

  /**
   * Asks the hub to rename a camera for every phone (a signed request; the hub answers all phones with a new
   * roster, and announces later clips under the new name).
   */
  renameCamera(cameraId: string, name: string): Promise<void> {
    return this.sendDeviceRequest({
      kind: "rename-camera",
      deviceId: this.device.deviceId as DeviceId,
      cameraId: cameraId as CameraId,
      name,
      issuedAt: this.nextIssuedAt(),
    })
  }

  /**
   * Invites another phone, wherever it is: picks a fresh room, asks the hub to watch it (a signed request),
   * and returns the join link's code to hand to the other phone. Its request then reaches this phone as a
   * pairing notice to approve after comparing the code (protocol/src/pairingDiscovery.ts, "join link").
   */
  async invitePhone(): Promise<string> {
    const roomId = newDiscoveryRoomId()
    await this.sendDeviceRequest({
      kind: "pairing-open",
      deviceId: this.device.deviceId as DeviceId,
      roomId,
      issuedAt: this.nextIssuedAt(),
    })
    return encodeJoinLink({
      roomId,
      name: this.space.hubName,
      hubDeviceId: this.space.hubDeviceId,
      suite: supportedSuites.find((x) => x === this.space.suite) ?? defaultSuiteName,
      // The hub watches for 15 minutes from when it reads the request; say a little less.
      expiresAt: Date.now() + 14 * 60_000,
    })
  }

  /** Asks the hub for the phones' names (answered with a roster in the mailbox). */
  requestRoster(): Promise<void> {
    return this.sendDeviceRequest({
      kind: "device-roster-request",
      deviceId: this.device.deviceId as DeviceId,
      issuedAt: this.nextIssuedAt(),
    })
  }

  private lastIssuedAt = 0
  /** Strictly increasing: the hub refuses a device request not later than the last one (replay guard). */
  private nextIssuedAt(): number {
    this.lastIssuedAt = Math.max(Date.now(), this.lastIssuedAt + 1)
    return this.lastIssuedAt
  }

  /** Asks the hub to remove a phone from the space (a signed request; the hub commits the removal). */
  removeDevice(target: string): Promise<void> {
    return this.sendDeviceRequest({
      kind: "device-remove",
      deviceId: this.device.deviceId as DeviceId,
      target: target as DeviceId,
      issuedAt: this.nextIssuedAt(),
    })
  }

  private sendDeviceRequest(request: DeviceRequest): Promise<void> {
    return this.sendSignedToHub((session, signKey) =>
      signDeviceRequest(request, session.groupId, signKey, session.signature),
    )
  }

  private async openPrivate(body: Uint8Array): Promise<EventRecord | undefined> {
    const session = this.session
    if (!session) throw new VigilError("UNEXPECTED_MESSAGE", "message before the Welcome")
    const incoming = await session.open(body, this.hubLeafIndex(session))
    if (incoming.kind === "commit") {
      if (incoming.removedSelf) this.status = { kind: "removed" }
      return undefined
    }
    if (peekEnvelopeKind(incoming.data) === "device-roster") {
      const roster = await openDeviceRoster(
        incoming.data,
        session.groupId,
        fromBase64(this.space.hubKey),
        session.signature,
      )
      if (roster.spaceId !== this.space.spaceId)
        throw new CryptoError("WRONG_SPACE", "roster for another space")
      // Bound to the epoch it was sealed in, like announcements (issue 14, finding 13).
      if (roster.epoch !== incoming.epoch.toString())
        throw new VigilError("EPOCH_MISMATCH", "roster signed for another epoch than it came in")
      this.roster = roster
      return undefined
    }
    const msg = await openSignedHubMessage(
      incoming.data,
      session.groupId,
      fromBase64(this.space.hubKey),
      session.signature,
    )
    if (msg.spaceId !== this.space.spaceId)
      throw new CryptoError("WRONG_SPACE", "clip announced for another space")
    if (msg.kind === "clip" || msg.kind === "sighting") this.noteAnnouncementSeq(msg.seq)
    if (msg.kind === "live-refused") {
      if (msg.to === this.device.deviceId) this.liveListener?.({ kind: "live-refused", refused: msg })
      return undefined
    }
    if (msg.kind === "live-answer") {
      if (msg.to !== this.device.deviceId) return undefined
      // Same rule as for clips: the key comes from the epoch the hub named, which must be ours right now.
      if (msg.epoch !== incoming.epoch.toString() || incoming.epoch !== session.epoch) {
        throw new VigilError("EPOCH_MISMATCH", "live answer outside the epoch its key comes from")
      }
      const frameKey = await exportFrameKey(session, msg.streamId)
      this.liveListener?.({ kind: "live-answer", answer: msg, frameKey })
      return undefined
    }
    if (msg.epoch !== incoming.epoch.toString() || incoming.epoch !== session.epoch) {
      throw new VigilError("EPOCH_MISMATCH", "media announced outside the epoch its key comes from")
    }
    const thumbnail = msg.thumbnail
      ? {
          ...msg.thumbnail,
          secret: toBase64((await exportClipKey(session, msg.thumbnail.clipId as ClipId)).secret),
        }
      : undefined
    if (msg.kind === "sighting") {
      return {
        id: sightingId(msg.cameraId, msg.motionStartedAt),
        pending: true,
        clipId: "",
        blobId: "",
        spaceId: msg.spaceId,
        size: 0,
        cameraId: msg.cameraId,
        cameraName: msg.cameraName,
        label: msg.label,
        startedAt: msg.motionStartedAt,
        endedAt: msg.at,
        motionStartedAt: msg.motionStartedAt,
        mimeType: "",
        secret: "",
        seen: false,
        ...(thumbnail ? { thumbnail } : {}),
      }
    }
    const { secret } = await exportClipKey(session, msg.clipId)
    return {
      id: msg.clipId,
      clipId: msg.clipId,
      blobId: msg.blobId,
      spaceId: msg.spaceId,
      size: msg.size,
      cameraId: msg.cameraId,
      cameraName: msg.cameraName,
      label: msg.label,
      startedAt: msg.startedAt,
      endedAt: msg.endedAt,
      mimeType: msg.mimeType,
      secret: toBase64(secret),
      seen: false,
      ...(msg.motionStartedAt !== undefined ? { motionStartedAt: msg.motionStartedAt } : {}),
      ...(thumbnail ? { thumbnail } : {}),
      ...(msg.detections ? { detections: msg.detections } : {}),
      ...(msg.recordHashes ? { recordHashes: msg.recordHashes } : {}),
    }
  }

  /** A skipped number is an announcement the relay withheld (or lost); a late one fills its gap again. */
  private noteAnnouncementSeq(seq: number | undefined) {
    if (seq === undefined) return
    const last = this.space.announcedSeq
    const missed = this.space.missedAnnouncements ?? 0
    if (last === undefined || seq > last) {
      const skipped = last === undefined ? 0 : seq - last - 1
      this.space = { ...this.space, announcedSeq: seq, missedAnnouncements: missed + skipped }
    } else if (seq < last && missed > 0) {
      this.space = { ...this.space, missedAnnouncements: missed - 1 }
    }
  }

  /** Whether the hub's messages are reaching this phone: for the notice above the timeline. */
  hubNews(now = Date.now()): HubNews {
    const heard = this.space.heardAt ?? this.loadedAt
    const silent = now - heard > (this.options.silentAfterMs ?? defaultSilentAfterMs)
    const paired = this.status.kind === "paired" || this.status.kind === "repairing"
    return {
      ...(silent && paired ? { silentSince: heard } : {}),
      missing: this.space.missedAnnouncements ?? 0,
    }
  }

  /** The user saw the notice about missing announcements. */
  dismissMissing(): Promise<void> {
    return this.ops.run(async () => {
      this.space = { ...this.space, missedAnnouncements: 0 }
      await this.store.commit({ put: { space: this.space } })
    })
  }

  /** Downloads and decrypts an event's picture (checked against the hub-signed blob id). */
  async loadThumbnail(event: EventRecord): Promise<Uint8Array | undefined> {
    if (!event.thumbnail) return undefined
    return this.fetchAndDecrypt(
      event.spaceId,
      event.thumbnail.blobId,
      event.thumbnail.size,
      event.thumbnail.clipId,
      event.thumbnail.secret,
    )
  }

  /** Downloads a clip, checks it is the blob the hub signed for, and decrypts it chunk by chunk. */
  async loadClip(event: EventRecord): Promise<Uint8Array> {
    if (event.pending)
      throw new VigilError("UNEXPECTED_MESSAGE", "the clip of this event is still being recorded")
    return this.fetchAndDecrypt(event.spaceId, event.blobId, event.size, event.clipId, event.secret)
  }

  /**
   * Where an event's clip is and the key to open it, for streaming playback (web/src/features/player):
   * the player fetches the records itself and verifies each one as it arrives.
   */
  async clipSource(event: EventRecord): Promise<ClipSource> {
    if (event.pending)
      throw new VigilError("UNEXPECTED_MESSAGE", "the clip of this event is still being recorded")
    const path = `/v1/spaces/${encodeURIComponent(event.spaceId)}/blobs/${encodeURIComponent(event.blobId)}`
    return {
      url: `${this.device.signalUrl.replace(/\/+$/, "")}${path}`,
      headers: { authorization: `Bearer ${this.device.token}` },
      blobId: event.blobId,
      size: event.size,
      ...(event.recordHashes ? { recordHashes: fromBase64Url(event.recordHashes) } : {}),
      key: await importClipKey(event.clipId as ClipId, fromBase64(event.secret)),
    }
  }

  /**
   * Withdraws this phone's claim on an event's clip and picture at signal; signal deletes them once every
   * phone they were for has (or the hub's retention does). Gone already is fine.
   */
  async deleteMedia(event: EventRecord): Promise<void> {
    for (const blobId of [event.blobId, event.thumbnail?.blobId]) {
      if (!blobId) continue
      try {
        await this.client.deleteBlob(event.spaceId, blobId)
      } catch (err) {
        if (!(err instanceof SignalError && err.status === 404)) throw err
      }
    }
  }

  /** `size` is the hub-signed blob size: the download is cancelled past it (issue 14, finding 15). */
  private async fetchAndDecrypt(
    spaceId: string,
    blobId: string,
    size: number,
    id: string,
    secret: string,
  ): Promise<Uint8Array> {
    const blob = await this.client.getBlob(spaceId, blobId, undefined, { maxBytes: size })
    if (toHex(await sha256(blob)) !== blobId) {
      throw new CryptoError("CLIP_NOT_ANNOUNCED", "the stored media is not what the hub announced")
    }
    return decryptClip(await importClipKey(id as ClipId, fromBase64(secret)), blob)
  }
}
