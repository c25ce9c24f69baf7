import Database from "better-sqlite3"
import type { BlobId, DeviceId, DeviceKind, RoomId, SpaceId } from "../ids.ts"
import type {
  AckBlobResult,
  BlobRefRecord,
  DeviceRecord,
  MailboxAppendResult,
  MetaStore,
  PushSubscriptionRecord,
  PutBlobRefResult,
  RoomAppendResult,
  RoomClaimResult,
  SpaceRole,
  StoreStats,
  StoredMessage,
} from "./metaStore.ts"

const schemaVersion = 4

const schema = `
CREATE TABLE IF NOT EXISTS devices (
  device_id   TEXT PRIMARY KEY,
  kind        TEXT NOT NULL CHECK (kind IN ('hub', 'phone')),
  token_hash  TEXT NOT NULL UNIQUE,
  created_at  INTEGER NOT NULL,
  mailbox_seq INTEGER NOT NULL DEFAULT 0
) STRICT;

CREATE TABLE IF NOT EXISTS spaces (
  space_id   TEXT PRIMARY KEY,
  owner_id   TEXT NOT NULL REFERENCES devices (device_id),
  created_at INTEGER NOT NULL
) STRICT;
CREATE INDEX IF NOT EXISTS spaces_by_owner ON spaces (owner_id);

CREATE TABLE IF NOT EXISTS members (
  space_id  TEXT NOT NULL REFERENCES spaces (space_id),
  device_id TEXT NOT NULL REFERENCES devices (device_id),
  added_at  INTEGER NOT NULL,
  PRIMARY KEY (space_id, device_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS members_by_device ON members (device_id);

CREATE TABLE IF NOT EXISTS blobs (
  space_id   TEXT NOT NULL REFERENCES spaces (space_id),
  blob_id    TEXT NOT NULL,
  size       INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (space_id, blob_id)
) STRICT, WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS mailbox (
  recipient_id TEXT NOT NULL REFERENCES devices (device_id),
  seq          INTEGER NOT NULL,
  sender_id    TEXT NOT NULL,
  sent_at      INTEGER NOT NULL,
  body         BLOB NOT NULL,
  PRIMARY KEY (recipient_id, seq)
) STRICT;

CREATE TABLE IF NOT EXISTS rooms (
  room_id    TEXT PRIMARY KEY,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  last_seq   INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX IF NOT EXISTS rooms_by_expiry ON rooms (expires_at);

CREATE TABLE IF NOT EXISTS room_messages (
  room_id   TEXT NOT NULL REFERENCES rooms (room_id) ON DELETE CASCADE,
  seq       INTEGER NOT NULL,
  sender_id TEXT NOT NULL,
  sent_at   INTEGER NOT NULL,
  body      BLOB NOT NULL,
  PRIMARY KEY (room_id, seq)
) STRICT;
`

/** Schema changes after version 1, applied in order; entry i takes the database to version i + 2. */
const migrations: readonly string[] = [
  `
ALTER TABLE blobs ADD COLUMN recipients_total INTEGER NOT NULL DEFAULT 0;
CREATE INDEX IF NOT EXISTS blobs_by_created ON blobs (created_at);
CREATE INDEX IF NOT EXISTS blobs_by_blob ON blobs (blob_id);

CREATE TABLE IF NOT EXISTS blob_recipients (
  space_id  TEXT NOT NULL,
  blob_id   TEXT NOT NULL,
  device_id TEXT NOT NULL,
  PRIMARY KEY (space_id, blob_id, device_id),
  FOREIGN KEY (space_id, blob_id) REFERENCES blobs (space_id, blob_id) ON DELETE CASCADE
) STRICT, WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS blob_recipients_by_device ON blob_recipients (device_id);

CREATE TABLE IF NOT EXISTS push_subscriptions (
  device_id  TEXT PRIMARY KEY REFERENCES devices (device_id),
  endpoint   TEXT NOT NULL,
  p256dh     TEXT NOT NULL,
  auth       TEXT NOT NULL,
  created_at INTEGER NOT NULL
) STRICT;
`,
  // Version 3: a member the hub is still pairing (its code not yet confirmed) may use mailboxes only.
  `
ALTER TABLE members ADD COLUMN pending INTEGER NOT NULL DEFAULT 0;
`,
  // Version 4 (issue 14): a device joins a space only with its consent, given by posting to a pairing room
  // the space's owner claimed; mailboxes expire by age.
  `
ALTER TABLE rooms ADD COLUMN owner_id TEXT;
CREATE TABLE IF NOT EXISTS join_consents (
  device_id  TEXT NOT NULL,
  owner_id   TEXT NOT NULL,
  expires_at INTEGER NOT NULL,
  PRIMARY KEY (device_id, owner_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS join_consents_by_expiry ON join_consents (expires_at);
CREATE INDEX IF NOT EXISTS mailbox_by_sent ON mailbox (sent_at);
`,
]

