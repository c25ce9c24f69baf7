import "fake-indexeddb/auto"
import { expect, it } from "vitest"
import { describeStateStoreContract, type ContractRecords } from "../../protocol/test/stateStoreContract.ts"
import { LocalStore } from "../src/store/db.ts"

// One database per test; opening again within a test reopens the same database.
let lastTest: string | undefined
let name = ""
describeStateStoreContract(
  "IndexedDB (sealed)",
  async () => {
    const test = expect.getState().currentTestName
    if (test !== lastTest) [lastTest, name] = [test, `contract-${Math.random().toString(36).slice(2)}`]
    return LocalStore.open<ContractRecords>(name)
  },
  { persistent: true },
)

it("stores nothing readable: records are sealed with the non-extractable vault key", async () => {
  const store = await LocalStore.open<ContractRecords>("sealed-check")
  await store.commit({ put: { group: "secret-group-state-marker" } })
  const raw = await new Promise<unknown>((resolve, reject) => {
    const req = indexedDB.open("sealed-check")
    req.onerror = () => reject(req.error)
    req.onsuccess = () => {
      const get = req.result.transaction("records").objectStore("records").get("group")
      get.onsuccess = () => resolve(get.result)
    }
  })
  const bytes = new Uint8Array((raw as { ct: ArrayBuffer }).ct)
  expect(new TextDecoder().decode(bytes)).not.toContain("secret-group-state-marker")
  expect(bytes.length).toBeGreaterThan(16)
})
