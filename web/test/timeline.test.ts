import "fake-indexeddb/auto"
import { describe, expect, it } from "vitest"
import { dayLabel, TimelineModel } from "../src/features/events/timelineModel.ts"
import {
  dayHeight,
  layout,
  rowHeight,
  windowRange,
  withDayHeadings,
} from "../src/features/events/windowing.ts"
import { LocalStore, type EventRecord } from "../src/store/db.ts"

const labels = ["person", "pet", "vehicle", "motion"]

function event(i: number, startedAt: number, extra: Partial<EventRecord> = {}): EventRecord {
  const id = `clip-${String(i).padStart(5, "0")}`
  return {
    id,
    clipId: id,
    blobId: "b".repeat(64),
    spaceId: "s",
    size: 1000,
    cameraId: i % 3 === 0 ? "garden" : "door",
    cameraName: i % 3 === 0 ? "Garden" : "Front door",
    label: labels[i % 4]!,
    startedAt,
    endedAt: startedAt + 5000,
    mimeType: "video/mp4",
    secret: "AAAA",
    seen: false,
    ...extra,
  }
}

async function seeded(count: number, time = (i: number) => 1_700_000_000_000 + i * 1000) {
  const store = await LocalStore.open(`timeline-${Math.random().toString(36).slice(2)}`)
  const events = Array.from({ length: count }, (_, i) => event(i, time(i)))
  for (let i = 0; i < events.length; i += 500) await store.commit({ events: events.slice(i, i + 500) })
  return { store, events }
}

describe("LocalStore event pages", () => {
  it("pages newest first with no gap or repeat, even when many events share a start time", async () => {
    // Groups of 7 events per start time: page boundaries fall inside groups.
    const { store, events } = await seeded(130, (i) => 1_700_000_000_000 + Math.floor(i / 7) * 1000)
    const seen: string[] = []
    let after
    let pages = 0
    do {
      const page = await store.eventsPage(after, 20)
      expect(page.events.length).toBeLessThanOrEqual(20)
      seen.push(...page.events.map((s) => s.id))
      after = page.next
      pages++
    } while (after)
    expect(pages).toBe(7)
    const expected = [...events]
      .sort((a, b) => b.startedAt - a.startedAt || (a.id! < b.id! ? 1 : -1))
      .map((e) => e.id)
    expect(seen).toEqual(expected)
  })

  it("decrypts only the page asked for, and reuses what the cache holds", async () => {
    const { store } = await seeded(300)
    const cache = new Map()
    const first = await store.eventsPage(undefined, 50, cache)
    expect(cache.size).toBe(50)
    expect(first.events[0]!.event.id).toBe("clip-00299")
    const again = await store.eventsUntil(
      { startedAt: first.events[49]!.event.startedAt, id: first.events[49]!.id },
      cache,
    )
    expect(again).toHaveLength(50)
    // The same objects: nothing was decrypted again.
    again.forEach((s, i) => expect(s).toBe(first.events[i]))
  })

  it("does not let a stale read mark overwrite a newer version of the event", async () => {
    const { store } = await seeded(3)
    const page = await store.eventsPage(undefined, 10)
    const stale = page.events[0]!
    // The mailbox replaces the event meanwhile (a sighting's clip arriving).
    await store.commit({ events: [{ ...stale.event, size: 4242 }] })
    expect(await store.markEventsSeen([stale])).toHaveLength(0)
    const now = await store.getEvent(stale.id)
    expect(now).toMatchObject({ size: 4242, seen: false })
  })
})