interface DeviceRow {
  device_id: string
  kind: string
  token_hash: string
  created_at: number
}

interface MessageRow {
  seq: number
  sender_id: string
  sent_at: number
  body: Buffer
}

interface BlobRow {
  blob_id: string
  size: number
  created_at: number
  pending: string | null
}

interface PushRow {
  device_id: string
  endpoint: string
  p256dh: string
  auth: string
}

function toDevice(row: DeviceRow): DeviceRecord {
  return {
    deviceId: row.device_id as DeviceId,
    kind: row.kind as DeviceKind,
    tokenHash: row.token_hash,
    createdAt: row.created_at,
  }
}

function toMessage(row: MessageRow): StoredMessage {
  return {
    seq: row.seq,
    from: row.sender_id as DeviceId,
    sentAt: row.sent_at,
    body: new Uint8Array(row.body.buffer, row.body.byteOffset, row.body.byteLength),
  }
}

function prepareStatements(db: Database.Database) {
  return {
    insertDevice: db.prepare<[string, string, string, number], void>(
      "INSERT INTO devices (device_id, kind, token_hash, created_at) VALUES (?, ?, ?, ?)",
    ),
    deviceById: db.prepare<[string], DeviceRow>(
      "SELECT device_id, kind, token_hash, created_at FROM devices WHERE device_id = ?",
    ),
    deviceByTokenHash: db.prepare<[string], DeviceRow>(
      "SELECT device_id, kind, token_hash, created_at FROM devices WHERE token_hash = ?",
    ),
    insertSpace: db.prepare<[string, string, number], void>(
      "INSERT INTO spaces (space_id, owner_id, created_at) VALUES (?, ?, ?)",
    ),
    spaceOwner: db.prepare<[string], { owner_id: string }>("SELECT owner_id FROM spaces WHERE space_id = ?"),
    isMember: db.prepare<[string, string], { one: number }>(
      "SELECT 1 AS one FROM members WHERE space_id = ? AND device_id = ? AND pending = 0",
    ),
    // A pending member becomes a full one; a full member never goes back to pending.
    putMember: db.prepare<[string, string, number, number], void>(
      `INSERT INTO members (space_id, device_id, added_at, pending) VALUES (?, ?, ?, ?)
       ON CONFLICT (space_id, device_id) DO UPDATE SET pending = min(members.pending, excluded.pending)`,
    ),
    deleteMember: db.prepare<[string, string], void>(
      "DELETE FROM members WHERE space_id = ? AND device_id = ?",
    ),
    shareSpace: db.prepare<[string, string, string, string], { one: number }>(
      `WITH a AS (SELECT space_id FROM spaces WHERE owner_id = ? UNION SELECT space_id FROM members WHERE device_id = ?),
            b AS (SELECT space_id FROM spaces WHERE owner_id = ? UNION SELECT space_id FROM members WHERE device_id = ?)
       SELECT 1 AS one FROM a JOIN b USING (space_id) LIMIT 1`,
    ),
    inActiveSpace: db.prepare<[string, string], { one: number }>(
      `SELECT 1 AS one FROM spaces s JOIN devices o ON o.device_id = s.owner_id AND o.kind = 'hub'
       WHERE (s.owner_id = ? OR EXISTS
               (SELECT 1 FROM members m WHERE m.space_id = s.space_id AND m.device_id = ? AND m.pending = 0))
         AND EXISTS (SELECT 1 FROM members m JOIN devices d ON d.device_id = m.device_id AND d.kind = 'phone'
                     WHERE m.space_id = s.space_id AND m.pending = 0)
       LIMIT 1`,
    ),
    countOwned: db.prepare<[string], { n: number }>("SELECT count(*) AS n FROM spaces WHERE owner_id = ?"),
    countMembers: db.prepare<[string, string], { n: number }>(
      "SELECT count(*) AS n FROM members WHERE space_id = ? AND device_id != ?",
    ),
    hasConsent: db.prepare<[string, string, number], { one: number }>(
      "SELECT 1 AS one FROM join_consents WHERE device_id = ? AND owner_id = ? AND expires_at > ?",
    ),
    putConsent: db.prepare<[string, string, number], void>(
      `INSERT INTO join_consents (device_id, owner_id, expires_at) VALUES (?, ?, ?)
       ON CONFLICT (device_id, owner_id) DO UPDATE SET expires_at = max(expires_at, excluded.expires_at)`,
    ),
    deleteConsent: db.prepare<[string, string], void>(
      "DELETE FROM join_consents WHERE device_id = ? AND owner_id = ?",
    ),
    purgeConsents: db.prepare<[number], void>("DELETE FROM join_consents WHERE expires_at <= ?"),
    expireMailbox: db.prepare<[number], void>("DELETE FROM mailbox WHERE sent_at <= ?"),
    spaceDevices: db.prepare<[string, string], { device_id: string }>(
      `SELECT owner_id AS device_id FROM spaces WHERE space_id = ?
       UNION SELECT device_id FROM members WHERE space_id = ? AND pending = 0`,
    ),
    spaceOwners: db.prepare<[], { space_id: string; owner_id: string }>(
      "SELECT space_id, owner_id FROM spaces",
    ),
    putBlobRef: db.prepare<[string, string, number, number], void>(
      "INSERT INTO blobs (space_id, blob_id, size, created_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
    ),
    getBlobRef: db.prepare<[string, string], { size: number }>(
      "SELECT size FROM blobs WHERE space_id = ? AND blob_id = ?",
    ),
    spaceUsage: db.prepare<[string], { used: number }>(
      "SELECT coalesce(sum(size), 0) AS used FROM blobs WHERE space_id = ?",
    ),
    listBlobRefs: db.prepare<[string, number, string, number], BlobRow>(
      `SELECT b.blob_id, b.size, b.created_at,
              (SELECT group_concat(r.device_id) FROM blob_recipients r
               WHERE r.space_id = b.space_id AND r.blob_id = b.blob_id) AS pending
       FROM blobs b WHERE b.space_id = ? AND (b.created_at, b.blob_id) > (?, ?)
       ORDER BY b.created_at, b.blob_id LIMIT ?`,
    ),
    clearRecipients: db.prepare<[string, string], void>(
      "DELETE FROM blob_recipients WHERE space_id = ? AND blob_id = ?",
    ),
    addRecipient: db.prepare<[string, string, string], void>(
      "INSERT INTO blob_recipients (space_id, blob_id, device_id) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
    ),
    setRecipientsTotal: db.prepare<[number, string, string], void>(
      "UPDATE blobs SET recipients_total = ? WHERE space_id = ? AND blob_id = ?",
    ),
    recipientsTotal: db.prepare<[string, string], { n: number }>(
      "SELECT recipients_total AS n FROM blobs WHERE space_id = ? AND blob_id = ?",
    ),
    deleteRecipient: db.prepare<[string, string, string], void>(
      "DELETE FROM blob_recipients WHERE space_id = ? AND blob_id = ? AND device_id = ?",
    ),
    pendingCount: db.prepare<[string, string], { n: number }>(
      "SELECT count(*) AS n FROM blob_recipients WHERE space_id = ? AND blob_id = ?",
    ),
    deleteRecipientsOfMember: db.prepare<[string, string], void>(
      "DELETE FROM blob_recipients WHERE space_id = ? AND device_id = ?",
    ),
    deleteBlobRef: db.prepare<[string, string], void>("DELETE FROM blobs WHERE space_id = ? AND blob_id = ?"),
    releasableBlobRefs: db.prepare<[number, number], { space_id: string; blob_id: string }>(
      `SELECT space_id, blob_id FROM blobs WHERE created_at <= ?
       UNION
       SELECT b.space_id, b.blob_id FROM blobs b WHERE b.recipients_total > 0 AND NOT EXISTS
         (SELECT 1 FROM blob_recipients r WHERE r.space_id = b.space_id AND r.blob_id = b.blob_id)
       LIMIT ?`,
    ),
    blobReferenced: db.prepare<[string], { one: number }>(
      "SELECT 1 AS one FROM blobs WHERE blob_id = ? LIMIT 1",
    ),
    putPush: db.prepare<[string, string, string, string, number], void>(
      `INSERT INTO push_subscriptions (device_id, endpoint, p256dh, auth, created_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (device_id) DO UPDATE SET endpoint = excluded.endpoint, p256dh = excluded.p256dh,
         auth = excluded.auth, created_at = excluded.created_at`,
    ),
    deletePush: db.prepare<[string], void>("DELETE FROM push_subscriptions WHERE device_id = ?"),
    deletePushIf: db.prepare<[string, string], void>(
      "DELETE FROM push_subscriptions WHERE device_id = ? AND endpoint = ?",
    ),
    pushOf: db.prepare<[string], PushRow>(
      "SELECT device_id, endpoint, p256dh, auth FROM push_subscriptions WHERE device_id = ?",
    ),
    stats: db.prepare<[], StoreStats>(
      `SELECT (SELECT count(*) FROM devices) AS devices,
              (SELECT count(*) FROM spaces) AS spaces,
              (SELECT count(*) FROM mailbox) AS mailboxMessages,
              (SELECT count(*) FROM (SELECT DISTINCT blob_id FROM blobs)) AS blobs,
              (SELECT coalesce(sum(size), 0) FROM (SELECT blob_id, max(size) AS size FROM blobs GROUP BY blob_id))
                AS blobBytes,
              (SELECT count(*) FROM push_subscriptions) AS pushSubscriptions`,
    ),
    // Acks delete a prefix and seqs are handed out one by one, so the pending messages are exactly
    // lowest..mailbox_seq: two index lookups instead of counting rows on every append.
    mailboxLowest: db.prepare<[string], { lo: number | null }>(
      "SELECT min(seq) AS lo FROM mailbox WHERE recipient_id = ?",
    ),
    mailboxSeq: db.prepare<[string], { mailbox_seq: number }>(
      "SELECT mailbox_seq FROM devices WHERE device_id = ?",
    ),
    nextMailboxSeq: db.prepare<[string], { mailbox_seq: number }>(
      "UPDATE devices SET mailbox_seq = mailbox_seq + 1 WHERE device_id = ? RETURNING mailbox_seq",
    ),
    insertMailbox: db.prepare<[string, number, string, number, Uint8Array], void>(
      "INSERT INTO mailbox (recipient_id, seq, sender_id, sent_at, body) VALUES (?, ?, ?, ?, ?)",
    ),
    listMailbox: db.prepare<[string, number, number], MessageRow>(
      "SELECT seq, sender_id, sent_at, body FROM mailbox WHERE recipient_id = ? AND seq > ? ORDER BY seq LIMIT ?",
    ),
    ackMailbox: db.prepare<[string, number], void>("DELETE FROM mailbox WHERE recipient_id = ? AND seq <= ?"),
    room: db.prepare<[string], { expires_at: number; last_seq: number; owner_id: string | null }>(
      "SELECT expires_at, last_seq, owner_id FROM rooms WHERE room_id = ?",
    ),
    insertRoom: db.prepare<[string, number, number, string | null], void>(
      "INSERT INTO rooms (room_id, created_at, expires_at, owner_id) VALUES (?, ?, ?, ?)",
    ),
    setRoomOwner: db.prepare<[string, string], void>("UPDATE rooms SET owner_id = ? WHERE room_id = ?"),
    bumpRoomSeq: db.prepare<[number, string], void>("UPDATE rooms SET last_seq = ? WHERE room_id = ?"),
    insertRoomMessage: db.prepare<[string, number, string, number, Uint8Array], void>(
      "INSERT INTO room_messages (room_id, seq, sender_id, sent_at, body) VALUES (?, ?, ?, ?, ?)",
    ),
    listRoom: db.prepare<[string, number, number, number], MessageRow>(
      `SELECT m.seq, m.sender_id, m.sent_at, m.body FROM room_messages m JOIN rooms r USING (room_id)
       WHERE m.room_id = ? AND r.expires_at > ? AND m.seq > ? ORDER BY m.seq LIMIT ?`,
    ),
    purgeRoomMessages: db.prepare<[number], void>(
      "DELETE FROM room_messages WHERE room_id IN (SELECT room_id FROM rooms WHERE expires_at <= ?)",
    ),
    purgeRooms: db.prepare<[number], void>("DELETE FROM rooms WHERE expires_at <= ?"),
  }
}

