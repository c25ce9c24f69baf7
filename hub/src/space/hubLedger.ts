/**
 * The hub's state ledger: its MLS session and its saved document (phones, outbox, positions), changed only
 * inside one queue and saved together. Every room of the hub (pairing, phone requests, clip delivery, the
 * outbox) changes state through `transact` and `apply`:
 *
 *   ledger.transact(async () => {
 *     const { commit } = await ledger.session.rotate()      // the session moves ahead in memory …
 *     await ledger.apply(ledger.mailToPhones(commit))        // … and is saved with the mail it produced
 *   })
 *
 * `apply` writes the session state the operation produced and the new outbox entries in one atomic write,
 * then lets the outbox deliver them. If the operation throws before its `apply` (or the write fails), the
 * session goes back to where it was when the transaction began: nothing unsaved is ever sent, and no room
 * rolls the session back by hand.
 */
import {
  SerialQueue,
  SpaceSession,
  fromBase64,
  fromHex,
  phoneKeyPackageKey,
  roleOf,
  signDeviceRoster,
  signHubMessage,
  toBase64,
  toHex,
  VigilError,
  type CameraId,
  type DeviceId,
  type HubMessage,
  type PhoneRole,
  type SpaceId,
  type TrustPolicy,
} from "@vigil/protocol"
import type { Logger } from "../log.ts"
import type { FileStateStore } from "../store/fileStateStore.ts"
import type { HubRecords, HubStateDoc, NewOutboxEntry, OutboxEntry } from "./hubState.ts"
import { excessMail } from "./outboxLanes.ts"

export interface PairedPhone {
  deviceId: DeviceId
  pairedAt: number
  /** The name the phone gave itself when it paired by discovery. */
  name?: string
  role: PhoneRole
}

export interface LedgerOptions {
  logger: Logger
  /** The configured cameras (config names): the roster lists them, phones may rename them. */
  cameras?: readonly { id: string; name: string }[]
  /** Mail queued for one phone at most; older mail for it is dropped past this (default 1000). */
  maxQueuedMailPerPhone?: number
  /** Called after each `apply` was saved, with the entries it queued. */
  onApplied: (entries: NewOutboxEntry[]) => void
}

export class HubLedger {
  readonly queue = new SerialQueue()
  /** Phones being paired right now: trusted by the MLS layer only for the duration of their add. */
  readonly pairing = new Map<string, DeviceId>()
  /** The session state the last operation produced, not yet saved (set by the session's persist hook). */
  private captured: Uint8Array | undefined
  /** Counts the saves of session state, so a transaction knows whether it saved any. */
  private saves = 0
  private lastEpoch: bigint
  private epochStartedAt = Date.now()
  private hooks: { trust: TrustPolicy; persist: (state: Uint8Array) => Promise<void> }

  private constructor(
    private current: HubStateDoc,
    private mls: SpaceSession | undefined,
    private readonly store: FileStateStore<HubRecords>,
    private readonly opts: LedgerOptions,
  ) {
    this.hooks = {
      trust: (identity, key) => this.trusts(identity.role, identity.deviceId, key),
      persist: async (state) => void (this.captured = state),
    }
    this.lastEpoch = 0n
  }

  /** Restores the session saved in `doc` (read from `store`). */
  static async open(
    doc: HubStateDoc,
    store: FileStateStore<HubRecords>,
    opts: LedgerOptions,
  ): Promise<HubLedger> {
    const ledger = new HubLedger(doc, undefined, store, opts)
    ledger.mls = await SpaceSession.restore(fromBase64(doc.group), ledger.hooks)
    ledger.lastEpoch = ledger.mls.epoch
    return ledger
  }

  get doc(): HubStateDoc {
    return this.current
  }

  get session(): SpaceSession {
    if (!this.mls) throw new VigilError("INTERNAL", "the hub's session is not open")
    return this.mls
  }

  get spaceId(): SpaceId {
    return this.current.spaceId as SpaceId
  }

  get deviceId(): DeviceId {
    return this.current.device.deviceId as DeviceId
  }

  /** How long the current epoch has lasted (ms). */
  get epochAgeMs(): number {
    return Date.now() - this.epochStartedAt
  }

  private trusts(role: string, deviceId: string, key: Uint8Array): boolean {
    if (role === "hub") return deviceId === this.current.device.deviceId
    const keyHex = toHex(key)
    if (this.pairing.get(keyHex) === deviceId) return true
    return this.current.phones.some((p) => p.deviceId === deviceId && p.signatureKey === keyHex)
  }

