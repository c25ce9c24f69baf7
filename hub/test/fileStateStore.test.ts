import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, expect, it } from "vitest"
import { describeStateStoreContract, type ContractRecords } from "../../protocol/test/stateStoreContract.ts"
import { FileStateStore } from "../src/store/fileStateStore.ts"

const dir = await mkdtemp(join(tmpdir(), "vigil-state-"))
afterAll(() => rm(dir, { recursive: true, force: true }))

// One file per test; opening again within a test reopens the same file.
let lastTest: string | undefined
let path = ""
describeStateStoreContract(
  "file",
  async () => {
    const test = expect.getState().currentTestName
    if (test !== lastTest) [lastTest, path] = [test, join(dir, `${Math.random().toString(36).slice(2)}.json`)]
    return FileStateStore.open<ContractRecords>(path)
  },
  { persistent: true },
)

it("refuses to open a damaged state file instead of starting empty", async () => {
  const path = join(dir, "damaged.json")
  await writeFile(path, '{"version":1,"records":')
  await expect(FileStateStore.open(path)).rejects.toMatchObject({ code: "STATE_FILE_CORRUPT" })
  expect(await readFile(path, "utf8")).toBe('{"version":1,"records":') // left for the user to inspect
})
