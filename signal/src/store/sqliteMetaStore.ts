import Database from "better-sqlite3"
import type { BlobId, DeviceId, DeviceKind, RoomId, SpaceId } from "../ids.ts"
import type {
  DeviceRecord,
  MailboxAppendResult,
  MetaStore,
  RoomAppendResult,
  SpaceRole,
  StoredMessage,
} from "./metaStore.ts"

const schemaVersion = 1

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
      "SELECT 1 AS one FROM members WHERE space_id = ? AND device_id = ?",
    ),
    putMember: db.prepare<[string, string, number], void>(
      "INSERT INTO members (space_id, device_id, added_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
    ),
    deleteMember: db.prepare<[string, string], void>(
      "DELETE FROM members WHERE space_id = ? AND device_id = ?",
    ),
    shareSpace: db.prepare<[string, string, string, string], { one: number }>(
      `WITH a AS (SELECT space_id FROM spaces WHERE owner_id = ? UNION SELECT space_id FROM members WHERE device_id = ?),
            b AS (SELECT space_id FROM spaces WHERE owner_id = ? UNION SELECT space_id FROM members WHERE device_id = ?)
       SELECT 1 AS one FROM a JOIN b USING (space_id) LIMIT 1`,
    ),
    putBlobRef: db.prepare<[string, string, number, number], void>(
      "INSERT INTO blobs (space_id, blob_id, size, created_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
    ),
    getBlobRef: db.prepare<[string, string], { size: number }>(
      "SELECT size FROM blobs WHERE space_id = ? AND blob_id = ?",
    ),
    mailboxCount: db.prepare<[string], { n: number }>(
      "SELECT count(*) AS n FROM mailbox WHERE recipient_id = ?",
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
    room: db.prepare<[string], { expires_at: number; last_seq: number }>(
      "SELECT expires_at, last_seq FROM rooms WHERE room_id = ?",
    ),
    insertRoom: db.prepare<[string, number, number], void>(
      "INSERT INTO rooms (room_id, created_at, expires_at) VALUES (?, ?, ?)",
    ),
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

function appendMailbox(q: Statements, m: MailboxAppend): MailboxAppendResult {
  const count = q.mailboxCount.get(m.to)?.n ?? 0
  if (count >= m.maxMessages) return { kind: "full" }
  const next = q.nextMailboxSeq.get(m.to)
  if (next === undefined) throw new Error("mailbox recipient does not exist")
  q.insertMailbox.run(m.to, next.mailbox_seq, m.from, m.sentAt, m.body)
  return { kind: "ok", seq: next.mailbox_seq }
}

function appendRoomMessage(q: Statements, m: RoomAppend): RoomAppendResult {
  let room = q.room.get(m.roomId)
  if (room === undefined) {
    q.insertRoom.run(m.roomId, m.sentAt, m.sentAt + m.ttlMs)
    room = { expires_at: m.sentAt + m.ttlMs, last_seq: 0 }
  }
  if (room.expires_at <= m.sentAt) return { kind: "expired" }
  if (room.last_seq >= m.maxMessages) return { kind: "full" }
  const seq = room.last_seq + 1
  q.bumpRoomSeq.run(seq, m.roomId)
  q.insertRoomMessage.run(m.roomId, seq, m.from, m.sentAt, m.body)
  return { kind: "ok", seq }
}

/**
 * MetaStore on SQLite (better-sqlite3): WAL journal, `synchronous=FULL` so an acknowledged write
 * survives power loss, schema created on open. Pass ":memory:" for tests.
 */
export class SqliteMetaStore implements MetaStore {
  readonly #db: Database.Database
  readonly #q: Statements
  readonly #tx: {
    appendMailbox: Database.Transaction<(m: MailboxAppend) => MailboxAppendResult>
    appendRoomMessage: Database.Transaction<(m: RoomAppend) => RoomAppendResult>
    purgeRooms: Database.Transaction<(now: number, tombstoneMs: number) => void>
  }

  private constructor(db: Database.Database) {
    this.#db = db
    this.#q = prepareStatements(db)
    this.#tx = {
      appendMailbox: db.transaction((m: MailboxAppend) => appendMailbox(this.#q, m)),
      appendRoomMessage: db.transaction((m: RoomAppend) => appendRoomMessage(this.#q, m)),
      purgeRooms: db.transaction((now: number, tombstoneMs: number) => {
        this.#q.purgeRoomMessages.run(now)
        this.#q.purgeRooms.run(now - tombstoneMs)
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
      db.exec(schema)
      db.pragma(`user_version = ${schemaVersion}`)
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

  async putMember(spaceId: SpaceId, deviceId: DeviceId, addedAt: number): Promise<void> {
    this.#q.putMember.run(spaceId, deviceId, addedAt)
  }

  async deleteMember(spaceId: SpaceId, deviceId: DeviceId): Promise<void> {
    this.#q.deleteMember.run(spaceId, deviceId)
  }

  async shareSpace(a: DeviceId, b: DeviceId): Promise<boolean> {
    return this.#q.shareSpace.get(a, a, b, b) !== undefined
  }

  async putBlobRef(ref: {
    spaceId: SpaceId
    blobId: BlobId
    size: number
    createdAt: number
  }): Promise<void> {
    this.#q.putBlobRef.run(ref.spaceId, ref.blobId, ref.size, ref.createdAt)
  }

  async getBlobRef(spaceId: SpaceId, blobId: BlobId): Promise<{ size: number } | undefined> {
    return this.#q.getBlobRef.get(spaceId, blobId)
  }

  async appendMailbox(message: MailboxAppend): Promise<MailboxAppendResult> {
    return this.#tx.appendMailbox.immediate(message)
  }

  async listMailbox(to: DeviceId, after: number, limit: number): Promise<StoredMessage[]> {
    return this.#q.listMailbox.all(to, after, limit).map(toMessage)
  }

  async ackMailbox(to: DeviceId, upTo: number): Promise<number> {
    return this.#q.ackMailbox.run(to, upTo).changes
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

  async close(): Promise<void> {
    if (this.#db.open) this.#db.close()
  }
}
