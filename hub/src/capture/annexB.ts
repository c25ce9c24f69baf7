import type { AccessUnit } from "./types.ts"

/** H.264 NAL unit types we act on (ITU-T H.264 Table 7-1). */
export const nalUnitType = {
  nonIdrSlice: 1,
  idrSlice: 5,
  sei: 6,
  sps: 7,
  pps: 8,
  accessUnitDelimiter: 9,
} as const

export interface AnnexBSplitterOptions {
  /**
   * An access unit that grows past this many bytes without a following delimiter is dropped and the
   * splitter waits for the next delimiter (a stream without AUDs must not eat memory). Default 8 MiB.
   */
  maxAccessUnitBytes?: number
}

/**
 * Splits an H.264 Annex-B byte stream into access units, using access unit delimiters (NAL type 9) as the
 * boundaries. ffmpeg inserts them with `-bsf:v h264_metadata=aud=insert`.
 *
 * ```
 *  garbage | 00 00 00 01 09 .. | 00 00 00 01 67 .. | 00 00 01 65 .. | 00 00 00 01 09 .. | ...
 *  dropped   ^ AU 0: AUD          SPS                 IDR slice        ^ AU 1: AUD
 * ```
 *
 * Synchronous and I/O-free: `push` whatever chunks arrive (start codes may be split anywhere) and get back
 * the access units that are now complete; an access unit is complete when the next delimiter arrives, so
 * output lags input by one access unit until `flush`. Bytes before the first delimiter are dropped. A
 * 4-byte start code's leading zero is kept with the access unit it starts.
 */
export class AnnexBSplitter {
  private buf = new Uint8Array(64 * 1024)
  private len = 0
  /** Offset in `buf` of the access unit being collected, or -1 while waiting for the first delimiter. */
  private auStart = -1
  /** Smallest offset at which a start code has not yet been looked for. */
  private scanPos = 0
  private nextIndex = 0
  private readonly maxAccessUnitBytes: number
  /** Bytes thrown away: garbage before a delimiter and oversized access units. */
  droppedBytes = 0

  constructor(options: AnnexBSplitterOptions = {}) {
    this.maxAccessUnitBytes = options.maxAccessUnitBytes ?? 8 * 1024 * 1024
  }

  push(chunk: Uint8Array): AccessUnit[] {
    this.append(chunk)
    const out: AccessUnit[] = []
    const view = this.buf.subarray(0, this.len)
    let searchFrom = this.scanPos + 2
    for (;;) {
      // A start code ends in 0x01; typed-array indexOf is native, so search for that byte and look back.
      const one = view.indexOf(1, searchFrom)
      if (one === -1) {
        this.scanPos = Math.max(this.scanPos, this.len - 2)
        break
      }
      if (one + 1 >= this.len) {
        // The NAL header byte has not arrived yet: look at this start code again on the next push.
        this.scanPos = one - 2
        break
      }
      searchFrom = one + 1
      if (view[one - 1] !== 0 || view[one - 2] !== 0) continue
      if (((view[one + 1] ?? 0) & 0x1f) !== nalUnitType.accessUnitDelimiter) continue
      const codeStart = one - 2
      const lowest = this.auStart < 0 ? 0 : this.auStart + 1
      const start = codeStart > lowest && view[codeStart - 1] === 0 ? codeStart - 1 : codeStart
      if (this.auStart < 0) this.droppedBytes += start
      else out.push(this.emit(this.auStart, start))
      this.auStart = start
      searchFrom = one + 2
    }
    if (this.auStart >= 0 && this.len - this.auStart > this.maxAccessUnitBytes) this.auStart = -1
    this.compact()
    return out
  }

  /** Ends the stream: returns the last access unit, if one was started, and resets the splitter. */
  flush(): AccessUnit[] {
    const out = this.auStart >= 0 && this.len > this.auStart ? [this.emit(this.auStart, this.len)] : []
    if (this.auStart < 0) this.droppedBytes += this.len
    this.len = 0
    this.auStart = -1
    this.scanPos = 0
    return out
  }

  private emit(from: number, to: number): AccessUnit {
    const data = this.buf.slice(from, to)
    return { data, keyframe: listNalUnitTypes(data).includes(nalUnitType.idrSlice), index: this.nextIndex++ }
  }

  private append(chunk: Uint8Array): void {
    const needed = this.len + chunk.length
    if (needed > this.buf.length) {
      const grown = new Uint8Array(Math.max(needed, this.buf.length * 2))
      grown.set(this.buf.subarray(0, this.len))
      this.buf = grown
    }
    this.buf.set(chunk, this.len)
    this.len = needed
  }

  /** Moves the bytes still needed to the front of the buffer. */
  private compact(): void {
    let keepFrom: number
    if (this.auStart >= 0) {
      keepFrom = this.auStart
    } else {
      // Still looking for a delimiter: only the unscanned tail and one possible leading zero matter.
      keepFrom = Math.max(0, Math.min(this.scanPos - 1, this.len))
      this.droppedBytes += keepFrom
    }
    if (keepFrom === 0) return
    this.buf.copyWithin(0, keepFrom, this.len)
    this.len -= keepFrom
    this.scanPos -= keepFrom
    if (this.auStart >= 0) this.auStart -= keepFrom
  }
}

/** The NAL unit types (low five bits of each NAL header) in an Annex-B buffer, in order. */
export function listNalUnitTypes(data: Uint8Array): number[] {
  const types: number[] = []
  let one = data.indexOf(1, 2)
  while (one !== -1 && one + 1 < data.length) {
    if (data[one - 1] === 0 && data[one - 2] === 0) types.push((data[one + 1] ?? 0) & 0x1f)
    one = data.indexOf(1, one + 1)
  }
  return types
}
