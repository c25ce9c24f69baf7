import { describe, expect, it } from "vitest"
import { GopRing } from "./gopRing.ts"
import type { TimedAccessUnit } from "./types.ts"

const frameMs = 100 // 10 fps, keyframe every 10 frames = 1 s GOPs

function unit(index: number, options: { gop?: number; bytes?: number; t0?: number } = {}): TimedAccessUnit {
  const gop = options.gop ?? 10
  return {
    data: new Uint8Array(options.bytes ?? 10),
    keyframe: index % gop === 0,
    index,
    receivedAt: (options.t0 ?? 0) + index * frameMs,
  }
}

describe("GopRing", () => {
  it("drops access units that arrive before the first keyframe", () => {
    const ring = new GopRing()
    for (let i = 5; i < 10; i++) ring.push(unit(i))
    expect(ring.snapshot()).toEqual([])
    ring.push(unit(10))
    expect(ring.snapshot().map((u) => u.index)).toEqual([10])
  })

  it("keeps the fewest whole GOPs that cover the duration, starting at a keyframe", () => {
    const ring = new GopRing({ durationMs: 2500 })
    for (let i = 0; i < 95; i++) ring.push(unit(i))
    // Newest at 9.4 s; horizon 6.9 s; the GOP starting at 6.0 s is the latest one at or before it.
    const snapshot = ring.snapshot()
    expect(snapshot[0]?.index).toBe(60)
    expect(snapshot[0]?.keyframe).toBe(true)
    expect(snapshot.at(-1)?.index).toBe(94)
    expect(ring.spanMs).toBe(3400)
    expect(ring.byteLength).toBe(35 * 10)
  })

  it("covers at least the duration and at most one GOP more, at every step", () => {
    const ring = new GopRing({ durationMs: 2000 })
    for (let i = 0; i < 200; i++) {
      ring.push(unit(i))
      const span = ring.spanMs
      if (i * frameMs >= 2000) expect(span).toBeGreaterThanOrEqual(2000)
      expect(span).toBeLessThan(2000 + 10 * frameMs)
      expect(ring.snapshot()[0]?.keyframe).toBe(true)
    }
  })

  it("stays within maxBytes by dropping the oldest GOPs, then a GOP that alone is too big", () => {
    const ring = new GopRing({ durationMs: 60_000, maxBytes: 250 })
    for (let i = 0; i < 40; i++) ring.push(unit(i))
    expect(ring.byteLength).toBeLessThanOrEqual(250)
    expect(ring.snapshot()[0]?.index).toBe(20)

    const noKeyframes = new GopRing({ maxBytes: 250 })
    for (let i = 0; i < 100; i++) noKeyframes.push(unit(i, { gop: 1000 }))
    expect(noKeyframes.byteLength).toBeLessThanOrEqual(250)
    expect(noKeyframes.snapshot()).toEqual([])
    noKeyframes.push(unit(1000, { gop: 1000 }))
    expect(noKeyframes.snapshot().map((u) => u.index)).toEqual([1000])
  })

  it("clear empties it", () => {
    const ring = new GopRing()
    for (let i = 0; i < 20; i++) ring.push(unit(i))
    ring.clear()
    expect(ring.snapshot()).toEqual([])
    expect(ring.byteLength).toBe(0)
  })
})
