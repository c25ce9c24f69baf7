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

/** A blob as one space holds it. */
export interface BlobRefRecord {
  blobId: BlobId
  size: number
  createdAt: number
  /** Devices that still have to acknowledge it; empty when none were named (or all acknowledged). */
  pendingRecipients: DeviceId[]
}

export type PutBlobRefResult = { kind: "ok" } | { kind: "quota"; usedBytes: number }

export type AckBlobResult =
  | { kind: "pending"; remaining: number }
  /** The last recipient acknowledged: the space's reference is gone (the bytes may still be shared). */
  | { kind: "released" }
  /** The blob is not (or no longer) in the space. */
  | { kind: "absent" }

/** A Web Push subscription of a device, as the browser's PushSubscription.toJSON() gives it. */
export interface PushSubscriptionRecord {
  deviceId: DeviceId
  endpoint: string
  /** Client public key (P-256, base64url). */
  p256dh: string
  /** Client auth secret (base64url). */
  auth: string
}

/** Totals for /metrics. */
export interface StoreStats {
  devices: number
  spaces: number
  mailboxMessages: number
  /** Distinct blobs referenced by at least one space, and their bytes. */
  blobs: number
  blobBytes: number
  pushSubscriptions: number
}
export type RoomAppendResult = { kind: "ok"; seq: number } | { kind: "full" } | { kind: "expired" }

