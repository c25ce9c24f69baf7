import type { DeviceId, RoomId } from "../ids.ts"

/** A hub in pairing mode, as listed to phones behind the same public address. */
export interface Announcement {
  roomId: RoomId
  /** Opaque to the relay (standard base64): a display name, possibly encrypted by the clients. */
  name: string
  deviceId: DeviceId
  /** When the announcing device registered: an older hub wins a place over a younger one. */
  deviceCreatedAt: number
  announcedAt: number
  expiresAt: number
}

export type AnnounceResult = { kind: "ok" } | { kind: "full" } | { kind: "taken" }

/**
 * Pairing announcements keyed by public address group. Ephemeral by design: the addresses are never
 * written to disk. One process only; several relay processes would share it through e.g. Redis.
 */
export interface AnnouncementStore {
  /**
   * Adds or refreshes (same device, same room) an announcement. A device holds one per group: a new room
   * replaces its earlier one. Past `maxPerGroup`, the announcement of the most recently registered device
   * gives way to one of a device registered before it; otherwise `full`.
   */
  put(group: string, announcement: Announcement, maxPerGroup: number, now: number): AnnounceResult
  /** Live announcements of the group, newest first. */
  list(group: string, now: number): Announcement[]
  /** Withdraws the device's announcement of the room, wherever it was made; false if none. */
  delete(deviceId: DeviceId, roomId: RoomId): boolean
  /** Forgets expired announcements. */
  purge(now: number): void
  /** Live announcements in total (metrics). */
  readonly size: number
}

/** AnnouncementStore in memory, bounded by `maxGroups` address groups. */
export class MemoryAnnouncementStore implements AnnouncementStore {
  readonly #groups = new Map<string, Map<RoomId, Announcement>>()
  readonly #maxGroups: number

  constructor(maxGroups = 100_000) {
    this.#maxGroups = maxGroups
  }

  #live(group: string, now: number): Map<RoomId, Announcement> | undefined {
    const entries = this.#groups.get(group)
    if (entries === undefined) return undefined
    for (const [roomId, a] of entries) if (a.expiresAt <= now) entries.delete(roomId)
    if (entries.size === 0) {
      this.#groups.delete(group)
      return undefined
    }
    return entries
  }

  put(group: string, announcement: Announcement, maxPerGroup: number, now: number): AnnounceResult {
    let entries = this.#live(group, now)
    const existing = entries?.get(announcement.roomId)
    if (existing !== undefined && existing.deviceId !== announcement.deviceId) return { kind: "taken" }
    if (entries !== undefined && existing === undefined) {
      // One device, one announcement: many rooms of one announcer must not push the others out.
      for (const [roomId, a] of entries) if (a.deviceId === announcement.deviceId) entries.delete(roomId)
      if (entries.size >= maxPerGroup) {
        // Full: a flood of freshly registered devices cannot hide a hub registered before them.
        let youngest: Announcement | undefined
        for (const a of entries.values()) {
          if (youngest === undefined || a.deviceCreatedAt > youngest.deviceCreatedAt) youngest = a
        }
        if (youngest === undefined || youngest.deviceCreatedAt <= announcement.deviceCreatedAt) {
          return { kind: "full" }
        }
        entries.delete(youngest.roomId)
      }
    }
    if (entries === undefined) {
      if (this.#groups.size >= this.#maxGroups) this.purge(now)
      if (this.#groups.size >= this.#maxGroups) return { kind: "full" }
      entries = new Map()
      this.#groups.set(group, entries)
    }
    entries.set(announcement.roomId, announcement)
    return { kind: "ok" }
  }

  list(group: string, now: number): Announcement[] {
    const entries = this.#live(group, now)
    if (entries === undefined) return []
    return [...entries.values()].sort((a, b) => b.announcedAt - a.announcedAt)
  }

  delete(deviceId: DeviceId, roomId: RoomId): boolean {
    let deleted = false
    for (const [group, entries] of this.#groups) {
      const a = entries.get(roomId)
      if (a !== undefined && a.deviceId === deviceId) {
        entries.delete(roomId)
        deleted = true
        if (entries.size === 0) this.#groups.delete(group)
      }
    }
    return deleted
  }

  purge(now: number): void {
    for (const group of [...this.#groups.keys()]) this.#live(group, now)
  }

  get size(): number {
    let n = 0
    for (const entries of this.#groups.values()) n += entries.size
    return n
  }
}
