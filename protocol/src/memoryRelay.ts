/**
 * The relay in memory, for tests: devices, spaces and their members, mailboxes, blobs with recipients,
 * pairing rooms and announcements, as signal keeps them (signal/src; docs/04-relay.md), with the same
 * observable behaviour through `RelayTransport`: seq order, acknowledgement, long polls, and failures as
 * SignalErrors with the status and code signal answers. The shared contract suite
 * (protocol/test/relayTransportContract.ts) runs against this and against the real signal app.
 *
 * Not modelled: rate limits, the retention sweep, WebSockets, push subscriptions (see `webPush`).
 */
import { randomBytes, sha256, toBase64Url, toHex } from "./bytes.ts"
import { sliceRange } from "./relayHttp.ts"
import { MemoryRelayState, type Device } from "./memoryRelayState.ts"
import type {
  BlobList,
  BlobRange,
  DeviceKind,
  IceServerConfig,
  PairingAnnouncement,
  PollOptions,
  PushUrgency,
  RelayTransport,
  SignalMessage,
} from "./relayTransport.ts"
import { SignalError } from "./signalError.ts"
import { fail, parseRange, requireId, requireQuery, type RelayLimits } from "./memoryRelayRules.ts"

export { defaultRelayLimits, type RelayLimits } from "./memoryRelayRules.ts"

export interface MemoryRelayOptions {
  /** The relay's clock, ms since the epoch (default `Date.now`): tests move it to expire rooms. */
  now?: () => number
  /** Limits as signal's config names them (signal/src/config.ts); signal's defaults otherwise. */
  limits?: Partial<RelayLimits>
  /** What `getIceServers` hands out (default none, as signal's default config). */
  iceServers?: IceServerConfig[]
  /**
   * Web Push on: every device a push targets counts as `sent`, and the push is recorded in `pushes`.
   * Off (the default, as signal without push hosts): `push` fails with 404 NOT_FOUND.
   */
  webPush?: boolean
}

/** A push the relay was asked to send, as `MemoryRelay.pushes` records it. */
export interface RecordedPush {
  spaceId: string
  to: string[]
  payload: Uint8Array
  ttlSeconds: number
  urgency: PushUrgency
}

/** A relay held in memory; `transport()` gives each device its `RelayTransport`. */
export class MemoryRelay {
  readonly #state: MemoryRelayState
  readonly #options: MemoryRelayOptions
  /** The pushes sent so far (with `webPush`). */
  readonly pushes: RecordedPush[] = []

  constructor(options: MemoryRelayOptions = {}) {
    this.#options = options
    this.#state = new MemoryRelayState(options.now ?? Date.now, options.limits ?? {})
  }

  /**
   * A transport acting as the device whose `token` it holds, or as none until `registerDevice`.
   * `address`: the caller's public address, under which pairing announcements are filed (default one
   * address for all, as for devices on one network).
   */
  transport(options: { token?: string; address?: string } = {}): RelayTransport {
    return new MemoryTransport(this.#state, this.#options, this.pushes, options.token, options.address ?? "")
  }
}

const pageSize = 100
const pushUrgencies: readonly PushUrgency[] = ["very-low", "low", "normal", "high"]

class MemoryTransport implements RelayTransport {
  readonly #state: MemoryRelayState
  readonly #options: MemoryRelayOptions
  readonly #pushes: RecordedPush[]
  readonly #address: string
  #token: string | undefined

  constructor(
    state: MemoryRelayState,
    options: MemoryRelayOptions,
    pushes: RecordedPush[],
    token: string | undefined,
    address: string,
  ) {
    this.#state = state
    this.#options = options
    this.#pushes = pushes
    this.#token = token
    this.#address = address
  }

  /** Like signal's `authenticate` middleware: 401 without a token or with an unknown one. */
  #caller(): Device {
    if (this.#token === undefined) fail("UNAUTHENTICATED", "missing or malformed bearer token")
    const device = this.#state.deviceByToken(this.#token)
    if (device === undefined) fail("UNAUTHENTICATED", "unknown token")
    return device
  }

  async registerDevice(kind: DeviceKind): Promise<{ deviceId: string; token: string }> {
    if (kind !== "hub" && kind !== "phone") fail("VALIDATION", "invalid kind")
    const deviceId = toHex(randomBytes(16))
    const token = toBase64Url(randomBytes(32))
    this.#state.createDevice(deviceId, kind, token)
    this.#token = token
    return { deviceId, token }
  }

