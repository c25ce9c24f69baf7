import { openDB, type DBSchema, type IDBPDatabase, type IDBPIndex } from "idb"
import {
  bufferSource,
  fromUtf8,
  randomBytes,
  toBase64,
  utf8,
  type DeviceRoster,
  type StateChange,
  type StateStore,
} from "@vigil/protocol"

/**
 * The phone's local store. Everything secret (signal token, MLS state, clip keys, event metadata) is sealed
 * with an AES-GCM key that WebCrypto created as non-extractable: script on this origin can use it but not
 * read its bytes out, so an injected script cannot carry it away for later. It does NOT protect a copy of
 * the files: the key is stored in this same database (the "keys" store), and the browser writes its key
 * material into the profile with it, so a copied profile opens everything (docs/02-threat-model.md, "A
 * thief"; issue 14, finding 12). At rest, the device's own storage encryption is what protects it.
 *
 * Updates that belong together (new MLS state + the event it revealed + the mailbox cursor) are encrypted
 * first and then written in ONE IndexedDB transaction, so a closed tab can never leave them inconsistent.
 */
/** WebCrypto's key type, named without the DOM lib so Node-side code that imports this file compiles. */
type VaultKey = Parameters<typeof crypto.subtle.encrypt>[1]

interface Sealed {
  iv: Uint8Array
  ct: ArrayBuffer
}

interface VigilDb extends DBSchema {
  keys: { key: string; value: VaultKey }
  records: { key: string; value: Sealed }
  events: {
    key: string
    value: { id: string; startedAt: number; sealed: Sealed }
    indexes: { byTime: number }
  }
}

export interface DeviceRecord {
  signalUrl: string
  deviceId: string
  token: string
  /** base64 of this phone's MLS signature key pair: its lasting identity, used to rejoin after a desync */
  signPublicKey: string
  signKey: string
}

export interface SpaceRecord {
  spaceId: string
  hubDeviceId: string
  hubName: string
  /** base64 of the hub's pinned signature key */
  hubKey: string
  /** the space's MLS ciphersuite (from the invite); absent in records from before it was stored: suite 1 */
  suite?: string
  /** mailbox cursor: highest seq processed */
  after: number
  /** when this phone last joined with fresh leaf keys (pairing, rejoin or refresh), ms */
  keysFreshAt?: number
  /** mailbox seq of the last message MLS authenticated (or the Welcome joined from) */
  verifiedSeq?: number
  /** when the hub was last heard from: the last authenticated message, ms */
  heardAt?: number
  /** the highest `seq` of a clip announcement or sighting seen */
  announcedSeq?: number
  /** announcements whose `seq` was skipped and that never came (until the user dismissed the notice) */
  missedAnnouncements?: number
  /** the hub's last roster (device-roster, verified when it came): phones, roles and cameras */
  roster?: DeviceRoster
  /** cameras the hub last said were offline (camera id → name and since when, ms); removed when back */
  offlineCameras?: Record<string, { name: string; since: number }>
}

/**
 * Mailbox messages whose plaintext header claims a later epoch than the phone's (issue 14, finding 2):
 * kept, bounded, until a commit reaches that epoch. The claim is unauthenticated, so it changes nothing else.
 */
export interface HeldRecord {
  messages: { seq: number; body: string; epoch: string; heldAt: number }[]
}

export interface PendingRecord {
  keyPackage: string
  privatePackage: string
  spaceId: string
  /** A scheduled key refresh: the current session stays in use until the new Welcome arrives. */
  refresh?: boolean
}

export interface EventRecord {
  /** The clip id; for a sighting whose clip has not arrived yet, `s-<camera>-<motion start>`. */
  id?: string
  /** True for a sighting: an object was recognised, the clip is still being recorded. */
  pending?: boolean
  motionStartedAt?: number
  /** Encrypted picture at signal, with the secret exported for it (base64). */
  thumbnail?: { clipId: string; blobId: string; size: number; secret: string }
  detections?: {
    label: string
    className: string
    score: number
    box: { x: number; y: number; width: number; height: number }
    at: number
  }[]
  clipId: string
  blobId: string
  spaceId: string
  size: number
  cameraId: string
  cameraName: string
  label: string
  startedAt: number
  endedAt: number
  mimeType: string
  /** base64 of the clip secret exported from the announcing epoch */
  secret: string
  /** base64url of the hub-signed SHA-256 of each encrypted record (clip announcements that list them). */
  recordHashes?: string
  seen: boolean
}

/** Where a page of events ends: the next page starts just after it, in newest-first order. */
export interface EventCursor {
  startedAt: number
  id: string
}

