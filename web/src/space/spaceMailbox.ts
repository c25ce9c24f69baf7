/**
 * The phone's side of the space's MLS group: it follows the hub's epochs through the signal mailbox (in
 * order, each message and its effects saved in one commit before the mailbox is acknowledged), holds
 * messages from epochs it has not reached, asks to be let back in when it fell out of step, and refreshes
 * its leaf keys. Internal to web/src/space: the app uses the `PhoneSpace` facade.
 */
import {
  type RelayTransport,
  CryptoError,
  SerialQueue,
  SpaceSession,
  VigilError,
  equalBytes,
  fromBase64,
  classifyMailboxMessage,
  openSealedPairingNotice,
  toBase64,
  toHex,
  type DeviceRoster,
  type PairingNotice,
  type TrustPolicy,
} from "@vigil/protocol"
import type { DeviceRecord, EventRecord, LocalStore, SpaceRecord } from "../store/db.ts"
import { holdMessage, maxHeldMessages, nextReleasable, type HeldMessages } from "./heldMessages.ts"
import {
  countAnnouncement,
  readHubMessage,
  sightingId,
  withCameraStatus,
  type LiveReply,
} from "./hubMessages.ts"
import { sendRejoinRequest } from "./joinRequests.ts"
import { relayFor, type PhoneSpaceOptions, type SpaceStatus } from "./spaceStatus.ts"

const defaultKeyRefreshMs = 24 * 3600_000
/** A refresh request that got no Welcome is sent again after this long. */
const refreshRetryMs = 10 * 60_000
const defaultStuckAfterMs = 60_000

export class SpaceMailbox {
  session: SpaceSession | undefined
  private captured: Uint8Array | undefined
  private stopped = false
  private readonly abort = new AbortController()
  readonly client: RelayTransport
  status: SpaceStatus
  /** Messages that could not be used (kept for the UI and tests; the last 20). */
  problems: string[] = []
  private joinedNow = false
  /** One MLS operation and its save at a time: the mailbox loop and live requests share the session. */
  readonly ops = new SerialQueue()
  /** Live views waiting for the hub's answers (one per camera on screen: a grid has several). */
  readonly liveListeners = new Set<(reply: LiveReply) => void>()
  /**
   * The hub's last roster (names and roles of the phones, the cameras), for the Devices screen and the live
   * picker; saved with the space, so a reopened app knows its cameras and role before the hub speaks.
   */
  get roster(): DeviceRoster | undefined {
    return this.space.roster
  }
  /** A new phone waiting to be paired, which this phone's user may approve (hub-signed notice). */
  pairingNotice: PairingNotice | undefined
  /** Messages claiming a later epoch, oldest first (saved as the `held` record when they change). */
  private held: HeldMessages = []
  private heldChanged = false
  private rejoinSentAt = 0
  /** Until a first authenticated message is recorded (records from before `heardAt` existed). */
  readonly loadedAt = Date.now()

  constructor(
    readonly store: LocalStore,
    readonly device: DeviceRecord,
    public space: SpaceRecord,
    private readonly onChange: () => void,
    readonly options: PhoneSpaceOptions = {},
  ) {
    this.client = relayFor(options, device.signalUrl, device.token)
    this.status = { kind: "waiting-for-hub" }
  }

  /** The hub's key is pinned from the invite; phones are vouched for by the hub that added them. */
  private readonly trust: TrustPolicy = (identity, key) =>
    identity.role === "phone" || equalBytes(key, fromBase64(this.space.hubKey))

  private hooks() {
    return { trust: this.trust, persist: async (state: Uint8Array) => void (this.captured = state) }
  }

  /** Picks up the saved group (or asks the hub to let this phone back in when it is missing or damaged). */
  async restore(): Promise<void> {
    const { device, store } = this
    const [group, pending, held] = await Promise.all([
      store.get("group"),
      store.get("pending"),
      store.get("held"),
    ])
    this.held = held?.messages ?? []
    if (group) {
      try {
        this.session = await SpaceSession.restore(fromBase64(group), this.hooks())
        // A phone removed by the hub keeps the state of the commit that removed it: no leaf of its own.
        const member = this.session.members().some((m) => m.identity.deviceId === device.deviceId)
        this.status = member ? { kind: "paired" } : { kind: "removed" }
      } catch (err) {
        if (!(err instanceof VigilError)) throw err
        await this.requestRejoin("the saved group state is damaged")
      }
    } else if (!pending) {
      await this.requestRejoin("the group state is missing")
    }
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

  /** Resolves once the message or operation in progress, if any, is processed and saved. */
  settled(): Promise<void> {
    return this.ops.run(() => Promise.resolve())
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
      const message = classifyMailboxMessage(body)
      if (message.kind === "unsealed-pairing-notice") {
        // Hubs before issue 14 (finding 13) mailed notices unsealed: the relay could read and replay them.
        throw new VigilError("UNEXPECTED_MESSAGE", "unsealed pairing notice refused")
      }
      if (message.kind !== "mls" && message.kind !== "sealed-pairing-notice") {
        throw new VigilError("UNEXPECTED_MESSAGE", `unexpected ${message.kind} message in the mailbox`)
      }
      const wireformat = message.kind === "mls" ? message.wireformat : undefined
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

  /** Keeps a message whose header claims a later epoch: its commit may still come (heldMessages.ts). */
  private hold(seq: number, body: Uint8Array) {
    const { held, problems } = holdMessage(this.held, seq, body)
    if (held) {
      this.held = held
      this.heldChanged = true
    }
    for (const problem of problems) this.noteProblem(problem)
  }

  /** Retries, oldest first, the held messages whose epoch the session has now reached. */
  private async releaseHeld(events: EventRecord[]) {
    // Each turn takes one message out; a bounded loop all the same, whatever processing puts back.
    for (let turn = 0; turn <= maxHeldMessages; turn++) {
      const session = this.session
      if (!session) return
      const ready = nextReleasable(this.held, session.epoch)
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

  private sendFreshKeys(refresh: { refresh: boolean }) {
    return sendRejoinRequest(this.store, this.client, this.device, this.space, refresh)
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

  /**
   * Signs with this device's key (`sign`), seals the result as an MLS application message, saves the new
   * session state, and only then mails it to the hub.
   */
  sendSignedToHub(sign: (session: SpaceSession, signKey: Uint8Array) => Promise<Uint8Array>): Promise<void> {
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

  private async openPrivate(body: Uint8Array): Promise<EventRecord | undefined> {
    const session = this.session
    if (!session) throw new VigilError("UNEXPECTED_MESSAGE", "message before the Welcome")
    const incoming = await session.open(body, this.hubLeafIndex(session))
    if (incoming.kind === "commit") {
      if (incoming.removedSelf) this.status = { kind: "removed" }
      return undefined
    }
    const note = await readHubMessage(session, incoming, {
      spaceId: this.space.spaceId,
      hubKey: fromBase64(this.space.hubKey),
      deviceId: this.device.deviceId,
      onAnnouncementSeq: (seq) => void (this.space = countAnnouncement(this.space, seq)),
    })
    if (note.kind === "roster") this.space = { ...this.space, roster: note.roster }
    else if (note.kind === "camera") this.space = withCameraStatus(this.space, note.status)
    else if (note.kind === "live") for (const listener of this.liveListeners) listener(note.reply)
    else if (note.kind === "event") return note.event
    return undefined
  }

  /** The user saw the notice about missing announcements. */
  dismissMissing(): Promise<void> {
    return this.ops.run(async () => {
      this.space = { ...this.space, missedAnnouncements: 0 }
      await this.store.commit({ put: { space: this.space } })
    })
  }
}
