import { describe, expect, it } from "vitest"
import { RawFrameSplitter } from "./rawFrameSplitter.ts"

describe("RawFrameSplitter", () => {
  const frameBytes = 6
  const stream = Uint8Array.from({ length: frameBytes * 3 + 2 }, (_, i) => i)
  const expected = [0, 1, 2].map((f) => stream.slice(f * frameBytes, (f + 1) * frameBytes))

  it("returns the same frames however the bytes are chunked", () => {
    for (let a = 0; a <= stream.length; a++) {
      for (let b = a; b <= stream.length; b++) {
        const splitter = new RawFrameSplitter(frameBytes)
        const frames = [stream.subarray(0, a), stream.subarray(a, b), stream.subarray(b)].flatMap((c) =>
          splitter.push(c),
        )
        expect(frames, `cuts at ${a}, ${b}`).toEqual(expected)
        expect(splitter.pendingBytes).toBe(2)
      }
    }
  })

  it("returns copies that later pushes do not overwrite", () => {
    const splitter = new RawFrameSplitter(2)
    const [first] = splitter.push(Uint8Array.of(1))
    expect(first).toBeUndefined()
    const [frame] = splitter.push(Uint8Array.of(2))
    splitter.push(Uint8Array.of(9, 9))
    expect(frame).toEqual(Uint8Array.of(1, 2))
  })

  it("rejects a frame size that is not a positive integer", () => {
    expect(() => new RawFrameSplitter(0)).toThrow(RangeError)
  })
})
