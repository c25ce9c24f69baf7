import type { RateLimit } from "../config.ts"

export type TakeResult = { ok: true } | { ok: false; retryAfterMs: number }

interface Bucket {
  tokens: number
  at: number
}

/**
 * In-memory token buckets, one per key (a client address, a device). A bucket starts full with
 * `burst` tokens and refills at `perSecond`. Full buckets are forgotten when the map grows past
 * `maxKeys`, so a flood of distinct keys costs bounded memory.
 */
export class RateLimiter {
  readonly #limit: RateLimit
  readonly #now: () => number
  readonly #maxKeys: number
  readonly #buckets = new Map<string, Bucket>()

  constructor(limit: RateLimit, now: () => number, maxKeys = 100_000) {
    this.#limit = limit
    this.#now = now
    this.#maxKeys = maxKeys
  }

  /** Takes `cost` tokens from `key`'s bucket if it has them. */
  take(key: string, cost = 1): TakeResult {
    const { perSecond, burst } = this.#limit
    if (perSecond <= 0) return { ok: true }
    const now = this.#now()
    let bucket = this.#buckets.get(key)
    if (bucket === undefined) {
      if (this.#buckets.size >= this.#maxKeys) this.prune()
      bucket = { tokens: burst, at: now }
      this.#buckets.set(key, bucket)
    } else {
      const elapsed = Math.max(0, now - bucket.at)
      bucket.tokens = Math.min(burst, bucket.tokens + (elapsed * perSecond) / 1000)
      bucket.at = now
    }
    if (bucket.tokens >= cost) {
      bucket.tokens -= cost
      return { ok: true }
    }
    return { ok: false, retryAfterMs: Math.ceil(((cost - bucket.tokens) * 1000) / perSecond) }
  }

  /** Forgets the buckets that have refilled (they would start full anyway). */
  prune(): void {
    const { perSecond, burst } = this.#limit
    const now = this.#now()
    for (const [key, bucket] of this.#buckets) {
      if (bucket.tokens + ((now - bucket.at) * perSecond) / 1000 >= burst) this.#buckets.delete(key)
    }
    // Still too many live buckets (a flood of fresh keys): drop the oldest half rather than grow.
    if (this.#buckets.size >= this.#maxKeys) {
      let drop = Math.ceil(this.#buckets.size / 2)
      for (const key of this.#buckets.keys()) {
        if (drop-- <= 0) break
        this.#buckets.delete(key)
      }
    }
  }

  get size(): number {
    return this.#buckets.size
  }
}