/** A decrypted event with the identity of its sealed copy (`version` changes on every write). */
export interface StoredEvent {
  id: string
  version: string
  event: EventRecord
}

/** Decrypted events by id, reused while their sealed copy is unchanged. */
export type EventCache = Map<string, StoredEvent>

type EventRow = VigilDb["events"]["value"]

/** IndexedDB's key ranges, named without the DOM lib (like `VaultKey`) so Node-side importers compile. */
const keyRanges = () =>
  (
    globalThis as unknown as {
      IDBKeyRange: { upperBound(n: number): unknown; lowerBound(n: number): unknown }
    }
  ).IDBKeyRange
type ByTimeQuery = Parameters<IDBPIndex<VigilDb, ["events"], "events", "byTime">["openCursor"]>[0]

/** Every seal draws a fresh random IV, so the IV names one written version of an event. */
const versionOf = (row: EventRow) => toBase64(row.sealed.iv)

/** Newest first: later start, then (same start) larger id — the order of a "prev" cursor on `byTime`. */
export function newerFirst(a: EventCursor, b: EventCursor): number {
  return b.startedAt - a.startedAt || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0)
}

/** What the phone keeps in its StateStore, besides the events. */
export interface PhoneRecords extends Record<string, unknown> {
  device: DeviceRecord
  space: SpaceRecord
  pending: PendingRecord
  held: HeldRecord
  /** base64 of ts-mls's encoding of the group state */
  group: string
}

export class LocalStore<R extends Record<string, unknown> = PhoneRecords> implements StateStore<R> {
  private constructor(
    private readonly db: IDBPDatabase<VigilDb>,
    private readonly key: VaultKey,
  ) {}

  static async open<R extends Record<string, unknown> = PhoneRecords>(
    name = "vigil",
  ): Promise<LocalStore<R>> {
    const db = await openDB<VigilDb>(name, 1, {
      upgrade(db) {
        db.createObjectStore("keys")
        db.createObjectStore("records")
        db.createObjectStore("events", { keyPath: "id" }).createIndex("byTime", "startedAt")
      },
    })
    let key = await db.get("keys", "vault")
    if (!key) {
      key = await crypto.subtle.generateKey({ name: "AES-GCM", length: 256 }, false, ["encrypt", "decrypt"])
      await db.put("keys", key, "vault")
    }
    return new LocalStore<R>(db, key)
  }

  private async seal(value: unknown, name: string): Promise<Sealed> {
    const iv = randomBytes(12)
    const ct = await crypto.subtle.encrypt(
      { name: "AES-GCM", iv: bufferSource(iv), additionalData: bufferSource(utf8(name)) },
      this.key,
      bufferSource(utf8(JSON.stringify(value))),
    )
    return { iv, ct }
  }

  private async unseal<T>(sealed: Sealed, name: string): Promise<T> {
    const plain = await crypto.subtle.decrypt(
      { name: "AES-GCM", iv: bufferSource(sealed.iv), additionalData: bufferSource(utf8(name)) },
      this.key,
      sealed.ct,
    )
    return JSON.parse(fromUtf8(new Uint8Array(plain))) as T
  }

  async get<K extends keyof R & string>(key: K): Promise<R[K] | undefined> {
    const sealed = await this.db.get("records", key)
    return sealed ? this.unseal<R[K]>(sealed, key) : undefined
  }

  /**
   * Writes records, removals and events atomically. Values are sealed before the transaction opens,
   * because an IndexedDB transaction commits as soon as it waits on anything else.
   */
  async commit(change: StateChange<R> & { events?: EventRecord[]; removeEvents?: string[] }): Promise<void> {
    const puts = await Promise.all(
      Object.entries(change.put ?? {}).map(
        async ([name, value]) => [name, await this.seal(value, name)] as const,
      ),
    )
    const events = await Promise.all(
      (change.events ?? []).map(async (e) => {
        const id = e.id ?? e.clipId
        return { id, startedAt: e.startedAt, sealed: await this.seal(e, `event:${id}`) }
      }),
    )
    const tx = this.db.transaction(["records", "events"], "readwrite")
    const records = tx.objectStore("records")
    const ops: Promise<unknown>[] = []
    for (const [name, sealed] of puts) ops.push(records.put(sealed, name))
    for (const name of change.remove ?? []) ops.push(records.delete(name))
    for (const id of change.removeEvents ?? []) ops.push(tx.objectStore("events").delete(id))
    for (const e of events) ops.push(tx.objectStore("events").put(e))
    await Promise.all([...ops, tx.done])
  }