  /**
   * Runs `fn` in the queue. If it throws, the session goes back to its state when `fn` began (what `fn`
   * changed was never saved nor sent).
   */
  transact<T>(fn: () => Promise<T>): Promise<T> {
    return this.queue.run(() => this.attempt(fn))
  }

  /**
   * Inside a transaction, a part that may fail on its own (a phone's request the caller refuses and goes
   * on): if it throws, the session goes back to its state when the part began.
   */
  async attempt<T>(fn: () => Promise<T>): Promise<T> {
    const before = this.captured
    const saves = this.saves
    try {
      return await fn()
    } catch (err) {
      // What to keep: the state at the start, or what `fn` saved since (then nothing is unsaved).
      const keep = this.saves === saves ? before : undefined
      if (this.captured !== keep) await this.rollback(keep)
      throw err
    }
  }

  private async rollback(to: Uint8Array | undefined) {
    this.mls = await SpaceSession.restore(to ?? fromBase64(this.current.group), this.hooks)
    this.captured = to
  }

  /**
   * Saves the session state captured by the last operation together with the messages it produced, then
   * hands them to the outbox. Inside `transact` only.
   */
  async apply(entries: NewOutboxEntry[], change?: (doc: HubStateDoc) => HubStateDoc): Promise<void> {
    let next: HubStateDoc = { ...this.current }
    if (this.captured) next.group = toBase64(this.captured)
    let id = next.nextOutboxId
    const queuedAt = Date.now()
    const numbered = entries.map((e) => ({ ...e, id: id++, queuedAt }) as OutboxEntry)
    next = { ...next, outbox: [...next.outbox, ...numbered], nextOutboxId: id }
    if (change) next = change(next)
    // A phone away for long must not grow the state file (rewritten on every change) without bound.
    const excess = excessMail(next.outbox, this.opts.maxQueuedMailPerPhone ?? 1000)
    if (excess.size > 0) {
      this.opts.logger.warn({ dropped: excess.size }, "too much mail queued for a phone; dropped its oldest")
      next = { ...next, outbox: next.outbox.filter((e) => !excess.has(e.id)) }
    }
    try {
      await this.store.commit({ put: { hub: next } })
    } catch (err) {
      // The in-memory session moved ahead of the disk: go back to what is saved, so nothing unsaved is sent.
      await this.rollback(undefined)
      throw err
    }
    this.captured = undefined
    this.saves++
    this.current = next
    if (this.session.epoch !== this.lastEpoch) {
      this.lastEpoch = this.session.epoch
      this.epochStartedAt = Date.now()
    }
    this.opts.onApplied(entries)
  }

  /** Saves a document change that holds no new session state (an outbox entry delivered). In the queue. */
  async save(change: (doc: HubStateDoc) => HubStateDoc): Promise<void> {
    const next = change(this.current)
    await this.store.commit({ put: { hub: next } })
    this.current = next
  }

  /** Changes the document in memory only; it is saved with the next change. In the queue. */
  remember(change: (doc: HubStateDoc) => HubStateDoc): void {
    this.current = change(this.current)
  }

  mailToPhones(body: Uint8Array, phones = this.current.phones): NewOutboxEntry[] {
    const encoded = toBase64(body)
    return phones.map((p) => ({ kind: "mail", to: p.deviceId, body: encoded }))
  }

  /** The hub's signature key in the group: phones pin it. */
  get hubSignatureKey(): Uint8Array {
    const self = this.session.members().find((m) => m.leafIndex === this.session.ownLeafIndex)
    if (!self) throw new VigilError("INTERNAL", "hub leaf missing from its own group")
    return self.signaturePublicKey
  }

  pinnedPhoneKey(deviceId: DeviceId): Uint8Array | undefined {
    const phone = this.current.phones.find((p) => p.deviceId === deviceId)
    return phone ? fromHex(phone.signatureKey) : undefined
  }

  /** A camera's name as the phones see it: renamed from the app, else the configured one. */
  cameraName(cameraId: string, configured: string): string {
    return this.current.cameraNames?.[cameraId] ?? configured
  }

  /**
   * Checks a joining phone's key package: its credential names this device as a phone, and the device is
   * not paired yet. Returns its signature key (hex), which the MLS layer trusts while the add is made.
   */
  newPhoneKey(keyPackageBytes: Uint8Array, from: DeviceId): string {
    const key = phoneKeyPackageKey(keyPackageBytes, from)
    if (this.current.phones.some((p) => p.deviceId === from)) {
      throw new VigilError("PAIRING_INVALID", "device is already paired")
    }
    return toHex(key)
  }

