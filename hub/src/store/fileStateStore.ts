import { readFile } from "node:fs/promises"
import { SerialQueue, type StateChange, type StateStore } from "@vigil/protocol"
import { StateFileError } from "../errors.ts"
import { writeFileAtomic } from "./atomicFile.ts"

export { StateFileError }

/**
 * A StateStore in one JSON file, replaced atomically (temp + fsync + rename + directory fsync) on every
 * commit, so after a crash the file holds either all of a commit or none of it. Commits are serialized.
 */
export class FileStateStore<R extends Record<string, unknown>> implements StateStore<R> {
  private readonly queue = new SerialQueue()

  private constructor(
    readonly path: string,
    private records: Record<string, unknown>,
  ) {}

  static async open<R extends Record<string, unknown>>(path: string): Promise<FileStateStore<R>> {
    let text: string
    try {
      text = await readFile(path, "utf8")
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return new FileStateStore<R>(path, {})
      throw err
    }
    let parsed: unknown
    try {
      parsed = JSON.parse(text)
    } catch {
      throw new StateFileError(`${path} is not valid JSON; refusing to start rather than lose keys`)
    }
    const records = (parsed as { version?: unknown; records?: unknown } | null)?.records
    if ((parsed as { version?: unknown }).version !== 1 || typeof records !== "object" || records === null) {
      throw new StateFileError(`${path} is not a Vigil state file (version 1)`)
    }
    return new FileStateStore<R>(path, records as Record<string, unknown>)
  }

  async get<K extends keyof R & string>(key: K): Promise<R[K] | undefined> {
    const value = this.records[key]
    return value === undefined ? undefined : (structuredClone(value) as R[K])
  }

  commit(change: StateChange<R>): Promise<void> {
    return this.queue.run(async () => {
      const next: Record<string, unknown> = { ...this.records }
      for (const [k, v] of Object.entries(change.put ?? {}))
        next[k] = JSON.parse(JSON.stringify(v)) as unknown
      for (const k of change.remove ?? []) delete next[k]
      await writeFileAtomic(this.path, JSON.stringify({ version: 1, records: next }))
      this.records = next
    })
  }
}
