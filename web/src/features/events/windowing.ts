import type { StoredEvent } from "../../store/db.ts"
import { dayKey, dayLabel } from "./timelineModel.ts"

/** One line of the timeline: a day's heading or an event. */
export type Entry =
  { kind: "day"; key: string; label: string } | { kind: "event"; item: StoredEvent; key: string }

/** Fixed heights (px, margins included), so positions are known without layout and nothing shifts. */
export const dayHeight = 40
export const rowHeight = 82

const heightOf = (e: Entry) => (e.kind === "day" ? dayHeight : rowHeight)

/** Newest-first events with a heading before each local day. */
export function withDayHeadings(items: readonly StoredEvent[], now = Date.now()): Entry[] {
  const out: Entry[] = []
  let day: string | undefined
  for (const item of items) {
    const key = dayKey(item.event.startedAt)
    if (key !== day) {
      day = key
      out.push({ kind: "day", key: `day-${key}`, label: dayLabel(item.event.startedAt, now) })
    }
    out.push({ kind: "event", item, key: item.id })
  }
  return out
}

/** Where each entry starts, and the total height. */
export function layout(entries: readonly Entry[]): { tops: Float64Array; total: number } {
  const tops = new Float64Array(entries.length)
  let y = 0
  entries.forEach((e, i) => {
    tops[i] = y
    y += heightOf(e)
  })
  return { tops, total: y }
}

/** The entries `[start, end)` that overlap the band `[from, to)` (px from the list's top). */
export function windowRange(
  entries: readonly Entry[],
  tops: Float64Array,
  from: number,
  to: number,
): { start: number; end: number } {
  // First entry whose bottom is below `from`.
  let lo = 0
  let hi = entries.length
  while (lo < hi) {
    const mid = (lo + hi) >> 1
    if (tops[mid]! + heightOf(entries[mid]!) > from) hi = mid
    else lo = mid + 1
  }
  const start = lo
  // First entry starting at or after `to`.
  hi = entries.length
  while (lo < hi) {
    const mid = (lo + hi) >> 1
    if (tops[mid]! >= to) hi = mid
    else lo = mid + 1
  }
  return { start, end: Math.max(start, lo) }
}