type Statements = ReturnType<typeof prepareStatements>
type MailboxAppend = Parameters<MetaStore["appendMailbox"]>[0]
type RoomAppend = Parameters<MetaStore["appendRoomMessage"]>[0]
type BlobRefPut = Parameters<MetaStore["putBlobRef"]>[0]

function setRecipients(q: Statements, spaceId: string, blobId: string, recipients: readonly string[]): void {
  q.clearRecipients.run(spaceId, blobId)
  const unique = [...new Set(recipients)]
  for (const deviceId of unique) q.addRecipient.run(spaceId, blobId, deviceId)
  q.setRecipientsTotal.run(unique.length, spaceId, blobId)
}

function putBlobRef(q: Statements, ref: BlobRefPut): PutBlobRefResult {
  const existing = q.getBlobRef.get(ref.spaceId, ref.blobId)
  if (existing === undefined) {
    if (ref.quotaBytes !== undefined) {
      const used = q.spaceUsage.get(ref.spaceId)?.used ?? 0
      if (used + ref.size > ref.quotaBytes) return { kind: "quota", usedBytes: used }
    }
    q.putBlobRef.run(ref.spaceId, ref.blobId, ref.size, ref.createdAt)
  }
  if (ref.recipients !== undefined) setRecipients(q, ref.spaceId, ref.blobId, ref.recipients)
  return { kind: "ok" }
}

