import { open, rename, mkdir, rm } from "node:fs/promises"
import { dirname, basename, join } from "node:path"
import { randomBytes } from "node:crypto"

/**
 * Replaces a file so that after a crash at any instant it holds either the old or the new content, never a
 * mix: write a temp file in the same directory, fsync it, rename over the target, fsync the directory.
 */
export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  const dir = dirname(path)
  await mkdir(dir, { recursive: true })
  const tmp = join(dir, `.${basename(path)}.${randomBytes(6).toString("hex")}.tmp`)
  const fh = await open(tmp, "w", 0o600)
  try {
    await fh.writeFile(data)
    await fh.sync()
  } finally {
    await fh.close()
  }
  try {
    await rename(tmp, path)
  } catch (err) {
    await rm(tmp, { force: true })
    throw err
  }
  const dh = await open(dir, "r")
  try {
    await dh.sync()
  } finally {
    await dh.close()
  }
}
