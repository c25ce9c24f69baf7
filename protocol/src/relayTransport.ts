/**
 * The port to the untrusted relay ("signal", docs/04-relay.md): what the hub's space, the phone's space,
 * discovery pairing and the service worker ask of it, as one device. `SignalClient` is the adapter over
 * HTTP; `MemoryRelay` (memoryRelay.ts) backs fast tests with the same observable behaviour. Failures are
 * `SignalError`s carrying the relay's HTTP status and error code.
 */

export type DeviceKind = "hub" | "phone"

/** A message read from a mailbox or a pairing room. */
export interface SignalMessage {
  seq: number
  /** Device id of the sender, as the relay claims it. */
  from: string
  /** Milliseconds since the epoch, by the relay's clock. */
  sentAt: number
  body: Uint8Array
}

/** Bytes to read: `{ start, end? }` (end inclusive, as in HTTP) or the last `suffix` bytes. */
export type BlobRange = { start: number; end?: number } | { suffix: number }

/** A blob as the relay lists it. */
export interface BlobInfo {
  blobId: string
  size: number
  /** Upload time, ms since the epoch by the relay's clock. */
  createdAt: number
  /** When retention deletes it at the latest. */
  expiresAt: number
  /** Devices that still have to acknowledge it (empty when none were named). */
  pendingRecipients: string[]
}

/** One page of a space's blobs (`RelayTransport.listBlobs`). */
export interface BlobList {
  blobs: BlobInfo[]
  usedBytes: number
  quotaBytes: number
  /** Pass back as `cursor` for the next page; null on the last one. */
  nextCursor: string | null
}

/** A hub in pairing mode seen from the caller's public address. */
export interface PairingAnnouncement {
  roomId: string
  /** Opaque bytes the hub announced (a name, possibly encrypted). */
  name: Uint8Array
  deviceId: string
  announcedAt: number
  expiresAt: number
}

/** RTCIceServer as the relay hands it out. */
export interface IceServerConfig {
  urls: string | string[]
  username?: string
  credential?: string
}

export type PushUrgency = "very-low" | "low" | "normal" | "high"

export interface PollOptions {
  /** Cancels a long poll (e.g. when the page hides); the call then throws SignalError ABORTED. */
  signal?: AbortSignal
}

/**
 * The relay as one device sees it. Methods are named after the relay's routes; each rejects with a
 * `SignalError` whose `status`/`code` are the relay's (403 FORBIDDEN, 404 NOT_FOUND, 410 ROOM_EXPIRED …).
 */
export interface RelayTransport {
  /** Registers a new device; the transport acts as that device from now on. */
  registerDevice(kind: DeviceKind): Promise<{ deviceId: string; token: string }>
  /** Creates a space owned by this device (a hub). */
  createSpace(): Promise<{ spaceId: string }>
  /** Adds a device that asked to join (wrote into a room this hub claimed); `pending`: mailboxes only. */
  addMember(spaceId: string, deviceId: string, options?: { pending?: boolean }): Promise<void>
  removeMember(spaceId: string, deviceId: string): Promise<void>

  /** Sends to another device's mailbox; both must share a space. */
  sendToMailbox(deviceId: string, bytes: Uint8Array): Promise<{ seq: number }>
  /** Messages after `after`, oldest first (≤ 100); with `waitMs` (≤ 25000) waits for one to arrive. */
  fetchMailbox(after: number, waitMs?: number, options?: PollOptions): Promise<SignalMessage[]>
  /** Deletes this device's messages with seq ≤ upTo. */
  ackMailbox(upTo: number): Promise<void>

  /** Uploads ciphertext under its SHA-256 (`blobId`, lowercase hex); owner only. */
  putBlob(
    spaceId: string,
    blobId: string,
    bytes: Uint8Array,
    options?: { recipients?: readonly string[] },
  ): Promise<{ blobId: string; size: number }>
  /** The space's blobs, oldest first, a page at a time. */
  listBlobs(spaceId: string, options?: { cursor?: string; limit?: number }): Promise<BlobList>
  /** The owner deletes a blob for everyone; a member drops only its own claim on it. */
  deleteBlob(spaceId: string, blobId: string): Promise<void>
  /** Downloads a blob or a range of it; past `maxBytes` it gives up with BAD_RESPONSE. */
  getBlob(
    spaceId: string,
    blobId: string,
    range?: BlobRange,
    options?: { maxBytes?: number },
  ): Promise<Uint8Array>

  /** Claims a pairing room for this hub (FORBIDDEN when another device claimed or wrote into it). */
  claimRoom(roomId: string): Promise<void>
  postToRoom(roomId: string, bytes: Uint8Array): Promise<{ seq: number }>
  readRoom(roomId: string, after: number, waitMs?: number, options?: PollOptions): Promise<SignalMessage[]>
  /** Announces this hub to phones behind the same public address (claims the room too). */
  announcePairing(roomId: string, name: Uint8Array): Promise<{ roomId: string; expiresAt: number }>
  /** Hubs announcing from this device's public address, newest first. */
  listPairingAnnouncements(): Promise<PairingAnnouncement[]>
  withdrawPairing(roomId: string): Promise<void>

  /** The ICE servers to use for WebRTC (empty unless the relay's operator configured some). */
  getIceServers(): Promise<IceServerConfig[]>
  /** Web-Pushes an opaque payload to the space's other devices, or to `to` among them (owner only). */
  push(
    spaceId: string,
    payload: Uint8Array,
    options?: { ttlSeconds?: number; urgency?: PushUrgency; to?: readonly string[] },
  ): Promise<{ sent: number; removed: number; failed: number }>
}
