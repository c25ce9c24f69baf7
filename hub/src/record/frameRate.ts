import type { TimedAccessUnit } from "../capture/types.ts"

const commonRates = [5, 6, 7.5, 8, 10, 12, 12.5, 15, 20, 24, 25, 30, 50, 60]

/**
 * The frame rate of a run of live access units, from their arrival times: (n − 1) / elapsed over the second
 * half of the run, snapped to a common camera rate when within 6 % of one. The first half is left out
 * because right after (re)connecting ffmpeg hands over the pictures it buffered while probing in one burst.
 * For cameras whose rate is not configured (RTSP pass-through). Undefined when the run is too short to tell
 * (under 1 s or 3 pictures).
 */
export function estimateFrameRate(all: readonly Pick<TimedAccessUnit, "receivedAt">[]): number | undefined {
  const half = all.slice(Math.floor(all.length / 2))
  const halfSpan = (half.at(-1)?.receivedAt ?? 0) - (half[0]?.receivedAt ?? 0)
  const units = halfSpan >= 1000 ? half : all
  const first = units[0]?.receivedAt
  const last = units.at(-1)?.receivedAt
  if (first === undefined || last === undefined || units.length < 3 || last - first < 1000) return undefined
  const measured = ((units.length - 1) * 1000) / (last - first)
  const distance = (rate: number) => Math.abs(measured - rate) / rate
  const nearest = commonRates.reduce((best, rate) => (distance(rate) < distance(best) ? rate : best))
  return distance(nearest) <= 0.06 ? nearest : Math.max(1, Math.round(measured))
}

/**
 * Measures a live stream's frame rate from arrival times over a sliding window, ignoring the first
 * `warmupMs` after each (re)connection (when buffered pictures arrive in a burst). Pure: time comes from
 * the access units.
 */
export class FrameRateMeter {
  private times: number[] = []
  private connectedAt: number | undefined

  constructor(
    private readonly warmupMs = 3000,
    private readonly windowMs = 10_000,
  ) {}

  push(receivedAt: number): void {
    this.connectedAt ??= receivedAt
    if (receivedAt - this.connectedAt < this.warmupMs) return
    this.times.push(receivedAt)
    let drop = 0
    while ((this.times[drop] ?? receivedAt) < receivedAt - this.windowMs) drop++
    if (drop > 0) this.times.splice(0, drop)
  }

  /** The measured rate, snapped like `estimateFrameRate`; undefined until 2 s have been measured. */
  get rate(): number | undefined {
    const first = this.times[0]
    const last = this.times.at(-1)
    if (first === undefined || last === undefined || last - first < 2000) return undefined
    return estimateFrameRate(this.times.map((receivedAt) => ({ receivedAt })))
  }

  /** After a reconnection: measure afresh. */
  reset(): void {
    this.times = []
    this.connectedAt = undefined
  }
}
