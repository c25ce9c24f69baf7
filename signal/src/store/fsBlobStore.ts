import { createHash, randomBytes } from "node:crypto"
import { mkdir, open, readdir, rename, stat, unlink, type FileHandle } from "node:fs/promises"
import { dirname, join } from "node:path"
import type { Readable } from "node:stream"
import { ApiError } from "../errors.ts"
import type { BlobId } from "../ids.ts"
import type { BlobStore, ByteRange } from "./blobStore.ts"

const tempPrefix = ".tmp-"

function isErrno(err: unknown, code: string): boolean {
  return err instanceof Error && (err as NodeJS.ErrnoException).code === code
}

async function unlinkIfPresent(path: string): Promise<void> {
  try {
    await unlink(path)
  } catch (err) {
    if (!isErrno(err, "ENOENT")) throw err
  }
}

/** fsync a directory so a rename or a new entry in it survives a crash. */
async function syncDir(path: string): Promise<void> {
  const dir = await open(path, "r")
  try {
    await dir.sync()
  } finally {
    await dir.close()
  }
}

async function writeAll(file: FileHandle, chunk: Uint8Array): Promise<void> {
  let offset = 0
  while (offset < chunk.byteLength) {
    const { bytesWritten } = await file.write(chunk, offset, chunk.byteLength - offset)
    offset += bytesWritten
  }
}

/**
 * BlobStore on a local directory: `<root>/<first 2 hex>/<blobId>`. An upload streams into a temp file
 * in the blob's own directory while hashing, then fsync file, rename, fsync directory; so a blob
 * that is visible is complete and durable, and a crash leaves at most a temp file (swept on open).
 */
export class FsBlobStore implements BlobStore {
  readonly #root: string

  private constructor(root: string) {
    this.#root = root
  }

  /** Opens the store at `root`, creating it, and deletes temp files left by a crash. */
  static async open(root: string): Promise<FsBlobStore> {
    await mkdir(root, { recursive: true, mode: 0o700 })
    for (const shard of await readdir(root, { withFileTypes: true })) {
      if (!shard.isDirectory()) continue
      for (const name of await readdir(join(root, shard.name))) {
        if (name.startsWith(tempPrefix)) await unlinkIfPresent(join(root, shard.name, name))
      }
    }
    return new FsBlobStore(root)
  }

  #pathOf(blobId: BlobId): string {
    return join(this.#root, blobId.slice(0, 2), blobId)
  }

  async put(
    blobId: BlobId,
    body: AsyncIterable<Uint8Array>,
    options: { maxBytes: number },
  ): Promise<{ size: number }> {
    const finalPath = this.#pathOf(blobId)
    const dir = dirname(finalPath)
    const createdDir = await mkdir(dir, { recursive: true, mode: 0o700 })
    if (createdDir !== undefined) await syncDir(this.#root)

    const tempPath = join(dir, `${tempPrefix}${randomBytes(12).toString("hex")}`)
    const file = await open(tempPath, "wx", 0o600)
    let closed = false
    let size = 0
    try {
      const hash = createHash("sha256")
      for await (const chunk of body) {
        size += chunk.byteLength
        if (size > options.maxBytes) throw new ApiError("TOO_LARGE", `blob exceeds ${options.maxBytes} bytes`)
        hash.update(chunk)
        await writeAll(file, chunk)
      }
      if (hash.digest("hex") !== blobId) {
        throw new ApiError("HASH_MISMATCH", "SHA-256 of the body does not match the blob id")
      }
      await file.sync()
      closed = true
      await file.close()
      // Same bytes under the same name, so replacing an existing blob is harmless and keeps this atomic.
      await rename(tempPath, finalPath)
      await syncDir(dir)
      return { size }
    } catch (err) {
      if (!closed) await file.close()
      await unlinkIfPresent(tempPath)
      throw err
    }
  }

  async stat(blobId: BlobId): Promise<{ size: number } | undefined> {
    try {
      const s = await stat(this.#pathOf(blobId))
      return { size: s.size }
    } catch (err) {
      if (isErrno(err, "ENOENT")) return undefined
      throw err
    }
  }

  async read(blobId: BlobId, range?: ByteRange): Promise<Readable> {
    // Open first so a missing file rejects here instead of erroring the stream later.
    const file = await open(this.#pathOf(blobId), "r")
    return file.createReadStream({ start: range?.start, end: range?.end })
  }

  async delete(blobId: BlobId): Promise<void> {
    const path = this.#pathOf(blobId)
    await unlinkIfPresent(path)
    try {
      await syncDir(dirname(path))
    } catch (err) {
      if (!isErrno(err, "ENOENT")) throw err
    }
  }

  async *list(): AsyncIterable<BlobId> {
    for (const shard of await readdir(this.#root, { withFileTypes: true })) {
      if (!shard.isDirectory() || !/^[0-9a-f]{2}$/.test(shard.name)) continue
      let names: string[]
      try {
        names = await readdir(join(this.#root, shard.name))
      } catch (err) {
        if (isErrno(err, "ENOENT")) continue
        throw err
      }
      for (const name of names) {
        if (/^[0-9a-f]{64}$/.test(name) && name.startsWith(shard.name)) yield name as BlobId
      }
    }
  }
}
