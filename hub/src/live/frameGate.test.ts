import { describe, expect, it } from "vitest"
import { FrameGate } from "./frameGate.ts"
import { GopCache } from "./gopCache.ts"

describe("FrameGate", () => {
  const k = true
  const p = false

  it("sends while the channel keeps up, drops up to the next keyframe when it backs up", () => {
    const gate = new FrameGate({ limitBytes: 1000 })
    expect(gate.admit(p, 0)).toBe(false) // no keyframe yet
    expect(gate.admit(k, 0)).toBe(true)
    expect(gate.admit(p, 500)).toBe(true)
    expect(gate.admit(p, 5000)).toBe(false) // backed up
    expect(gate.admit(p, 0)).toBe(false) // drained, but the next P-frame has lost its reference
    expect(gate.admit(k, 5000)).toBe(false) // a keyframe while still backed up is dropped too
    expect(gate.admit(k, 0)).toBe(true)
    expect(gate.admit(p, 0)).toBe(true)
    expect(gate.dropped).toBe(4)
  })

  it("lets live frames queue behind the cached GOP while it drains, up to the catch-up limit", () => {
    const gate = new FrameGate({ limitBytes: 1000, catchUpLimitBytes: 10_000 })
    gate.startCatchUp()
    expect(gate.admit(p, 8000)).toBe(true)
    expect(gate.current).toBe("catching-up")
    expect(gate.admit(p, 500)).toBe(true)
    expect(gate.current).toBe("flowing")

    gate.startCatchUp()
    expect(gate.admit(p, 20_000)).toBe(false)
    expect(gate.current).toBe("waiting-for-keyframe")
  })
})

describe("GopCache", () => {
  const unit = (keyframe: boolean, size = 10) => ({ data: new Uint8Array(size), keyframe, timestampUs: 0n })

  it("keeps the units since the newest keyframe", () => {
    const cache = new GopCache()
    cache.push(unit(false))
    expect(cache.snapshot().units).toHaveLength(0)
    cache.push(unit(true))
    cache.push(unit(false))
    cache.push(unit(false))
    expect(cache.snapshot()).toMatchObject({ bytes: 30, complete: true })
    cache.push(unit(true))
    expect(cache.snapshot().units).toHaveLength(1)
  })

  it("keeps only the keyframe when a GOP outgrows the limit", () => {
    const cache = new GopCache({ maxBytes: 25 })
    cache.push(unit(true))
    cache.push(unit(false))
    cache.push(unit(false))
    expect(cache.snapshot()).toMatchObject({ bytes: 10, complete: false })
    expect(cache.snapshot().units).toHaveLength(1)
    cache.push(unit(true))
    expect(cache.snapshot().complete).toBe(true)
  })
})
