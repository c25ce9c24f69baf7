import type { TimedAccessUnit } from "./types.ts"

export interface GopRingOptions {
  /** Keep enough whole GOPs to cover at least this much time before the newest access unit. Default 5000. */
  durationMs?: number
  /** Hard memory bound; oldest GOPs go first, and a single GOP this large is dropped. Default 64 MiB. */
  maxBytes?: number
}

interface Gop<T> {
  units: T[]
  bytes: number
}

/**
 * The last few seconds of video as whole GOPs (each starting at a keyframe), for pre-roll. It keeps the
 * fewest GOPs whose first keyframe is at or before `newest - durationMs`, so a snapshot covers at least
 * `durationMs` (and at most `durationMs` plus one GOP) once that much video has arrived. Access units
 * before the first keyframe are dropped: nothing could decode them.
 */
export class GopRing<T extends TimedAccessUnit = TimedAccessUnit> {
  private gops: Gop<T>[] = []
  private bytes = 0
  private readonly durationMs: number
  private readonly maxBytes: number

  constructor(options: GopRingOptions = {}) {
    this.durationMs = options.durationMs ?? 5000
    this.maxBytes = options.maxBytes ?? 64 * 1024 * 1024
  }

  push(unit: T): void {
    if (unit.keyframe) this.gops.push({ units: [], bytes: 0 })
    const current = this.gops.at(-1)
    if (!current) return
    current.units.push(unit)
    current.bytes += unit.data.length
    this.bytes += unit.data.length

    const horizon = unit.receivedAt - this.durationMs
    while (this.gops.length > 1 && (this.gops[1]?.units[0]?.receivedAt ?? Infinity) <= horizon)
      this.dropOldest()
    while (this.bytes > this.maxBytes && this.gops.length > 0) this.dropOldest()
  }

  /** The retained access units in order, starting at a keyframe; empty before the first keyframe. */
  snapshot(): T[] {
    return this.gops.flatMap((gop) => gop.units)
  }

  clear(): void {
    this.gops = []
    this.bytes = 0
  }

  get byteLength(): number {
    return this.bytes
  }

  /** Time from the first retained access unit to the newest one. */
  get spanMs(): number {
    const first = this.gops[0]?.units[0]
    const last = this.gops.at(-1)?.units.at(-1)
    return first && last ? last.receivedAt - first.receivedAt : 0
  }

  private dropOldest(): void {
    const gop = this.gops.shift()
    if (gop) this.bytes -= gop.bytes
  }
}
