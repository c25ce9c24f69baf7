/**
 * MemoryRelay's pairing rooms, join consents and pairing announcements, kept as signal keeps them
 * (signal/src/pairing/, store/sqliteMetaStore.ts, pairing/announcementStore.ts).
 */
import { fail, type RelayLimits } from "./memoryRelayRules.ts"
import type { PairingAnnouncement, SignalMessage } from "./relayTransport.ts"

/** The device making the call. */
interface Caller {
  deviceId: string
  /** When it registered: an older hub wins an announcement place over a younger one. */
  createdAt: number
}

interface Room {
  expiresAt: number
  lastSeq: number
  ownerId: string | undefined
  messages: SignalMessage[]
}

interface Announcement extends PairingAnnouncement {
  deviceCreatedAt: number
}

const copy = (m: SignalMessage): SignalMessage => ({ ...m, body: m.body.slice() })

export class MemoryPairing {
  readonly #now: () => number
  readonly #limits: RelayLimits
  readonly #notify: (key: string) => void
  readonly #rooms = new Map<string, Room>()
  /** `${deviceId} ${ownerId}` → when the consent to join the owner's space expires. */
  readonly #consents = new Map<string, number>()
  /** Address group → room id → announcement. */
  readonly #announcements = new Map<string, Map<string, Announcement>>()

  constructor(now: () => number, limits: RelayLimits, notify: (key: string) => void) {
    this.#now = now
    this.#limits = limits
    this.#notify = notify
  }

  /** The device wrote, not too long ago, into a room the owner claimed. */
  hasConsent(deviceId: string, ownerId: string): boolean {
    return (this.#consents.get(`${deviceId} ${ownerId}`) ?? 0) > this.#now()
  }

  /** One request, one membership: a later removal is final. */
  consumeConsent(deviceId: string, ownerId: string): void {
    this.#consents.delete(`${deviceId} ${ownerId}`)
  }

  // Pairing rooms.

  /** Forgets the messages of expired rooms, the rooms themselves a tombstone period later, old consents. */
  purgeRooms(): void {
    const now = this.#now()
    for (const [roomId, room] of this.#rooms) {
      if (room.expiresAt <= now - this.#limits.roomTombstoneMs) this.#rooms.delete(roomId)
      else if (room.expiresAt <= now) room.messages = []
    }
    for (const [key, expiresAt] of this.#consents) if (expiresAt <= now) this.#consents.delete(key)
  }

  claimRoom(caller: Caller, roomId: string, takenMessage: string): void {
    const now = this.#now()
    const room = this.#rooms.get(roomId)
    if (room === undefined) {
      const expiresAt = now + this.#limits.roomTtlMs
      this.#rooms.set(roomId, { expiresAt, lastSeq: 0, ownerId: caller.deviceId, messages: [] })
      return
    }
    if (room.expiresAt <= now) fail("ROOM_EXPIRED", "pairing room expired")
    if (room.ownerId === caller.deviceId) return
    // A room someone else wrote to first (or claimed) is not this hub's to take over.
    if (room.ownerId !== undefined || room.lastSeq > 0) fail("FORBIDDEN", takenMessage)
    room.ownerId = caller.deviceId
  }

  postToRoom(sender: Caller, roomId: string, body: Uint8Array): number {
    const now = this.#now()
    let room = this.#rooms.get(roomId)
    if (room === undefined) {
      room = { expiresAt: now + this.#limits.roomTtlMs, lastSeq: 0, ownerId: undefined, messages: [] }
      this.#rooms.set(roomId, room)
    }
    if (room.expiresAt <= now) fail("ROOM_EXPIRED", "pairing room expired")
    if (room.lastSeq >= this.#limits.maxRoomMessages) fail("ROOM_FULL", "pairing room is full")
    const seq = ++room.lastSeq
    room.messages.push({ seq, from: sender.deviceId, sentAt: now, body: body.slice() })
    // Writing into a hub's pairing room is asking that hub to be let in: the only way a device consents.
    if (room.ownerId !== undefined && room.ownerId !== sender.deviceId) {
      const key = `${sender.deviceId} ${room.ownerId}`
      this.#consents.set(key, Math.max(this.#consents.get(key) ?? 0, now + this.#limits.joinConsentTtlMs))
    }
    this.#notify(`room:${roomId}`)
    return seq
  }

  readRoom(roomId: string, after: number, limit: number): SignalMessage[] {
    const room = this.#rooms.get(roomId)
    if (room === undefined || room.expiresAt <= this.#now()) return []
    return room.messages
      .filter((m) => m.seq > after)
      .slice(0, limit)
      .map(copy)
  }

  // Pairing announcements (signal/src/pairing/announcementStore.ts).

  #liveAnnouncements(group: string): Map<string, Announcement> | undefined {
    const entries = this.#announcements.get(group)
    if (entries === undefined) return undefined
    for (const [roomId, a] of entries) if (a.expiresAt <= this.#now()) entries.delete(roomId)
    if (entries.size > 0) return entries
    this.#announcements.delete(group)
    return undefined
  }

  /** Announcing claims the room; a device holds one announcement per address; older hubs win places. */
  announce(caller: Caller, group: string, roomId: string, name: Uint8Array): number {
    const taken = "another device announced this room"
    const now = this.#now()
    const expiresAt = now + this.#limits.announcementTtlMs
    this.claimRoom(caller, roomId, taken)
    let entries = this.#liveAnnouncements(group)
    const existing = entries?.get(roomId)
    if (existing !== undefined && existing.deviceId !== caller.deviceId) fail("FORBIDDEN", taken)
    if (entries !== undefined && existing === undefined) {
      for (const [id, a] of entries) if (a.deviceId === caller.deviceId) entries.delete(id)
      if (entries.size >= this.#limits.maxAnnouncementsPerAddress) {
        let youngest: Announcement | undefined
        for (const a of entries.values()) {
          if (youngest === undefined || a.deviceCreatedAt > youngest.deviceCreatedAt) youngest = a
        }
        if (youngest === undefined || youngest.deviceCreatedAt <= caller.createdAt) {
          fail("ANNOUNCEMENTS_FULL", "too many hubs are announcing from this address")
        }
        entries.delete(youngest.roomId)
      }
    }
    if (entries === undefined) {
      entries = new Map()
      this.#announcements.set(group, entries)
    }
    entries.set(roomId, {
      roomId,
      name: name.slice(),
      deviceId: caller.deviceId,
      deviceCreatedAt: caller.createdAt,
      announcedAt: now,
      expiresAt,
    })
    return expiresAt
  }

  listAnnouncements(group: string): PairingAnnouncement[] {
    const entries = this.#liveAnnouncements(group)
    return [...(entries?.values() ?? [])]
      .sort((a, b) => b.announcedAt - a.announcedAt)
      .map(({ roomId, name, deviceId, announcedAt, expiresAt }) => ({
        roomId,
        name: name.slice(),
        deviceId,
        announcedAt,
        expiresAt,
      }))
  }

  withdraw(caller: Caller, roomId: string): void {
    for (const [group, entries] of this.#announcements) {
      if (entries.get(roomId)?.deviceId !== caller.deviceId) continue
      entries.delete(roomId)
      if (entries.size === 0) this.#announcements.delete(group)
    }
  }
}