function ackBlob(q: Statements, spaceId: string, blobId: string, deviceId: string): AckBlobResult {
  if (q.getBlobRef.get(spaceId, blobId) === undefined) return { kind: "absent" }
  q.deleteRecipient.run(spaceId, blobId, deviceId)
  const remaining = q.pendingCount.get(spaceId, blobId)?.n ?? 0
  if (remaining > 0) return { kind: "pending", remaining }
  // Only a blob that named recipients is released by acknowledgements; others wait for retention.
  if ((q.recipientsTotal.get(spaceId, blobId)?.n ?? 0) === 0) return { kind: "pending", remaining: 0 }
  q.deleteBlobRef.run(spaceId, blobId)
  return { kind: "released" }
}

function appendMailbox(q: Statements, m: MailboxAppend): MailboxAppendResult {
  const lowest = q.mailboxLowest.get(m.to)?.lo ?? null
  const count = lowest === null ? 0 : (q.mailboxSeq.get(m.to)?.mailbox_seq ?? lowest) - lowest + 1
  if (count >= m.maxMessages) return { kind: "full" }
  const next = q.nextMailboxSeq.get(m.to)
  if (next === undefined) throw new Error("mailbox recipient does not exist")
  q.insertMailbox.run(m.to, next.mailbox_seq, m.from, m.sentAt, m.body)
  return { kind: "ok", seq: next.mailbox_seq }
}