describe("TimelineModel", () => {
  it("loads page by page and refresh brings new, changed and deleted events", async () => {
    const { store } = await seeded(120)
    const model = new TimelineModel(store, 50)
    await model.loadMore()
    expect(model.items).toHaveLength(50)
    await model.loadMore()
    expect(model.items).toHaveLength(100)
    expect(model.exhausted).toBe(false)

    await store.commit({ events: [event(500, 1_800_000_000_000)], removeEvents: ["clip-00110"] })
    await model.refresh()
    expect(model.items[0]!.id).toBe("clip-00500")
    expect(model.items.some((s) => s.id === "clip-00110")).toBe(false)
    expect(model.items).toHaveLength(100)

    await model.loadMore()
    expect(model.exhausted).toBe(true)
    expect(model.items).toHaveLength(120)
    expect(new Set(model.items.map((s) => s.id)).size).toBe(120)
  })

  it("a refresh racing a page load loses neither", async () => {
    const { store } = await seeded(120)
    const model = new TimelineModel(store, 50)
    await model.loadMore()
    await Promise.all([model.loadMore(), model.refresh()])
    expect(model.items).toHaveLength(100)
  })

  it("filters by label and camera, marks read one and all, and removes", async () => {
    const { store } = await seeded(60)
    const model = new TimelineModel(store, 20)
    await model.loadMore()
    const people = model.visible({ cameras: new Set(), labels: new Set(["person"]) })
    expect(people.length).toBeGreaterThan(0)
    expect(people.every((s) => s.event.label === "person")).toBe(true)
    const gardenPets = model.visible({ cameras: new Set(["garden"]), labels: new Set(["pet", "person"]) })
    expect(
      gardenPets.every((s) => s.event.cameraId === "garden" && ["pet", "person"].includes(s.event.label)),
    ).toBe(true)
    expect(model.cameras().map((c) => c.name)).toEqual(["Front door", "Garden"])

    expect(model.unreadCount()).toBe(20)
    await model.markSeen(model.items[0]!.id)
    expect(model.unreadCount()).toBe(19)
    // Read marks are stored (sealed), not just kept in memory.
    expect((await store.getEvent(model.items[0]!.id))?.seen).toBe(true)

    expect(await model.markAllSeen()).toBe(59)
    expect(model.unreadCount()).toBe(0)
    await model.loadMore()
    await model.loadMore()
    expect(model.items).toHaveLength(60)
    expect(model.unreadCount()).toBe(0)

    await model.remove(model.items[0]!.id)
    expect(model.items).toHaveLength(59)
    expect(await store.getEvent("clip-00059")).toBeUndefined()
  })
})

describe("dayLabel", () => {
  it("names today and yesterday, and dates before", () => {
    const now = new Date(2026, 10, 22, 15, 2).getTime()
    expect(dayLabel(new Date(2026, 10, 22, 0, 1).getTime(), now)).toBe("Today")
    expect(dayLabel(new Date(2026, 10, 21, 23, 59).getTime(), now)).toBe("Yesterday")
    expect(dayLabel(new Date(2026, 10, 18, 12).getTime(), now)).not.toMatch(/Today|Yesterday|2026/)
    expect(dayLabel(new Date(2025, 10, 18, 12).getTime(), now)).toMatch(/2025/)
  })
})

describe("windowing", () => {
  const items = (n: number, perDay: number) =>
    Array.from({ length: n }, (_, i) => ({
      id: `e${i}`,
      version: "v",
      event: event(i, new Date(2026, 10, 22, 23).getTime() - Math.floor(i / perDay) * 86_400_000 - i * 1000),
    }))

  it("puts a heading before each day and positions every line without layout", () => {
    const entries = withDayHeadings(items(10, 4), new Date(2026, 10, 22, 23, 30).getTime())
    expect(
      entries
        .filter((e) => e.kind === "day")
        .map((e) => (e as { label: string }).label)
        .slice(0, 2),
    ).toEqual(["Today", "Yesterday"])
    expect(entries).toHaveLength(13)
    const { tops, total } = layout(entries)
    expect(tops[0]).toBe(0)
    expect(tops[1]).toBe(dayHeight)
    expect(total).toBe(3 * dayHeight + 10 * rowHeight)
  })

  it("keeps the window to the lines on screen, however long the list", () => {
    for (const n of [50, 5000, 50_000]) {
      const entries = withDayHeadings(items(n, 170))
      const { tops, total } = layout(entries)
      expect(total).toBeGreaterThan(n * rowHeight)
      for (const scroll of [0, total / 2, total - 740]) {
        const { start, end } = windowRange(entries, tops, scroll - 600, scroll + 740 + 600)
        expect(end - start).toBeLessThanOrEqual(Math.ceil((740 + 1200) / dayHeight) + 1)
        expect(end - start).toBeGreaterThan(0)
        // Exactly the lines that overlap the band [from, to).
        const [from, to] = [scroll - 600, scroll + 740 + 600]
        const bottom = (i: number) => (i + 1 < entries.length ? tops[i + 1]! : total)
        if (start > 0) expect(bottom(start - 1)).toBeLessThanOrEqual(from)
        expect(bottom(start)).toBeGreaterThan(from)
        expect(tops[end - 1]!).toBeLessThan(to)
        if (end < entries.length) expect(tops[end]!).toBeGreaterThanOrEqual(to)
      }
    }
  })

  it("is empty for an empty list", () => {
    const { tops } = layout([])
    expect(windowRange([], tops, 0, 1000)).toEqual({ start: 0, end: 0 })
  })
})
