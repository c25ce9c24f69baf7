import { mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import Database from "better-sqlite3"
import { afterAll, describe, expect, it } from "vitest"
import { describeMetaStoreContract } from "../../test/metaStoreContract.ts"
import { SqliteMetaStore } from "./sqliteMetaStore.ts"

const dirs: string[] = []
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true })
})

async function tempDbPath(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "vigil-sqlite-"))
  dirs.push(dir)
  return join(dir, "meta.sqlite")
}

describeMetaStoreContract("SqliteMetaStore :memory:", async () => SqliteMetaStore.open(":memory:"))
describeMetaStoreContract("SqliteMetaStore file", async () => SqliteMetaStore.open(await tempDbPath()))

describe("SqliteMetaStore", () => {
  it("uses WAL with synchronous=FULL, and reopens an existing file", async () => {
    const path = await tempDbPath()
    const store = SqliteMetaStore.open(path)
    await store.close()
    const reopened = SqliteMetaStore.open(path)
    await reopened.close()

    const db = new Database(path)
    expect(db.pragma("journal_mode", { simple: true })).toBe("wal")
    expect(db.pragma("user_version", { simple: true })).toBe(1)
    db.close()
  })

  it("refuses a database from a newer schema", async () => {
    const path = await tempDbPath()
    const db = new Database(path)
    db.pragma("user_version = 99")
    db.close()
    expect(() => SqliteMetaStore.open(path)).toThrow(/newer/)
  })
})