  /** Adds a phone's key package to the group while `pairing` trusts its key; in the queue. */
  async addPhone(keyPackage: Uint8Array, from: DeviceId) {
    const keyHex = this.newPhoneKey(keyPackage, from)
    this.pairing.set(keyHex, from)
    try {
      return { keyHex, ...(await this.session.addMember(keyPackage)) }
    } finally {
      this.pairing.delete(keyHex)
    }
  }

  /** The phones and their names, signed by the hub for the Devices screen (sealed by the caller). */
  signRoster(phones: HubStateDoc["phones"], cameraNames = this.current.cameraNames): Promise<Uint8Array> {
    const session = this.session
    return signDeviceRoster(
      {
        kind: "device-roster",
        spaceId: this.spaceId,
        epoch: session.epoch.toString(),
        devices: phones.map((p) => ({
          deviceId: p.deviceId as DeviceId,
          pairedAt: p.pairedAt,
          ...(p.name ? { name: p.name } : {}),
          role: roleOf(p),
        })),
        cameras: (this.opts.cameras ?? []).slice(0, 64).map((c) => ({
          id: c.id as CameraId,
          name: (cameraNames?.[c.id] ?? c.name).slice(0, 64),
        })),
      },
      session.groupId,
      session.signaturePrivateKey,
      session.signature,
    )
  }

  /** Signs a hub message with the hub's key (not sealed). */
  signHubMessage(message: HubMessage): Promise<Uint8Array> {
    const session = this.session
    return signHubMessage(message, session.groupId, session.signaturePrivateKey, session.signature)
  }

  /** Signs a hub message and seals it as an MLS application message (saved by the caller's `apply`). */
  async sealHubMessage(message: HubMessage): Promise<Uint8Array> {
    return this.session.seal(await this.signHubMessage(message))
  }

  /**
   * A phone's new role (roles were checked by the caller): every phone gets the new roster, sealed in the
   * current epoch. No commit: a role changes what the hub accepts, not who can read.
   */
  async setRole(deviceId: DeviceId, role: PhoneRole) {
    if (!this.current.phones.some((p) => p.deviceId === deviceId)) {
      throw new VigilError("NOT_A_MEMBER", "the phone is not paired")
    }
    const phones = this.current.phones.map((p) => (p.deviceId === deviceId ? { ...p, role } : p))
    const roster = await this.session.seal(await this.signRoster(phones))
    return {
      entries: this.mailToPhones(roster, phones),
      change: (doc: HubStateDoc) => ({
        ...doc,
        phones: doc.phones.map((p) => (p.deviceId === deviceId ? { ...p, role } : p)),
      }),
    }
  }

  /** A removal: the Remove commit for every phone, signal's revoke, and the roster without it. In the queue. */
  async removePhone(deviceId: DeviceId, stamp?: (doc: HubStateDoc) => HubStateDoc) {
    if (!this.current.phones.some((p) => p.deviceId === deviceId)) {
      throw new VigilError("NOT_A_MEMBER", "the phone to remove is not paired")
    }
    const { commit } = await this.session.removeMember(deviceId)
    const remaining = keepAnOwner(this.current.phones.filter((p) => p.deviceId !== deviceId))
    const roster = await this.session.seal(await this.signRoster(remaining))
    return {
      entries: [
        ...this.mailToPhones(commit),
        { kind: "revoke", deviceId },
        ...this.mailToPhones(roster, remaining),
      ] as NewOutboxEntry[],
      change: (doc: HubStateDoc) => {
        const without = { ...doc, phones: keepAnOwner(doc.phones.filter((p) => p.deviceId !== deviceId)) }
        return stamp ? stamp(without) : without
      },
    }
  }
}

/**
 * A household keeps an owner while it has phones: when the hub's terminal removes the last owner, the
 * longest-paired phone left becomes one (no phone can remove the last owner, roles.ts).
 */
function keepAnOwner(phones: HubStateDoc["phones"]): HubStateDoc["phones"] {
  if (phones.length === 0 || phones.some((p) => roleOf(p) === "owner")) return phones
  const eldest = phones.reduce((a, b) => (b.pairedAt < a.pairedAt ? b : a))
  return phones.map((p) => (p === eldest ? { ...p, role: "owner" as const } : p))
}
