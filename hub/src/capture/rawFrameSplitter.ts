/**
 * Cuts a stream of raw video bytes (ffmpeg `-f rawvideo`) into frames of a fixed size. Synchronous and
 * I/O-free; frames are fresh copies the caller may keep.
 */
export class RawFrameSplitter {
  private readonly pending: Uint8Array
  private filled = 0

  constructor(readonly frameBytes: number) {
    if (!Number.isInteger(frameBytes) || frameBytes <= 0) {
      throw new RangeError(`frame size must be a positive integer, got ${frameBytes}`)
    }
    this.pending = new Uint8Array(frameBytes)
  }

  push(chunk: Uint8Array): Uint8Array[] {
    const frames: Uint8Array[] = []
    let offset = 0
    while (offset < chunk.length) {
      const take = Math.min(this.frameBytes - this.filled, chunk.length - offset)
      if (this.filled === 0 && take === this.frameBytes) {
        // Whole frame inside the chunk: one copy, no staging.
        frames.push(chunk.slice(offset, offset + take))
      } else {
        this.pending.set(chunk.subarray(offset, offset + take), this.filled)
        this.filled += take
        if (this.filled === this.frameBytes) {
          frames.push(this.pending.slice())
          this.filled = 0
        }
      }
      offset += take
    }
    return frames
  }

  /** Bytes of an incomplete frame still held. */
  get pendingBytes(): number {
    return this.filled
  }
}
