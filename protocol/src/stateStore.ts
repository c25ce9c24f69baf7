/**
 * Where a device keeps what it must not lose (keys, MLS state, cursors). A port: the hub stores it in an
 * atomically replaced file, the phone in IndexedDB (one transaction, sealed at rest), tests in memory. One
 * contract suite (protocol/test/stateStoreContract.ts) runs against every implementation.
 *
 * `commit` is all-or-nothing: after a crash at any instant, a reader sees every change of a commit or
 * none of them. Values are plain JSON-compatible data (MLS state travels as base64 of ts-mls's encoding).
 */
export interface StateStore<R extends Record<string, unknown>> {
  get<K extends keyof R & string>(key: K): Promise<R[K] | undefined>
  commit(change: StateChange<R>): Promise<void>
}

export interface StateChange<R extends Record<string, unknown>> {
  put?: Partial<R>
  remove?: (keyof R & string)[]
}

/** For tests and ephemeral use. Copies values so callers cannot mutate what is stored. */
export class MemoryStateStore<R extends Record<string, unknown>> implements StateStore<R> {
  private readonly data = new Map<string, string>()

  async get<K extends keyof R & string>(key: K): Promise<R[K] | undefined> {
    const json = this.data.get(key)
    return json === undefined ? undefined : (JSON.parse(json) as R[K])
  }

  async commit(change: StateChange<R>): Promise<void> {
    // Serialize everything first: a value that cannot be stored fails the whole commit, changing nothing.
    const puts = Object.entries(change.put ?? {}).map(([k, v]) => [k, JSON.stringify(v)] as const)
    for (const [k, json] of puts) this.data.set(k, json)
    for (const k of change.remove ?? []) this.data.delete(k)
  }
}