  /** Newest first. */
  async listEvents(limit = 200): Promise<EventRecord[]> {
    const out: EventRecord[] = []
    let cursor = await this.db.transaction("events").store.index("byTime").openCursor(null, "prev")
    const sealed: { id: string; sealed: Sealed }[] = []
    while (cursor && sealed.length < limit) {
      sealed.push(cursor.value)
      cursor = await cursor.continue()
    }
    for (const s of sealed) out.push(await this.unseal<EventRecord>(s.sealed, `event:${s.id}`))
    return out
  }

  /**
   * One page of events, newest first, strictly after `after` (from the newest when absent). Walks the
   * `byTime` index with a cursor and decrypts only the rows of this page, skipping those `cache` already
   * holds in the same version. `next` is absent once the oldest event was returned.
   */
  async eventsPage(
    after: EventCursor | undefined,
    limit: number,
    cache?: EventCache,
  ): Promise<{ events: StoredEvent[]; next: EventCursor | undefined }> {
    const index = this.db.transaction("events").store.index("byTime")
    const range = after ? (keyRanges().upperBound(after.startedAt) as ByTimeQuery) : null
    const rows: EventRow[] = []
    let cursor = await index.openCursor(range, "prev")
    let more = false
    while (cursor) {
      const row = cursor.value
      // Same start as the cursor: those at or before it in id order were on earlier pages.
      if (!after || newerFirst(after, row) < 0) {
        if (rows.length === limit) {
          more = true
          break
        }
        rows.push(row)
      }
      cursor = await cursor.continue()
    }
    const events = await this.open(rows, cache)
    const last = rows.at(-1)
    return { events, next: more && last ? { startedAt: last.startedAt, id: last.id } : undefined }
  }

  /** Every event from the newest down to and including `until` (what a timeline has loaded), newest first. */
  async eventsUntil(until: EventCursor | undefined, cache?: EventCache): Promise<StoredEvent[]> {
    const range = until ? (keyRanges().lowerBound(until.startedAt) as ByTimeQuery) : null
    const rows = (await this.db.transaction("events").store.index("byTime").getAll(range))
      .filter((row) => !until || newerFirst(row, until) <= 0)
      .sort(newerFirst)
    return this.open(rows, cache)
  }

  private async open(rows: EventRow[], cache?: EventCache): Promise<StoredEvent[]> {
    return Promise.all(
      rows.map(async (row) => {
        const version = versionOf(row)
        const known = cache?.get(row.id)
        if (known?.version === version) return known
        const event = await this.unseal<EventRecord>(row.sealed, `event:${row.id}`)
        const stored = { id: row.id, version, event }
        cache?.set(row.id, stored)
        return stored
      }),
    )
  }

  /**
   * Marks events read. An event rewritten since it was read (a sighting replaced by its clip) keeps its
   * new version: it is news. Returns the new versions of the events marked.
   */
  async markEventsSeen(items: readonly StoredEvent[], cache?: EventCache): Promise<StoredEvent[]> {
    const unseen = items.filter((s) => !s.event.seen)
    const sealed = await Promise.all(
      unseen.map(async (s) => {
        const event = { ...s.event, seen: true }
        return {
          s,
          event,
          row: { id: s.id, startedAt: event.startedAt, sealed: await this.seal(event, `event:${s.id}`) },
        }
      }),
    )
    const tx = this.db.transaction("events", "readwrite")
    const current = await Promise.all(sealed.map(({ s }) => tx.store.get(s.id)))
    const written: StoredEvent[] = []
    const ops: Promise<unknown>[] = []
    sealed.forEach(({ s, event, row }, i) => {
      const now = current[i]
      if (!now || versionOf(now) !== s.version) return
      ops.push(tx.store.put(row))
      const stored = { id: s.id, version: versionOf(row), event }
      cache?.set(s.id, stored)
      written.push(stored)
    })
    await Promise.all([...ops, tx.done])
    return written
  }

  /** Marks every event read, a batch at a time (each is sealed on its own, so each is rewritten). */
  async markAllEventsSeen(cache?: EventCache, batch = 200): Promise<number> {
    let count = 0
    let after: EventCursor | undefined
    do {
      const page = await this.eventsPage(after, batch, cache)
      count += (await this.markEventsSeen(page.events, cache)).length
      after = page.next
    } while (after)
    return count
  }

  /** Removes events from this phone. */
  async deleteEvents(ids: readonly string[]): Promise<void> {
    const tx = this.db.transaction("events", "readwrite")
    await Promise.all([...ids.map((id) => tx.store.delete(id)), tx.done])
  }

  async getEvent(clipId: string): Promise<EventRecord | undefined> {
    const row = await this.db.get("events", clipId)
    return row ? this.unseal<EventRecord>(row.sealed, `event:${clipId}`) : undefined
  }

  close() {
    this.db.close()
  }
}