/** `taken`: another device claimed the room; `expired`: the room is over. */
export type RoomClaimResult = { kind: "ok" } | { kind: "taken" } | { kind: "expired" }

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
  /**
   * The device's role in the space; undefined when it has none, is only a pending member, or the space
   * does not exist.
   */
  getRole(spaceId: SpaceId, deviceId: DeviceId): Promise<SpaceRole | undefined>
  /**
   * Idempotent. A `pending` member (a phone the hub is pairing, before the person confirmed the code)
   * shares the space for mailboxes only (`shareSpace`); it has no role, so no blobs, no push, and is not
   * listed. Adding it again without `pending` makes it a full member; a full member stays one.
   */
  putMember(
    spaceId: SpaceId,
    deviceId: DeviceId,
    addedAt: number,
    options?: { pending?: boolean },
  ): Promise<void>
  /** Idempotent. */
  deleteMember(spaceId: SpaceId, deviceId: DeviceId): Promise<void>
  /** True when some space has both devices in it (as owner or member). */
  shareSpace(a: DeviceId, b: DeviceId): Promise<boolean>
  /**
   * True when the device is the owner or a full member of a space that a hub owns and at least one phone
   * is a full member of: a household in use, not a space someone made for the relay's services.
   */
  inActiveSpace(deviceId: DeviceId): Promise<boolean>
  /** Spaces the device owns. */
  countOwnedSpaces(ownerId: DeviceId): Promise<number>
  /** Members of the space (pending ones included) other than `except`, the owner not counted. */
  countMembers(spaceId: SpaceId, except?: DeviceId): Promise<number>

  /**
   * True when `deviceId` consented, before `now` expired it, to being added to a space of `ownerId`:
   * it posted to a pairing room that `ownerId` claimed (`appendRoomMessage`).
   */
  hasJoinConsent(deviceId: DeviceId, ownerId: DeviceId, now: number): Promise<boolean>
  /** Uses the consent up (the device became a full member). Idempotent. */
  consumeJoinConsent(deviceId: DeviceId, ownerId: DeviceId): Promise<void>

  /** Every device of the space: the owner and the members. Empty for an unknown space. */
  listSpaceDevices(spaceId: SpaceId): Promise<DeviceId[]>
  /** Every space with its owner (the hub), for watching which hubs fall silent. */
  listSpaceOwners(): Promise<{ spaceId: SpaceId; ownerId: DeviceId }[]>

  /**
   * Records that a stored blob belongs to a space. Idempotent: a second call keeps the first
   * `createdAt`. When `quotaBytes` is given and the space's blobs would then exceed it, nothing is
   * recorded and the answer is `quota`. `recipients`, when given, replace the pending recipients.
   */
  putBlobRef(ref: {
    spaceId: SpaceId
    blobId: BlobId
    size: number
    createdAt: number
    recipients?: readonly DeviceId[]
    quotaBytes?: number
  }): Promise<PutBlobRefResult>
  getBlobRef(spaceId: SpaceId, blobId: BlobId): Promise<{ size: number } | undefined>
  /** The space's blobs, oldest first, at most `limit`, after `afterCreatedAt`/`afterBlobId` (paging). */
  listBlobRefs(
    spaceId: SpaceId,
    options: { limit: number; after?: { createdAt: number; blobId: BlobId } },
  ): Promise<BlobRefRecord[]>
  /** Bytes of the blobs the space references. */
  spaceUsage(spaceId: SpaceId): Promise<number>
  /** Replaces the pending recipients; false when the blob is not in the space. */
  setBlobRecipients(spaceId: SpaceId, blobId: BlobId, recipients: readonly DeviceId[]): Promise<boolean>
  /** Removes the device from the blob's pending recipients, releasing the blob when it was the last. */
  ackBlob(spaceId: SpaceId, blobId: BlobId, deviceId: DeviceId): Promise<AckBlobResult>
  /** Drops the space's reference; false when there was none. */
  deleteBlobRef(spaceId: SpaceId, blobId: BlobId): Promise<boolean>
  /**
   * Drops, at most `limit` at a time, the references created at or before `createdUpTo` and those
   * whose named recipients have all acknowledged or left the space; returns what it dropped.
   */
  releaseBlobRefs(createdUpTo: number, limit: number): Promise<{ spaceId: SpaceId; blobId: BlobId }[]>
  /** True when any space still references the blob (the bytes must be kept). */
  isBlobReferenced(blobId: BlobId): Promise<boolean>

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
  /** Deletes every mailbox's messages sent at or before `sentUpTo`; returns how many. */
  expireMailbox(sentUpTo: number): Promise<number>

  /**
   * Makes `ownerId` the room's owner, creating the room (expiring at now + ttlMs) if it does not exist.
   * Idempotent for the same owner; `taken` for another.
   */
  claimRoom(roomId: RoomId, ownerId: DeviceId, now: number, ttlMs: number): Promise<RoomClaimResult>

  /**
   * Appends to a room, creating it (expiring at sentAt + ttlMs) on first use. When another device owns
   * the room, the sender's consent to join the owner's space is recorded, expiring at sentAt + consentTtlMs.
   */
  appendRoomMessage(message: {
    roomId: RoomId
    from: DeviceId
    sentAt: number
    body: Uint8Array
    ttlMs: number
    maxMessages: number
    consentTtlMs: number
  }): Promise<RoomAppendResult>
  /** Messages with seq > after, oldest first, at most `limit`; empty when the room expired at `now`. */
  listRoomMessages(roomId: RoomId, after: number, limit: number, now: number): Promise<StoredMessage[]>
  /**
   * Deletes the messages of rooms expired at `now`, forgets rooms expired for `tombstoneMs`, and expired
   * join consents.
   */
  purgeRooms(now: number, tombstoneMs: number): Promise<void>

  /** Sets the device's one push subscription (replacing any earlier one). */
  putPushSubscription(subscription: PushSubscriptionRecord, createdAt: number): Promise<void>
  /** Removes the device's subscription; with `endpoint`, only if it is still that one. */
  deletePushSubscription(deviceId: DeviceId, endpoint?: string): Promise<void>
  /** Subscriptions of the given devices. */
  listPushSubscriptions(deviceIds: readonly DeviceId[]): Promise<PushSubscriptionRecord[]>

  stats(): Promise<StoreStats>

  close(): Promise<void>
}
