/**
 * What MemoryRelay keeps, and the rules signal applies to it (signal/src/*Router.ts and
 * store/sqliteMetaStore.ts): devices, spaces and who may add whom, mailboxes, blobs and when one is
 * released, long polls. Pairing rooms and announcements are in memoryPairing.ts. Every operation is
 * synchronous, so each is atomic like a signal request on its SQLite transaction.
 */
import type { BlobList, DeviceKind, SignalMessage } from "./relayTransport.ts"
import { MemoryPairing } from "./memoryPairing.ts"
import { defaultRelayLimits, fail, type RelayLimits } from "./memoryRelayRules.ts"
import { randomBytes, toHex } from "./bytes.ts"
import { SignalError } from "./signalError.ts"

export interface Device {
  deviceId: string
  kind: DeviceKind
  createdAt: number
  /** The last seq handed out to this device's mailbox: seqs are never reused. */
  mailboxSeq: number
  mailbox: SignalMessage[]
}

interface BlobRef {
  size: number
  createdAt: number
  /** Recipients that have not acknowledged yet. */
  pending: Set<string>
  /** How many were named: a blob that named none is released by retention only. */
  named: number
}

interface Space {
  ownerId: string
  /** Members and whether each is still pending (mailboxes only). */
  members: Map<string, { pending: boolean }>
  blobs: Map<string, BlobRef>
}

const copy = (m: SignalMessage): SignalMessage => ({ ...m, body: m.body.slice() })

export class MemoryRelayState {
  readonly now: () => number
  readonly limits: RelayLimits
  readonly #byToken = new Map<string, Device>()
  readonly #byId = new Map<string, Device>()
  readonly #spaces = new Map<string, Space>()
  /** Blob bytes by id, shared by the spaces that reference them (content-addressed, as signal's). */
  readonly #bytes = new Map<string, Uint8Array>()
  readonly pairing: MemoryPairing
  readonly #listeners = new Map<string, Set<() => void>>()

