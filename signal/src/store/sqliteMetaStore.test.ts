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
    expect(db.pragma("user_version", { simple: true })).toBe(4)
    db.close()
  })

  it("migrates a version 1 database, keeping its blobs", async () => {
    const path = await tempDbPath()
    const v1 = new Database(path)
    v1.exec(`
      CREATE TABLE devices (device_id TEXT PRIMARY KEY, kind TEXT NOT NULL CHECK (kind IN ('hub', 'phone')),
        token_hash TEXT NOT NULL UNIQUE, created_at INTEGER NOT NULL, mailbox_seq INTEGER NOT NULL DEFAULT 0) STRICT;
      CREATE TABLE spaces (space_id TEXT PRIMARY KEY, owner_id TEXT NOT NULL REFERENCES devices (device_id),
        created_at INTEGER NOT NULL) STRICT;
      CREATE TABLE blobs (space_id TEXT NOT NULL REFERENCES spaces (space_id), blob_id TEXT NOT NULL,
        size INTEGER NOT NULL, created_at INTEGER NOT NULL, PRIMARY KEY (space_id, blob_id)) STRICT, WITHOUT ROWID;
      INSERT INTO devices VALUES ('${"a".repeat(32)}', 'hub', '${"0".repeat(64)}', 1, 0);
      INSERT INTO spaces VALUES ('${"1".repeat(32)}', '${"a".repeat(32)}', 1);
      INSERT INTO blobs VALUES ('${"1".repeat(32)}', '${"f".repeat(64)}', 10, 5);
      PRAGMA user_version = 1;
    `)
    v1.close()
    const store = SqliteMetaStore.open(path)
    expect(await store.getBlobRef("1".repeat(32) as never, "f".repeat(64) as never)).toEqual({ size: 10 })
    expect(await store.spaceUsage("1".repeat(32) as never)).toBe(10)
    await store.close()
  })

  it("refuses a database from a newer schema", async () => {
    const path = await tempDbPath()
    const db = new Database(path)
    db.pragma("user_version = 99")
    db.close()
    expect(() => SqliteMetaStore.open(path)).toThrow(/newer/)
  })
})
