/**
 * Serialises async work per key inside this process: the blob janitor and uploads of the same blob
 * take the blob's lock, so a file is never deleted between an upload writing it and recording it.
 */
export class KeyedLock {
  readonly #tails = new Map<string, Promise<void>>()

  /** Runs `fn` once every earlier `run` on the same key has settled. */
  async run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.#tails.get(key) ?? Promise.resolve()
    let release: () => void = () => {}
    const current = new Promise<void>((resolve) => (release = resolve))
    const tail = previous.then(() => current)
    this.#tails.set(key, tail)
    await previous
    try {
      return await fn()
    } finally {
      release()
      if (this.#tails.get(key) === tail) this.#tails.delete(key)
    }
  }

  /** True while work on `key` is queued or running. */
  isBusy(key: string): boolean {
    return this.#tails.has(key)
  }

  /** Keys with work queued or running. */
  get size(): number {
    return this.#tails.size
  }
}