function appendRoomMessage(q: Statements, m: RoomAppend): RoomAppendResult {
  let room = q.room.get(m.roomId)
  if (room === undefined) {
    q.insertRoom.run(m.roomId, m.sentAt, m.sentAt + m.ttlMs, null)
    room = { expires_at: m.sentAt + m.ttlMs, last_seq: 0, owner_id: null }
  }
  if (room.expires_at <= m.sentAt) return { kind: "expired" }
  if (room.last_seq >= m.maxMessages) return { kind: "full" }
  const seq = room.last_seq + 1
  q.bumpRoomSeq.run(seq, m.roomId)
  q.insertRoomMessage.run(m.roomId, seq, m.from, m.sentAt, m.body)
  // Writing into a hub's pairing room is asking that hub to be let in: the only way a device consents.
  if (room.owner_id !== null && room.owner_id !== m.from) {
    q.putConsent.run(m.from, room.owner_id, m.sentAt + m.consentTtlMs)
  }
  return { kind: "ok", seq }
}

function claimRoom(
  q: Statements,
  roomId: string,
  ownerId: string,
  now: number,
  ttlMs: number,
): RoomClaimResult {
  const room = q.room.get(roomId)
  if (room === undefined) {
    q.insertRoom.run(roomId, now, now + ttlMs, ownerId)
    return { kind: "ok" }
  }
  if (room.expires_at <= now) return { kind: "expired" }
  if (room.owner_id === ownerId) return { kind: "ok" }
  // A room someone else wrote to first (or claimed) is not this hub's to take over.
  if (room.owner_id !== null || room.last_seq > 0) return { kind: "taken" }
  q.setRoomOwner.run(ownerId, roomId)
  return { kind: "ok" }
}

/**
 * MetaStore on SQLite (better-sqlite3): WAL journal, `synchronous=FULL` so an acknowledged write
 * survives power loss, schema created (and migrated) on open. Pass ":memory:" for tests.
 */
