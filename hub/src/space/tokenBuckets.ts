/**
 * In-memory token buckets per key (a phone's device id): `burst` tokens, one more every `perMs`. Bounded:
 * past `maxKeys` the full buckets are forgotten, then the oldest.
 */
export class TokenBuckets {
  readonly #burst: number
  readonly #perMs: number
  readonly #maxKeys: number
  readonly #buckets = new Map<string, { tokens: number; at: number }>()

  constructor(limit: { burst: number; perMs: number }, maxKeys = 1000) {
    this.#burst = limit.burst
    this.#perMs = limit.perMs
    this.#maxKeys = maxKeys
  }

  /** Takes one token from `key`'s bucket; false when it has none. */
  take(key: string, now: number): boolean {
    let bucket = this.#buckets.get(key)
    if (bucket === undefined) {
      if (this.#buckets.size >= this.#maxKeys) this.#prune(now)
      bucket = { tokens: this.#burst, at: now }
      this.#buckets.set(key, bucket)
    } else {
      bucket.tokens = Math.min(this.#burst, bucket.tokens + Math.max(0, now - bucket.at) / this.#perMs)
      bucket.at = now
    }
    if (bucket.tokens < 1) return false
    bucket.tokens -= 1
    return true
  }

  #prune(now: number) {
    for (const [key, b] of this.#buckets) {
      if (b.tokens + (now - b.at) / this.#perMs >= this.#burst) this.#buckets.delete(key)
    }
    for (const key of this.#buckets.keys()) {
      if (this.#buckets.size < this.#maxKeys) break
      this.#buckets.delete(key)
    }
  }
}
