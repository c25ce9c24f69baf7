/**
 * Runs async tasks one at a time, in order. Every operation on an MLS group goes through one queue: two
 * operations started from the same state would reuse a generation (or fork the epoch), and the receiver
 * rejects the second.
 */
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve()

  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.tail.then(task)
    // Keep the chain alive after a failure; the caller still sees the rejection through `result`.
    this.tail = result.catch(() => undefined)
    return result
  }
}