export class SqliteMetaStore implements MetaStore {
  readonly #db: Database.Database
  readonly #q: Statements
  /** Mailbox appends waiting for the next group commit. */
  #mailboxQueue: {
    message: MailboxAppend
    resolve: (result: MailboxAppendResult) => void
    reject: (err: unknown) => void
  }[] = []
  readonly #tx: {
    appendMailbox: Database.Transaction<(m: MailboxAppend) => MailboxAppendResult>
    appendMailboxBatch: Database.Transaction<(ms: readonly MailboxAppend[]) => MailboxAppendResult[]>
    appendRoomMessage: Database.Transaction<(m: RoomAppend) => RoomAppendResult>
    claimRoom: Database.Transaction<(r: string, o: string, now: number, ttl: number) => RoomClaimResult>
    purgeRooms: Database.Transaction<(now: number, tombstoneMs: number) => void>
    putBlobRef: Database.Transaction<(ref: BlobRefPut) => PutBlobRefResult>
    setBlobRecipients: Database.Transaction<(s: string, b: string, r: readonly string[]) => boolean>
    ackBlob: Database.Transaction<(s: string, b: string, d: string) => AckBlobResult>
    deleteMember: Database.Transaction<(s: string, d: string) => void>
    releaseBlobRefs: Database.Transaction<
      (before: number, limit: number) => { space_id: string; blob_id: string }[]
    >
  }

  private constructor(db: Database.Database) {
    this.#db = db
    const q = prepareStatements(db)
    this.#q = q
    this.#tx = {
      appendMailbox: db.transaction((m: MailboxAppend) => appendMailbox(q, m)),
      appendMailboxBatch: db.transaction((ms: readonly MailboxAppend[]) =>
        ms.map((m) => appendMailbox(q, m)),
      ),
      appendRoomMessage: db.transaction((m: RoomAppend) => appendRoomMessage(q, m)),
      claimRoom: db.transaction((roomId: string, ownerId: string, now: number, ttlMs: number) =>
        claimRoom(q, roomId, ownerId, now, ttlMs),
      ),
      purgeRooms: db.transaction((now: number, tombstoneMs: number) => {
        q.purgeRoomMessages.run(now)
        q.purgeRooms.run(now - tombstoneMs)
        q.purgeConsents.run(now)
      }),
      putBlobRef: db.transaction((ref: BlobRefPut) => putBlobRef(q, ref)),
      setBlobRecipients: db.transaction((spaceId: string, blobId: string, recipients: readonly string[]) => {
        if (q.getBlobRef.get(spaceId, blobId) === undefined) return false
        setRecipients(q, spaceId, blobId, recipients)
        return true
      }),
      ackBlob: db.transaction((spaceId: string, blobId: string, deviceId: string) =>
        ackBlob(q, spaceId, blobId, deviceId),
      ),
      deleteMember: db.transaction((spaceId: string, deviceId: string) => {
        q.deleteMember.run(spaceId, deviceId)
        // A device that left can no longer acknowledge: it must not hold the space's blobs forever.
        q.deleteRecipientsOfMember.run(spaceId, deviceId)
      }),
      releaseBlobRefs: db.transaction((before: number, limit: number) => {
        const refs = q.releasableBlobRefs.all(before, limit)
        for (const ref of refs) q.deleteBlobRef.run(ref.space_id, ref.blob_id)
        return refs
      }),
    }
  }

  /** Opens (creating if needed) the database at `path`, or an in-memory one for ":memory:". */
  static open(path: string): SqliteMetaStore {
    const db = new Database(path)
    try {
      db.pragma("journal_mode = WAL")
      db.pragma("synchronous = FULL")
      db.pragma("foreign_keys = ON")
      db.pragma("busy_timeout = 5000")
      const version = db.pragma("user_version", { simple: true }) as number
      if (version > schemaVersion) {
        throw new Error(`database schema version ${version} is newer than this server (${schemaVersion})`)
      }
      db.transaction(() => {
        db.exec(schema)
        // A fresh database has just got the version 1 tables.
        for (let v = Math.max(version, 1); v < schemaVersion; v++) db.exec(migrations[v - 1] ?? "")
        db.pragma(`user_version = ${schemaVersion}`)
      }).immediate()
      return new SqliteMetaStore(db)
    } catch (err) {
      db.close()
      throw err
    }
  }

  async createDevice(device: DeviceRecord): Promise<void> {
    this.#q.insertDevice.run(device.deviceId, device.kind, device.tokenHash, device.createdAt)
  }

  async getDevice(deviceId: DeviceId): Promise<DeviceRecord | undefined> {
    const row = this.#q.deviceById.get(deviceId)
    return row && toDevice(row)
  }

  async findDeviceByTokenHash(tokenHash: string): Promise<DeviceRecord | undefined> {
    const row = this.#q.deviceByTokenHash.get(tokenHash)
    return row && toDevice(row)
  }

  async createSpace(space: { spaceId: SpaceId; ownerId: DeviceId; createdAt: number }): Promise<void> {
    this.#q.insertSpace.run(space.spaceId, space.ownerId, space.createdAt)
  }

  async getRole(spaceId: SpaceId, deviceId: DeviceId): Promise<SpaceRole | undefined> {
    const space = this.#q.spaceOwner.get(spaceId)
    if (space === undefined) return undefined
    if (space.owner_id === deviceId) return "owner"
    return this.#q.isMember.get(spaceId, deviceId) ? "member" : undefined
  }

  async putMember(
    spaceId: SpaceId,
    deviceId: DeviceId,
    addedAt: number,
    options: { pending?: boolean } = {},
  ): Promise<void> {
    this.#q.putMember.run(spaceId, deviceId, addedAt, options.pending ? 1 : 0)
  }

  async deleteMember(spaceId: SpaceId, deviceId: DeviceId): Promise<void> {
    this.#tx.deleteMember.immediate(spaceId, deviceId)
  }

  async shareSpace(a: DeviceId, b: DeviceId): Promise<boolean> {
    return this.#q.shareSpace.get(a, a, b, b) !== undefined
  }

  async inActiveSpace(deviceId: DeviceId): Promise<boolean> {
    return this.#q.inActiveSpace.get(deviceId, deviceId) !== undefined
  }

  async countOwnedSpaces(ownerId: DeviceId): Promise<number> {
    return this.#q.countOwned.get(ownerId)?.n ?? 0
  }

  async countMembers(spaceId: SpaceId, except?: DeviceId): Promise<number> {
    return this.#q.countMembers.get(spaceId, except ?? "")?.n ?? 0
  }

  async hasJoinConsent(deviceId: DeviceId, ownerId: DeviceId, now: number): Promise<boolean> {
    return this.#q.hasConsent.get(deviceId, ownerId, now) !== undefined
  }

  async consumeJoinConsent(deviceId: DeviceId, ownerId: DeviceId): Promise<void> {
    this.#q.deleteConsent.run(deviceId, ownerId)
  }

  async listSpaceDevices(spaceId: SpaceId): Promise<DeviceId[]> {
    return this.#q.spaceDevices.all(spaceId, spaceId).map((r) => r.device_id as DeviceId)
  }

  async listSpaceOwners(): Promise<{ spaceId: SpaceId; ownerId: DeviceId }[]> {
    return this.#q.spaceOwners
      .all()
      .map((r) => ({ spaceId: r.space_id as SpaceId, ownerId: r.owner_id as DeviceId }))
  }

  async putBlobRef(ref: BlobRefPut): Promise<PutBlobRefResult> {
    return this.#tx.putBlobRef.immediate(ref)
  }

  async getBlobRef(spaceId: SpaceId, blobId: BlobId): Promise<{ size: number } | undefined> {
    return this.#q.getBlobRef.get(spaceId, blobId)
  }

  async listBlobRefs(
    spaceId: SpaceId,
    options: { limit: number; after?: { createdAt: number; blobId: BlobId } },
  ): Promise<BlobRefRecord[]> {
    const after = options.after ?? { createdAt: Number.MIN_SAFE_INTEGER, blobId: "" }
    return this.#q.listBlobRefs.all(spaceId, after.createdAt, after.blobId, options.limit).map((row) => ({
      blobId: row.blob_id as BlobId,
      size: row.size,
      createdAt: row.created_at,
      pendingRecipients: row.pending === null ? [] : (row.pending.split(",").sort() as DeviceId[]),
    }))
  }

  async spaceUsage(spaceId: SpaceId): Promise<number> {
    return this.#q.spaceUsage.get(spaceId)?.used ?? 0
  }

  async setBlobRecipients(
    spaceId: SpaceId,
    blobId: BlobId,
    recipients: readonly DeviceId[],
  ): Promise<boolean> {
    return this.#tx.setBlobRecipients.immediate(spaceId, blobId, recipients)
  }

  async ackBlob(spaceId: SpaceId, blobId: BlobId, deviceId: DeviceId): Promise<AckBlobResult> {
    return this.#tx.ackBlob.immediate(spaceId, blobId, deviceId)
  }

  async deleteBlobRef(spaceId: SpaceId, blobId: BlobId): Promise<boolean> {
    return this.#q.deleteBlobRef.run(spaceId, blobId).changes > 0
  }

  async releaseBlobRefs(createdUpTo: number, limit: number): Promise<{ spaceId: SpaceId; blobId: BlobId }[]> {
    return this.#tx.releaseBlobRefs
      .immediate(createdUpTo, limit)
      .map((r) => ({ spaceId: r.space_id as SpaceId, blobId: r.blob_id as BlobId }))
  }

  async isBlobReferenced(blobId: BlobId): Promise<boolean> {
    return this.#q.blobReferenced.get(blobId) !== undefined
  }

  /**
   * Appends arriving in the same turn of the event loop are committed together: one transaction,
   * one fsync, and no caller hears "ok" before its message is durable. Mailbox sends are the hot
   * path, and with `synchronous=FULL` the fsync per commit is what limits them.
   */
  appendMailbox(message: MailboxAppend): Promise<MailboxAppendResult> {
    return new Promise((resolve, reject) => {
      this.#mailboxQueue.push({ message, resolve, reject })
      if (this.#mailboxQueue.length === 1) setImmediate(() => this.#flushMailbox())
    })
  }

  #flushMailbox(): void {
    const batch = this.#mailboxQueue
    this.#mailboxQueue = []
    if (batch.length === 0) return
    try {
      const results = this.#tx.appendMailboxBatch.immediate(batch.map((b) => b.message))
      batch.forEach((b, i) => b.resolve(results[i] ?? { kind: "full" }))
    } catch {
      // One bad append (e.g. a recipient deleted meanwhile) must not fail the others: retry alone.
      for (const b of batch) {
        try {
          b.resolve(this.#tx.appendMailbox.immediate(b.message))
        } catch (err) {
          b.reject(err)
        }
      }
    }
  }

  async listMailbox(to: DeviceId, after: number, limit: number): Promise<StoredMessage[]> {
    return this.#q.listMailbox.all(to, after, limit).map(toMessage)
  }

  async ackMailbox(to: DeviceId, upTo: number): Promise<number> {
    return this.#q.ackMailbox.run(to, upTo).changes
  }

  async expireMailbox(sentUpTo: number): Promise<number> {
    return this.#q.expireMailbox.run(sentUpTo).changes
  }

  async claimRoom(roomId: RoomId, ownerId: DeviceId, now: number, ttlMs: number): Promise<RoomClaimResult> {
    return this.#tx.claimRoom.immediate(roomId, ownerId, now, ttlMs)
  }

  async appendRoomMessage(message: RoomAppend): Promise<RoomAppendResult> {
    return this.#tx.appendRoomMessage.immediate(message)
  }

  async listRoomMessages(
    roomId: RoomId,
    after: number,
    limit: number,
    now: number,
  ): Promise<StoredMessage[]> {
    return this.#q.listRoom.all(roomId, now, after, limit).map(toMessage)
  }

  async purgeRooms(now: number, tombstoneMs: number): Promise<void> {
    this.#tx.purgeRooms.immediate(now, tombstoneMs)
  }

  async putPushSubscription(subscription: PushSubscriptionRecord, createdAt: number): Promise<void> {
    const { deviceId, endpoint, p256dh, auth } = subscription
    this.#q.putPush.run(deviceId, endpoint, p256dh, auth, createdAt)
  }

  async deletePushSubscription(deviceId: DeviceId, endpoint?: string): Promise<void> {
    if (endpoint === undefined) this.#q.deletePush.run(deviceId)
    else this.#q.deletePushIf.run(deviceId, endpoint)
  }

  async listPushSubscriptions(deviceIds: readonly DeviceId[]): Promise<PushSubscriptionRecord[]> {
    const found: PushSubscriptionRecord[] = []
    for (const deviceId of deviceIds) {
      const row = this.#q.pushOf.get(deviceId)
      if (row !== undefined) {
        found.push({
          deviceId: row.device_id as DeviceId,
          endpoint: row.endpoint,
          p256dh: row.p256dh,
          auth: row.auth,
        })
      }
    }
    return found
  }

  async stats(): Promise<StoreStats> {
    const row = this.#q.stats.get()
    if (row === undefined) throw new Error("stats query returned no row")
    return row
  }

  async close(): Promise<void> {
    if (this.#db.open) this.#db.close()
  }
}
