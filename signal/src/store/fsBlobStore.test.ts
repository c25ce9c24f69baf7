import { createHash, randomBytes } from "node:crypto"
import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { text } from "node:stream/consumers"
import { afterEach, describe, expect, it } from "vitest"
import type { BlobId } from "../ids.ts"
import { FsBlobStore } from "./fsBlobStore.ts"

let root: string | undefined
afterEach(async () => {
  if (root !== undefined) await rm(root, { recursive: true, force: true })
  root = undefined
})

async function openStore(): Promise<{ store: FsBlobStore; root: string }> {
  root = await mkdtemp(join(tmpdir(), "vigil-blobs-"))
  return { store: await FsBlobStore.open(root), root }
}

function idOf(bytes: Uint8Array): BlobId {
  return createHash("sha256").update(bytes).digest("hex") as BlobId
}

async function* chunks(...parts: Uint8Array[]): AsyncIterable<Uint8Array> {
  for (const part of parts) yield part
}

async function files(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true })
  return entries.filter((e) => e.isFile()).map((e) => e.name)
}

describe("FsBlobStore", () => {
  it("stores streamed chunks under their hash and reads them back, whole and by range", async () => {
    const { store } = await openStore()
    const bytes = new TextEncoder().encode("hello, encrypted world")
    const blobId = idOf(bytes)
    expect(
      await store.put(blobId, chunks(bytes.subarray(0, 5), bytes.subarray(5)), { maxBytes: 100 }),
    ).toEqual({
      size: bytes.length,
    })
    expect(await store.stat(blobId)).toEqual({ size: bytes.length })
    expect(await text(await store.read(blobId))).toBe("hello, encrypted world")
    expect(await text(await store.read(blobId, { start: 7, end: 15 }))).toBe("encrypted")
    expect(await store.stat(idOf(new Uint8Array([1])))).toBeUndefined()
  })

  it("keeps nothing on a hash mismatch, an oversize body or a failing stream", async () => {
    const { store, root } = await openStore()
    const bytes = randomBytes(300)
    await expect(store.put(idOf(randomBytes(3)), chunks(bytes), { maxBytes: 1000 })).rejects.toMatchObject({
      code: "HASH_MISMATCH",
    })
    await expect(
      store.put(idOf(bytes), chunks(bytes.subarray(0, 200), bytes.subarray(200)), { maxBytes: 250 }),
    ).rejects.toMatchObject({
      code: "TOO_LARGE",
    })
    async function* broken(): AsyncIterable<Uint8Array> {
      yield bytes.subarray(0, 10)
      throw new Error("client went away")
    }
    await expect(store.put(idOf(bytes), broken(), { maxBytes: 1000 })).rejects.toThrow("client went away")
    expect(await files(root)).toEqual([])
  })

  it("lists and deletes stored blobs", async () => {
    const { store, root } = await openStore()
    const a = randomBytes(10)
    const b = randomBytes(20)
    await store.put(idOf(a), chunks(a), { maxBytes: 100 })
    await store.put(idOf(b), chunks(b), { maxBytes: 100 })
    await writeFile(join(root, "stray.txt"), "not a blob")
    const listed: string[] = []
    for await (const id of store.list()) listed.push(id)
    expect(listed.sort()).toEqual([idOf(a), idOf(b)].sort())
    await store.delete(idOf(a))
    await store.delete(idOf(a))
    expect(await store.stat(idOf(a))).toBeUndefined()
    expect(await store.stat(idOf(b))).toEqual({ size: 20 })
  })

  it("sweeps temp files left by a crash when opened", async () => {
    const { root } = await openStore()
    await mkdir(join(root, "ab"))
    await writeFile(join(root, "ab", ".tmp-deadbeef"), "partial")
    await FsBlobStore.open(root)
    expect(await files(root)).toEqual([])
  })
})
