/**
 * The contract every StateStore keeps. `open` may be called several times on the same backing storage;
 * persistent stores must return what an earlier instance committed.
 */
import { describe, expect, it } from "vitest"
import type { StateStore } from "../src/stateStore.ts"

export interface ContractRecords extends Record<string, unknown> {
  group: string
  cursor: { after: number; note?: string }
  pending: { keyPackage: string }
}

export function describeStateStoreContract(
  name: string,
  open: () => Promise<StateStore<ContractRecords>>,
  opts: { persistent: boolean },
) {
  describe(`StateStore contract: ${name}`, () => {
    it("returns undefined for a key never written", async () => {
      const store = await open()
      expect(await store.get("group")).toBeUndefined()
    })

    it("returns exactly what was committed, and later commits replace it", async () => {
      const store = await open()
      await store.commit({ put: { group: "AAEC", cursor: { after: 3, note: "é ✓" } } })
      expect(await store.get("group")).toBe("AAEC")
      expect(await store.get("cursor")).toEqual({ after: 3, note: "é ✓" })
      await store.commit({ put: { cursor: { after: 4 } } })
      expect(await store.get("cursor")).toEqual({ after: 4 })
      expect(await store.get("group")).toBe("AAEC")
    })

    it("applies puts and removes of one commit together", async () => {
      const store = await open()
      await store.commit({ put: { pending: { keyPackage: "kp" }, group: "old" } })
      await store.commit({ put: { group: "new" }, remove: ["pending"] })
      expect(await store.get("pending")).toBeUndefined()
      expect(await store.get("group")).toBe("new")
    })

    it("does not let a caller mutate stored values through a reference", async () => {
      const store = await open()
      const cursor = { after: 1 }
      await store.commit({ put: { cursor } })
      cursor.after = 99
      const read = await store.get("cursor")
      expect(read).toEqual({ after: 1 })
      read!.after = 42
      expect(await store.get("cursor")).toEqual({ after: 1 })
    })

    it("refuses a commit it cannot store, and keeps what it had", async () => {
      const store = await open()
      await store.commit({ put: { group: "kept" } })
      const cyclic: Record<string, unknown> = {}
      cyclic.self = cyclic
      await expect(store.commit({ put: { group: "lost", cursor: cyclic as never } })).rejects.toBeDefined()
      expect(await store.get("group")).toBe("kept")
      expect(await store.get("cursor")).toBeUndefined()
    })

    if (opts.persistent) {
      it("keeps committed state across a reopen", async () => {
        const first = await open()
        await first.commit({ put: { group: "durable", cursor: { after: 7 } } })
        const second = await open()
        expect(await second.get("group")).toBe("durable")
        expect(await second.get("cursor")).toEqual({ after: 7 })
      })
    }
  })
}
