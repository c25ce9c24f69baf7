import { describe, expect, it } from "vitest"
import { RateLimiter } from "./rateLimiter.ts"

describe("RateLimiter", () => {
  it("allows a burst, then refills at the rate", () => {
    let now = 0
    const limiter = new RateLimiter({ perSecond: 2, burst: 3 }, () => now)
    expect([1, 2, 3].map(() => limiter.take("a").ok)).toEqual([true, true, true])
    expect(limiter.take("a")).toEqual({ ok: false, retryAfterMs: 500 })
    expect(limiter.take("b").ok).toBe(true)
    now += 500
    expect(limiter.take("a").ok).toBe(true)
    expect(limiter.take("a").ok).toBe(false)
    now += 10_000
    expect([1, 2, 3, 4].map(() => limiter.take("a").ok)).toEqual([true, true, true, false])
  })

  it("is off with perSecond 0", () => {
    const limiter = new RateLimiter({ perSecond: 0, burst: 1 }, () => 0)
    for (let i = 0; i < 100; i++) expect(limiter.take("a").ok).toBe(true)
    expect(limiter.size).toBe(0)
  })

  it("keeps memory bounded under a flood of keys", () => {
    let now = 0
    const limiter = new RateLimiter({ perSecond: 1, burst: 5 }, () => now, 100)
    for (let i = 0; i < 10_000; i++) limiter.take(`k${i}`)
    expect(limiter.size).toBeLessThanOrEqual(100)
    now += 60_000
    limiter.prune()
    expect(limiter.size).toBe(0)
  })
})
