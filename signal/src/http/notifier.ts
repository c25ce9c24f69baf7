/** How a wait ended. */
export type WaitOutcome = "notified" | "timeout" | "aborted" | "closed"

/** One interest in a key, created before reading so that no notification is lost in between. */
export interface Subscription {
  /** Resolves on the first notification since subscribing (at once if one came already). */
  wait(timeoutMs: number, signal: AbortSignal): Promise<WaitOutcome>
  /** Must be called when done; removes the listener. */
  dispose(): void
}

/**
 * In-process wake-ups for long polls, keyed by e.g. `mailbox:<deviceId>`. It carries no data: a
 * woken poll re-reads the store. One process only; several relay processes would need a shared bus.
 */
export class Notifier {
  readonly #listeners = new Map<string, Set<(outcome: WaitOutcome) => void>>()
  #closed = false

  subscribe(key: string): Subscription {
    let fired: WaitOutcome | undefined = this.#closed ? "closed" : undefined
    let wake: ((outcome: WaitOutcome) => void) | undefined
    const listener = (outcome: WaitOutcome): void => {
      fired ??= outcome
      wake?.(outcome)
    }
    let set = this.#listeners.get(key)
    if (set === undefined) {
      set = new Set()
      this.#listeners.set(key, set)
    }
    set.add(listener)

    const dispose = (): void => {
      const current = this.#listeners.get(key)
      if (current === undefined) return
      current.delete(listener)
      if (current.size === 0) this.#listeners.delete(key)
    }

    const wait = (timeoutMs: number, signal: AbortSignal): Promise<WaitOutcome> => {
      if (fired !== undefined) return Promise.resolve(fired)
      if (signal.aborted) return Promise.resolve("aborted")
      return new Promise<WaitOutcome>((resolve) => {
        const finish = (outcome: WaitOutcome): void => {
          clearTimeout(timer)
          signal.removeEventListener("abort", onAbort)
          wake = undefined
          resolve(outcome)
        }
        const onAbort = (): void => finish("aborted")
        const timer = setTimeout(() => finish("timeout"), timeoutMs)
        signal.addEventListener("abort", onAbort, { once: true })
        wake = finish
      })
    }

    return { wait, dispose }
  }

  /**
   * Calls `onNotify` on every notification of `key` until the returned function is called (a
   * WebSocket's mailbox feed). Not called by `closeAll`: the owner closes its own connection.
   */
  listen(key: string, onNotify: () => void): () => void {
    let set = this.#listeners.get(key)
    if (set === undefined) {
      set = new Set()
      this.#listeners.set(key, set)
    }
    const listener = (outcome: WaitOutcome): void => {
      if (outcome === "notified") onNotify()
    }
    set.add(listener)
    let disposed = false
    return () => {
      if (disposed) return
      disposed = true
      const current = this.#listeners.get(key)
      if (current === undefined) return
      current.delete(listener)
      if (current.size === 0) this.#listeners.delete(key)
    }
  }

  /** Wakes every current waiter on `key`. */
  notify(key: string): void {
    const set = this.#listeners.get(key)
    if (set === undefined) return
    for (const listener of [...set]) listener("notified")
  }

  /** Wakes every waiter and makes future waits return at once; for shutdown. */
  closeAll(): void {
    this.#closed = true
    for (const set of this.#listeners.values()) for (const listener of [...set]) listener("closed")
  }

  /** Number of live subscriptions; tests use it to prove disconnects do not leak. */
  get listenerCount(): number {
    let n = 0
    for (const set of this.#listeners.values()) n += set.size
    return n
  }
}