  async createSpace(): Promise<{ spaceId: string }> {
    const caller = this.#caller()
    if (caller.kind !== "hub") fail("FORBIDDEN", "only a hub may create a space")
    return { spaceId: this.#state.createSpace(caller) }
  }

  async addMember(spaceId: string, deviceId: string, options: { pending?: boolean } = {}): Promise<void> {
    const caller = this.#caller()
    requireId(spaceId, "hex32")
    requireId(deviceId, "hex32")
    this.#state.addMember(caller, spaceId, deviceId, options.pending === true)
  }

  async removeMember(spaceId: string, deviceId: string): Promise<void> {
    const caller = this.#caller()
    requireId(spaceId, "hex32")
    requireId(deviceId, "hex32")
    this.#state.removeMember(caller, spaceId, deviceId)
  }

  async sendToMailbox(deviceId: string, bytes: Uint8Array): Promise<{ seq: number }> {
    const caller = this.#caller()
    requireBody(bytes, this.#state.limits.maxMessageBytes)
    requireId(deviceId, "hex32")
    return { seq: this.#state.sendToMailbox(caller, deviceId, bytes) }
  }

  async fetchMailbox(after: number, waitMs?: number, options: PollOptions = {}): Promise<SignalMessage[]> {
    const caller = this.#caller()
    requireQuery(after, waitMs)
    const key = `mailbox:${caller.deviceId}`
    return this.#state.poll(key, waitMs ?? 0, options.signal, () =>
      this.#state.readMailbox(caller, after, pageSize),
    )
  }

  async ackMailbox(upTo: number): Promise<void> {
    const caller = this.#caller()
    if (!Number.isSafeInteger(upTo) || upTo < 0) fail("VALIDATION", "invalid upTo")
    this.#state.ackMailbox(caller, upTo)
  }

  async putBlob(
    spaceId: string,
    blobId: string,
    bytes: Uint8Array,
    options: { recipients?: readonly string[] } = {},
  ): Promise<{ blobId: string; size: number }> {
    const caller = this.#caller()
    requireId(spaceId, "hex32")
    requireId(blobId, "hex64")
    // What the x-vigil-recipients header carries once split (blank entries are dropped, as by signal).
    const recipients = options.recipients
      ?.join(",")
      .split(",")
      .map((s) => s.trim())
      .filter((s) => s !== "")
    const hash = toHex(await sha256(bytes))
    const size = this.#state.putBlob(caller, spaceId, blobId, bytes, hash, recipients)
    return { blobId, size }
  }

  async listBlobs(spaceId: string, options: { cursor?: string; limit?: number } = {}): Promise<BlobList> {
    const caller = this.#caller()
    requireId(spaceId, "hex32")
    const space = this.#state.requireRole(spaceId, caller)
    const { cursor, limit } = options
    if (cursor !== undefined && !/^\d{1,15}\.[0-9a-f]{64}$/.test(cursor)) fail("VALIDATION", "invalid cursor")
    if (limit !== undefined && !(/^\d{1,4}$/.test(String(limit)) && limit >= 1 && limit <= 1000)) {
      fail("VALIDATION", "invalid limit")
    }
    return this.#state.listBlobs(space, cursor, limit ?? 100)
  }

  async deleteBlob(spaceId: string, blobId: string): Promise<void> {
    const caller = this.#caller()
    requireId(spaceId, "hex32")
    requireId(blobId, "hex64")
    this.#state.deleteBlob(caller, spaceId, blobId)
  }

  async getBlob(
    spaceId: string,
    blobId: string,
    range?: BlobRange,
    options: { maxBytes?: number } = {},
  ): Promise<Uint8Array> {
    const caller = this.#caller()
    requireId(spaceId, "hex32")
    requireId(blobId, "hex64")
    const whole = this.#state.getBlob(caller, spaceId, blobId)
    const wanted = range === undefined ? { kind: "full" as const } : parseRange(range, whole.length)
    if (wanted.kind === "unsatisfiable") fail("RANGE_NOT_SATISFIABLE", "range not satisfiable")
    const status = wanted.kind === "partial" ? 206 : 200
    let bytes = wanted.kind === "partial" ? whole.slice(wanted.start, wanted.end + 1) : whole.slice()
    if (options.maxBytes !== undefined && bytes.length > options.maxBytes) {
      throw new SignalError(
        status,
        "BAD_RESPONSE",
        `relay sent more than the expected ${options.maxBytes} bytes`,
      )
    }
    // A range signal ignores (one it cannot parse) comes back whole; SignalClient cuts it out itself.
    if (range !== undefined && wanted.kind === "full") bytes = sliceRange(bytes, range).slice()
    return bytes
  }

  async claimRoom(roomId: string): Promise<void> {
    const caller = this.#caller()
    if (caller.kind !== "hub") fail("FORBIDDEN", "only a hub may claim a pairing room")
    requireId(roomId, "hex64")
    this.#state.pairing.purgeRooms()
    this.#state.pairing.claimRoom(caller, roomId, "the room is another device's")
  }

  async postToRoom(roomId: string, bytes: Uint8Array): Promise<{ seq: number }> {
    const caller = this.#caller()
    requireBody(bytes, this.#state.limits.maxRoomMessageBytes)
    requireId(roomId, "hex64")
    this.#state.pairing.purgeRooms()
    return { seq: this.#state.pairing.postToRoom(caller, roomId, bytes) }
  }

  async readRoom(
    roomId: string,
    after: number,
    waitMs?: number,
    options: PollOptions = {},
  ): Promise<SignalMessage[]> {
    this.#caller()
    requireId(roomId, "hex64")
    requireQuery(after, waitMs)
    this.#state.pairing.purgeRooms()
    return this.#state.poll(`room:${roomId}`, waitMs ?? 0, options.signal, () =>
      this.#state.pairing.readRoom(roomId, after, pageSize),
    )
  }

  async announcePairing(roomId: string, name: Uint8Array): Promise<{ roomId: string; expiresAt: number }> {
    const caller = this.#caller()
    if (caller.kind !== "hub") fail("FORBIDDEN", "only a hub may announce itself")
    requireId(roomId, "hex64", "VALIDATION")
    const max = this.#state.limits.maxAnnouncementNameBytes
    if (name.length > max) fail("TOO_LARGE", `name exceeds ${max} bytes`)
    return { roomId, expiresAt: this.#state.pairing.announce(caller, this.#address, roomId, name) }
  }

  async listPairingAnnouncements(): Promise<PairingAnnouncement[]> {
    this.#caller()
    return this.#state.pairing.listAnnouncements(this.#address)
  }

  async withdrawPairing(roomId: string): Promise<void> {
    const caller = this.#caller()
    requireId(roomId, "hex64")
    this.#state.pairing.withdraw(caller, roomId)
  }

  async getIceServers(): Promise<IceServerConfig[]> {
    this.#caller()
    return structuredClone(this.#options.iceServers ?? [])
  }

  async push(
    spaceId: string,
    payload: Uint8Array,
    options: { ttlSeconds?: number; urgency?: PushUrgency; to?: readonly string[] } = {},
  ): Promise<{ sent: number; removed: number; failed: number }> {
    const caller = this.#caller()
    if (!this.#options.webPush)
      fail("NOT_FOUND", "web push is not enabled on this relay (no pushHosts configured)")
    requireId(spaceId, "hex32")
    const space = this.#state.requireOwner(spaceId, caller)
    const { ttlSeconds = 24 * 3600, urgency = "high", to } = options
    if (!Number.isInteger(ttlSeconds) || ttlSeconds < 0 || ttlSeconds > 28 * 24 * 3600) {
      fail("VALIDATION", "invalid ttlSeconds")
    }
    if (!pushUrgencies.includes(urgency)) fail("VALIDATION", "invalid urgency")
    if (to !== undefined) {
      if (to.length > 256) fail("VALIDATION", "invalid to")
      for (const id of to) requireId(id, "hex32", "VALIDATION")
    }
    const targets = this.#state.pushTargets(space, caller, payload, to)
    this.#pushes.push({ spaceId, to: targets, payload: payload.slice(), ttlSeconds, urgency })
    return { sent: targets.length, removed: 0, failed: 0 }
  }
}

/** signal's `rawBody`: a non-empty octet-stream body of at most `limit` bytes. */
function requireBody(bytes: Uint8Array, limit: number): void {
  if (bytes.length > limit) fail("TOO_LARGE", `body exceeds ${limit} bytes`)
  if (bytes.length === 0) fail("VALIDATION", "empty body")
}
