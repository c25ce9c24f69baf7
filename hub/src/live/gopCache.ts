/**
 * The access units since the newest keyframe: what a new viewer needs to decode the current picture at
 * once, instead of waiting up to a GOP for the camera's next keyframe. Pure; one per camera.
 */
export interface CachedUnit {
  data: Uint8Array
  keyframe: boolean
  /** When the unit left the camera pipeline, µs since the Unix epoch (the frame header's timestamp). */
  timestampUs: bigint
}

export interface GopCacheOptions {
  /** Past this many bytes the GOP is not kept (a camera with very long GOPs): viewers wait for a keyframe. */
  maxBytes?: number
}

export class GopCache {
  private units: CachedUnit[] = []
  private bytes = 0
  private overflowed = false
  private readonly maxBytes: number

  constructor(opts: GopCacheOptions = {}) {
    this.maxBytes = opts.maxBytes ?? 4 * 1024 * 1024
  }

  push(unit: CachedUnit): void {
    if (unit.keyframe) {
      this.units = [unit]
      this.bytes = unit.data.length
      this.overflowed = false
      return
    }
    if (this.units.length === 0 || this.overflowed) return
    if (this.bytes + unit.data.length > this.maxBytes) {
      // Keep the keyframe alone: a viewer still gets a first picture, then waits for the next keyframe.
      this.units = this.units.slice(0, 1)
      this.bytes = this.units[0]!.data.length
      this.overflowed = true
      return
    }
    this.units.push(unit)
    this.bytes += unit.data.length
  }

  /** The cached units, keyframe first; `complete` is false when only the keyframe was kept. */
  snapshot(): { units: readonly CachedUnit[]; bytes: number; complete: boolean } {
    return { units: this.units, bytes: this.bytes, complete: !this.overflowed }
  }

  clear(): void {
    this.units = []
    this.bytes = 0
    this.overflowed = false
  }
}
