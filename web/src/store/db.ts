import { openDB, type DBSchema, type IDBPDatabase } from "idb"
import { bufferSource, fromUtf8, randomBytes, utf8, type StateChange, type StateStore } from "@vigil/protocol"

/**
 * The phone's local store. Everything secret (signal token, MLS state, clip keys, event metadata) is sealed
 * with an AES-GCM key that WebCrypto created as non-extractable: script on this origin can use it but not
 * read it out, and a copy of the IndexedDB files alone is useless.
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
  seen: boolean
}

/** What the phone keeps in its StateStore, besides the events. */
export interface PhoneRecords extends Record<string, unknown> {
  device: DeviceRecord
  space: SpaceRecord
  pending: PendingRecord
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

  async getEvent(clipId: string): Promise<EventRecord | undefined> {
    const row = await this.db.get("events", clipId)
    return row ? this.unseal<EventRecord>(row.sealed, `event:${clipId}`) : undefined
  }

  close() {
    this.db.close()
  }
}