  constructor(now: () => number, limits: Partial<RelayLimits>) {
    this.now = now
    this.limits = { ...defaultRelayLimits, ...limits }
    this.pairing = new MemoryPairing(now, this.limits, (key) => this.#notify(key))
  }

  // Devices and spaces.

  createDevice(deviceId: string, kind: DeviceKind, token: string): void {
    const device: Device = { deviceId, kind, createdAt: this.now(), mailboxSeq: 0, mailbox: [] }
    this.#byToken.set(token, device)
    this.#byId.set(deviceId, device)
  }

  deviceByToken(token: string): Device | undefined {
    return this.#byToken.get(token)
  }

  createSpace(owner: Device): string {
    let owned = 0
    for (const space of this.#spaces.values()) if (space.ownerId === owner.deviceId) owned++
    const max = this.limits.maxSpacesPerHub
    if (owned >= max) fail("FORBIDDEN", `a hub may own ${max} spaces at most`)
    const spaceId = toHex(randomBytes(16))
    this.#spaces.set(spaceId, { ownerId: owner.deviceId, members: new Map(), blobs: new Map() })
    return spaceId
  }

  /** A pending member has no role: it may use mailboxes only. */
  #role(space: Space | undefined, deviceId: string): "owner" | "member" | undefined {
    if (space === undefined) return undefined
    if (space.ownerId === deviceId) return "owner"
    return space.members.get(deviceId)?.pending === false ? "member" : undefined
  }

  /** 404 to a device with no role (outsiders cannot probe for spaces), 403 to a member. */
  requireOwner(spaceId: string, caller: Device): Space {
    const space = this.#spaces.get(spaceId)
    const role = this.#role(space, caller.deviceId)
    if (role === undefined) fail("NOT_FOUND", "space not found")
    if (role !== "owner") fail("FORBIDDEN", "only the space owner may do this")
    return space!
  }

  requireRole(spaceId: string, caller: Device): Space {
    const space = this.#spaces.get(spaceId)
    if (this.#role(space, caller.deviceId) === undefined) fail("NOT_FOUND", "space not found")
    return space!
  }

  addMember(caller: Device, spaceId: string, deviceId: string, pending: boolean): void {
    const space = this.requireOwner(spaceId, caller)
    if (this.#role(space, deviceId) !== undefined) return
    // Only a device that wrote into this hub's pairing room may be added; one answer for unknown ids too.
    if (!this.pairing.hasConsent(deviceId, caller.deviceId)) {
      fail("FORBIDDEN", "the device has not asked to join this space")
    }
    const others = space.members.size - (space.members.has(deviceId) ? 1 : 0)
    const max = this.limits.maxMembersPerSpace
    if (others >= max) fail("FORBIDDEN", `a space may hold ${max} devices at most`)
    const earlier = space.members.get(deviceId)
    // A full member never goes back to pending.
    space.members.set(deviceId, { pending: pending && (earlier?.pending ?? true) })
    if (!pending) this.pairing.consumeConsent(deviceId, caller.deviceId)
  }

  removeMember(caller: Device, spaceId: string, deviceId: string): void {
    const space = this.requireOwner(spaceId, caller)
    space.members.delete(deviceId)
    for (const ref of space.blobs.values()) ref.pending.delete(deviceId)
  }

  /** The owner and the full members. */
  #spaceDevices(space: Space): string[] {
    const full = [...space.members].filter(([, m]) => !m.pending).map(([id]) => id)
    return [space.ownerId, ...full]
  }

  /** Some space has both devices, as owner or member (pending members included). */
  #shareSpace(a: string, b: string): boolean {
    const isIn = (space: Space, id: string) => space.ownerId === id || space.members.has(id)
    for (const space of this.#spaces.values()) if (isIn(space, a) && isIn(space, b)) return true
    return false
  }

  // Mailboxes.

  sendToMailbox(sender: Device, to: string, body: Uint8Array): number {
    if (to === sender.deviceId) fail("FORBIDDEN", "a device may not mail itself")
    const recipient = this.#byId.get(to)
    if (recipient === undefined || !this.#shareSpace(sender.deviceId, to)) {
      fail("FORBIDDEN", "sender and recipient share no space")
    }
    if (recipient.mailbox.length >= this.limits.maxMailboxMessages) {
      fail("MAILBOX_FULL", "recipient mailbox is full")
    }
    const seq = ++recipient.mailboxSeq
    recipient.mailbox.push({ seq, from: sender.deviceId, sentAt: this.now(), body: body.slice() })
    this.#notify(`mailbox:${to}`)
    return seq
  }

  readMailbox(device: Device, after: number, limit: number): SignalMessage[] {
    return device.mailbox
      .filter((m) => m.seq > after)
      .slice(0, limit)
      .map(copy)
  }

  ackMailbox(device: Device, upTo: number): void {
    device.mailbox = device.mailbox.filter((m) => m.seq > upTo)
  }

  /** signal's long poll: read; if nothing and `waitMs` > 0, wait for a write to `key` and read again. */
  async poll<T>(key: string, waitMs: number, signal: AbortSignal | undefined, read: () => T[]): Promise<T[]> {
    const aborted = () => new SignalError(0, "ABORTED", "request aborted")
    if (signal?.aborted) throw aborted()
    const first = read()
    if (first.length > 0 || waitMs === 0) return first
    const outcome = await new Promise<"notified" | "timeout" | "aborted">((resolve) => {
      const listeners = this.#listeners.get(key) ?? new Set()
      this.#listeners.set(key, listeners)
      const finish = (outcome: "notified" | "timeout" | "aborted") => {
        clearTimeout(timer)
        signal?.removeEventListener("abort", onAbort)
        listeners.delete(onNotify)
        if (listeners.size === 0) this.#listeners.delete(key)
        resolve(outcome)
      }
      const onNotify = () => finish("notified")
      const onAbort = () => finish("aborted")
      const timer = setTimeout(() => finish("timeout"), waitMs)
      listeners.add(onNotify)
      signal?.addEventListener("abort", onAbort, { once: true })
    })
    if (outcome === "aborted") throw aborted()
    return read()
  }

  /** Wakes the long polls waiting on `key`. */
  #notify(key: string): void {
    for (const listener of [...(this.#listeners.get(key) ?? [])]) listener()
  }

  // Blobs.

  putBlob(
    caller: Device,
    spaceId: string,
    blobId: string,
    bytes: Uint8Array,
    sha256Hex: string,
    recipients: string[] | undefined,
  ): number {
    const space = this.requireOwner(spaceId, caller)
    if (recipients !== undefined) {
      const header = "x-vigil-recipients"
      if (recipients.length > 256) fail("VALIDATION", `too many recipients in ${header}`)
      for (const id of recipients) {
        if (!/^[0-9a-f]{32}$/.test(id)) fail("VALIDATION", `invalid device id in ${header}`)
      }
      const devices = new Set(this.#spaceDevices(space))
      const stranger = recipients.find((d) => !devices.has(d))
      if (stranger !== undefined) fail("VALIDATION", `recipient ${stranger} is not in the space`)
    }
    if (bytes.length > this.limits.maxBlobBytes) {
      fail("TOO_LARGE", `blob exceeds ${this.limits.maxBlobBytes} bytes`)
    }
    const existing = space.blobs.get(blobId)
    const quota = this.limits.spaceQuotaBytes
    if (existing === undefined && bytes.length > quota - this.#usage(space)) {
      fail("QUOTA_EXCEEDED", `the space's blobs would exceed its quota of ${quota} bytes`)
    }
    if (sha256Hex !== blobId) fail("HASH_MISMATCH", "SHA-256 of the body does not match the blob id")
    this.#bytes.set(blobId, bytes.slice())
    const ref = existing ?? { size: bytes.length, createdAt: this.now(), pending: new Set(), named: 0 }
    if (recipients !== undefined) {
      ref.pending = new Set(recipients)
      ref.named = ref.pending.size
    }
    space.blobs.set(blobId, ref)
    return bytes.length
  }

  #usage(space: Space): number {
    let used = 0
    for (const ref of space.blobs.values()) used += ref.size
    return used
  }

  listBlobs(space: Space, cursor: string | undefined, limit: number): BlobList {
    const [afterAt, afterId] =
      cursor === undefined ? [-Infinity, ""] : [Number(cursor.split(".")[0]), cursor.split(".")[1] ?? ""]
    const refs = [...space.blobs]
      .filter(([id, r]) => r.createdAt > afterAt || (r.createdAt === afterAt && id > afterId))
      .sort(([ia, a], [ib, b]) => a.createdAt - b.createdAt || (ia < ib ? -1 : ia > ib ? 1 : 0))
      .slice(0, limit)
    const last = refs.at(-1)
    return {
      blobs: refs.map(([blobId, r]) => ({
        blobId,
        size: r.size,
        createdAt: r.createdAt,
        expiresAt: r.createdAt + this.limits.retentionMs,
        pendingRecipients: [...r.pending].sort(),
      })),
      usedBytes: this.#usage(space),
      quotaBytes: this.limits.spaceQuotaBytes,
      nextCursor: refs.length === limit && last !== undefined ? `${last[1].createdAt}.${last[0]}` : null,
    }
  }

  /** The owner deletes for everyone; a member drops its own claim, like an acknowledgement. */
  deleteBlob(caller: Device, spaceId: string, blobId: string): void {
    const space = this.#spaces.get(spaceId)
    const role = this.#role(space, caller.deviceId)
    if (space === undefined || role === undefined || !space.blobs.has(blobId))
      fail("NOT_FOUND", "blob not found")
    if (role === "owner") space.blobs.delete(blobId)
    else this.#ackBlob(space, blobId, caller.deviceId)
    this.#dropIfUnreferenced(blobId)
  }

  #ackBlob(space: Space, blobId: string, deviceId: string): void {
    const ref = space.blobs.get(blobId)
    if (ref === undefined) return
    ref.pending.delete(deviceId)
    // Only a blob that named recipients is released by acknowledgements; others wait for retention.
    if (ref.pending.size === 0 && ref.named > 0) space.blobs.delete(blobId)
  }

  #dropIfUnreferenced(blobId: string): void {
    for (const space of this.#spaces.values()) if (space.blobs.has(blobId)) return
    this.#bytes.delete(blobId)
  }

  getBlob(caller: Device, spaceId: string, blobId: string): Uint8Array {
    const space = this.#spaces.get(spaceId)
    const bytes = this.#bytes.get(blobId)
    if (
      this.#role(space, caller.deviceId) === undefined ||
      !space?.blobs.has(blobId) ||
      bytes === undefined
    ) {
      fail("NOT_FOUND", "blob not found")
    }
    return bytes
  }

  // Push.

  /** The devices a push of the space's owner goes to (each once, at most a space's worth). */
  pushTargets(
    space: Space,
    caller: Device,
    payload: Uint8Array,
    to: readonly string[] | undefined,
  ): string[] {
    if (payload.length === 0) fail("VALIDATION", "empty payload")
    const max = this.limits.maxPushPayloadBytes
    if (payload.length > max) fail("TOO_LARGE", `payload exceeds ${max} bytes`)
    const members = new Set(this.#spaceDevices(space))
    members.delete(caller.deviceId)
    const targets = to === undefined ? [...members] : [...new Set(to)].filter((d) => members.has(d))
    return targets.slice(0, this.limits.maxMembersPerSpace)
  }
}
