import type { BlobId, DeviceId, DeviceKind, RoomId, SpaceId } from "../ids.ts"

/** A registered device. The token itself is never stored, only its SHA-256. */
export interface DeviceRecord {
  deviceId: DeviceId
  kind: DeviceKind
  /** SHA-256 of the bearer token, 64 lowercase hex characters. */
  tokenHash: string
  createdAt: number
}

export type SpaceRole = "owner" | "member"

/** A mailbox or pairing-room message as stored: opaque ciphertext plus routing facts. */
export interface StoredMessage {
  seq: number
  from: DeviceId
  sentAt: number
  body: Uint8Array
}

export type MailboxAppendResult = { kind: "ok"; seq: number } | { kind: "full" }
export type RoomAppendResult = { kind: "ok"; seq: number } | { kind: "full" } | { kind: "expired" }

/**
 * Metadata of the relay: devices, spaces, memberships, which blobs belong to which space, mailboxes
 * and pairing rooms. Asynchronous so that a networked database can implement it; every method is
 * atomic on its own.
 */
export interface MetaStore {
  createDevice(device: DeviceRecord): Promise<void>
  getDevice(deviceId: DeviceId): Promise<DeviceRecord | undefined>
  findDeviceByTokenHash(tokenHash: string): Promise<DeviceRecord | undefined>

  createSpace(space: { spaceId: SpaceId; ownerId: DeviceId; createdAt: number }): Promise<void>
  /** The device's role in the space; undefined when it has none or the space does not exist. */
  getRole(spaceId: SpaceId, deviceId: DeviceId): Promise<SpaceRole | undefined>
  /** Idempotent. */
  putMember(spaceId: SpaceId, deviceId: DeviceId, addedAt: number): Promise<void>
  /** Idempotent. */
  deleteMember(spaceId: SpaceId, deviceId: DeviceId): Promise<void>
  /** True when some space has both devices in it (as owner or member). */
  shareSpace(a: DeviceId, b: DeviceId): Promise<boolean>

  /** Records that a stored blob belongs to a space. Idempotent. */
  putBlobRef(ref: { spaceId: SpaceId; blobId: BlobId; size: number; createdAt: number }): Promise<void>
  getBlobRef(spaceId: SpaceId, blobId: BlobId): Promise<{ size: number } | undefined>

  /** Appends to the recipient's mailbox; seq grows by one per recipient and is never reused. */
  appendMailbox(message: {
    to: DeviceId
    from: DeviceId
    sentAt: number
    body: Uint8Array
    maxMessages: number
  }): Promise<MailboxAppendResult>
  /** Messages with seq > after, oldest first, at most `limit`. */
  listMailbox(to: DeviceId, after: number, limit: number): Promise<StoredMessage[]>
  /** Deletes the messages with seq ≤ upTo; returns how many. */
  ackMailbox(to: DeviceId, upTo: number): Promise<number>

  /** Appends to a room, creating it (expiring at sentAt + ttlMs) on first use. */
  appendRoomMessage(message: {
    roomId: RoomId
    from: DeviceId
    sentAt: number
    body: Uint8Array
    ttlMs: number
    maxMessages: number
  }): Promise<RoomAppendResult>
  /** Messages with seq > after, oldest first, at most `limit`; empty when the room expired at `now`. */
  listRoomMessages(roomId: RoomId, after: number, limit: number, now: number): Promise<StoredMessage[]>
  /** Deletes the messages of rooms expired at `now`, and forgets rooms expired for `tombstoneMs`. */
  purgeRooms(now: number, tombstoneMs: number): Promise<void>

  close(): Promise<void>
}
