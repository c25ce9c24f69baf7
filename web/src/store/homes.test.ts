import "fake-indexeddb/auto"
import { describe, expect, it } from "vitest"
import { LocalStore } from "./db.ts"
import { addHomeDb, firstHomeDb, listHomeDbs, removeHomeDb } from "./homes.ts"

describe("homes on one phone", () => {
  it("lists the first home, then added ones in order; removing one deletes its data and leaves the rest", async () => {
    expect(await listHomeDbs()).toEqual([firstHomeDb])
    const cabin = await addHomeDb()
    const boat = await addHomeDb()
    expect(cabin).toMatch(/^vigil-home-[0-9a-f]{16}$/)
    expect(await listHomeDbs()).toEqual([firstHomeDb, cabin, boat])

    const store = await LocalStore.open(cabin)
    await store.commit({ put: { group: "cabin's group" } })
    store.close()
    await removeHomeDb(cabin)
    expect(await listHomeDbs()).toEqual([firstHomeDb, boat])
    const reopened = await LocalStore.open(cabin)
    expect(await reopened.get("group")).toBeUndefined()
    reopened.close()
  })
})
