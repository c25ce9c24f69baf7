import type { EventCache, EventCursor, LocalStore, StoredEvent } from "../../store/db.ts"

export const eventLabels = ["person", "pet", "vehicle", "motion"] as const

/** Empty sets show everything; within a set any matches (OR), across sets all must (AND). */
export interface TimelineFilter {
  cameras: ReadonlySet<string>
  labels: ReadonlySet<string>
}

export const noFilter: TimelineFilter = { cameras: new Set(), labels: new Set() }

export const matches = (f: TimelineFilter, s: StoredEvent): boolean =>
  (f.cameras.size === 0 || f.cameras.has(s.event.cameraId)) &&
  (f.labels.size === 0 || f.labels.has(s.event.label))

/** The part of LocalStore the timeline reads and writes. */
export type TimelineStore = Pick<
  LocalStore,
  "eventsPage" | "eventsUntil" | "markEventsSeen" | "markAllEventsSeen" | "deleteEvents"
>

/**
 * The events a timeline has loaded, newest first, a page at a time from IndexedDB. Only the pages loaded
 * are ever decrypted; a refresh re-reads the loaded range and decrypts only rows that changed.
 */
export class TimelineModel {
  /** Loaded events, newest first. */
  items: StoredEvent[] = []
  /** True once the oldest event is loaded. */
  exhausted = false
  private next: EventCursor | undefined
  private readonly cache: EventCache = new Map()
  private loading: Promise<void> | undefined
  private queue: Promise<unknown> = Promise.resolve()

  constructor(
    private readonly store: TimelineStore,
    readonly pageSize = 50,
  ) {}

  /** One change of `items` at a time: a refresh must not drop a page loaded meanwhile. */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn)
    this.queue = run.catch(() => undefined)
    return run
  }

  /** Loads the next older page (the first page when nothing is loaded). */
  loadMore(): Promise<void> {
    this.loading ??= this.serial(() => this.loadPage()).finally(() => (this.loading = undefined))
    return this.loading
  }

  private async loadPage() {
    if (this.exhausted) return
    const started = this.items.length > 0
    const page = await this.store.eventsPage(started ? this.next : undefined, this.pageSize, this.cache)
    // A refresh may have run meanwhile; merge by id rather than append blindly.
    const known = new Set(this.items.map((s) => s.id))
    this.items = [...this.items, ...page.events.filter((s) => !known.has(s.id))]
    this.next = page.next
    this.exhausted = page.next === undefined
  }

  /** Re-reads everything down to the oldest loaded event: new events, changed ones, removed ones. */
  refresh(): Promise<void> {
    return this.serial(() => this.reread())
  }

  private async reread(): Promise<void> {
    if (this.items.length === 0 && !this.exhausted) return this.loadPage()
    const oldest = this.items.at(-1)
    const until = oldest && !this.exhausted ? { startedAt: oldest.event.startedAt, id: oldest.id } : undefined
    this.items = await this.store.eventsUntil(until, this.cache)
    if (this.exhausted) this.next = undefined
    for (const id of this.cache.keys()) if (!this.items.some((s) => s.id === id)) this.cache.delete(id)
  }

  visible(filter: TimelineFilter): StoredEvent[] {
    return filter.cameras.size === 0 && filter.labels.size === 0
      ? this.items
      : this.items.filter((s) => matches(filter, s))
  }

  /** Cameras among the loaded events, by id, with their latest name. */
  cameras(): { id: string; name: string }[] {
    const seen = new Map<string, string>()
    for (const s of this.items)
      if (!seen.has(s.event.cameraId)) seen.set(s.event.cameraId, s.event.cameraName)
    return [...seen].map(([id, name]) => ({ id, name })).sort((a, b) => a.name.localeCompare(b.name))
  }

  unreadCount(): number {
    return this.items.reduce((n, s) => n + (s.event.seen ? 0 : 1), 0)
  }

  markSeen(id: string): Promise<void> {
    return this.serial(async () => {
      const item = this.items.find((s) => s.id === id)
      if (!item || item.event.seen) return
      this.replace(await this.store.markEventsSeen([item], this.cache))
    })
  }

  /** Marks every stored event read, loaded or not. */
  markAllSeen(): Promise<number> {
    return this.serial(async () => {
      const count = await this.store.markAllEventsSeen(this.cache)
      this.items = this.items.map((s) => this.cache.get(s.id) ?? s)
      return count
    })
  }

  remove(id: string): Promise<void> {
    return this.serial(async () => {
      await this.store.deleteEvents([id])
      this.items = this.items.filter((s) => s.id !== id)
      this.cache.delete(id)
    })
  }

  private replace(updated: StoredEvent[]) {
    const byId = new Map(updated.map((s) => [s.id, s]))
    this.items = this.items.map((s) => byId.get(s.id) ?? s)
  }
}

/** "Today", "Yesterday", or the date (with the year when it is not this year), in local time. */
export function dayLabel(ms: number, now = Date.now()): string {
  const day = new Date(ms)
  const today = new Date(now)
  const startOf = (d: Date) => new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime()
  const days = Math.round((startOf(today) - startOf(day)) / 86_400_000)
  if (days === 0) return "Today"
  if (days === 1) return "Yesterday"
  return day.toLocaleDateString([], {
    weekday: "short",
    month: "short",
    day: "numeric",
    ...(day.getFullYear() !== today.getFullYear() ? { year: "numeric" } : {}),
  })
}

/** A stable key for an event's local day. */
export function dayKey(ms: number): string {
  const d = new Date(ms)
  return `${d.getFullYear()}-${d.getMonth() + 1}-${d.getDate()}`
}
