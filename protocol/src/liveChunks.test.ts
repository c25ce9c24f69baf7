import { describe, expect, it } from "vitest"
import { randomBytes } from "./bytes.ts"
import { VigilError } from "./errors.ts"
import { FrameReassembler, liveMessageMaxBytes, sliceFrame } from "./liveChunks.ts"

describe("live frame slices", () => {
  it.each([0, 1, 65_535, 65_536, 200_000])(
    "round-trips a %i-byte frame in messages of at most 64 KiB",
    (n) => {
      const frame = randomBytes(n)
      const slices = sliceFrame(frame)
      expect(slices.every((s) => s.length <= liveMessageMaxBytes)).toBe(true)
      const r = new FrameReassembler()
      const out = slices.map((s) => r.push(s))
      expect(out.slice(0, -1).every((x) => x === undefined)).toBe(true)
      expect(out.at(-1)).toEqual(frame)
    },
  )

  it("a new start drops an unfinished frame (the hub never sends one, but a bad link must not wedge us)", () => {
    const r = new FrameReassembler()
    const big = sliceFrame(randomBytes(100_000))
    r.push(big[0]!)
    const small = randomBytes(10)
    expect(r.push(sliceFrame(small)[0]!)).toEqual(small)
  })

  it("refuses a continuation without a start and unknown flags, with typed errors", () => {
    const r = new FrameReassembler()
    expect(() => r.push(new Uint8Array([0x02, 1, 2]))).toThrow(VigilError)
    expect(() => r.push(new Uint8Array([0x80]))).toThrow(VigilError)
    expect(() => r.push(new Uint8Array([]))).toThrow(VigilError)
  })
})
