// A deterministic .tar.gz: ustar entries in sorted order with fixed mtime, owner, group and modes, then gzip
// without a name or timestamp. Node's zlib is part of the pinned Node version, so its bytes are too.
import { gzipSync } from "node:zlib"
import { compareCodeUnits } from "./digest.mjs"

const block = 512

/**
 * Writes `text` as NUL-padded ASCII into `header` at `offset`, in a field of `size` bytes.
 * @param {Buffer} header @param {number} offset @param {number} size @param {string} text
 */
function field(header, offset, size, text) {
  if (Buffer.byteLength(text) > size) throw new Error(`tar header field too long: ${text}`)
  header.write(text, offset, size, "ascii")
}

/** @param {number} value @param {number} size */
function octal(value, size) {
  return value.toString(8).padStart(size - 1, "0") + "\0"
}

/**
 * Splits a path into ustar's name (≤100 bytes) and prefix (≤155 bytes) fields.
 * @param {string} path
 */
function splitName(path) {
  if (Buffer.byteLength(path) <= 100) return { name: path, prefix: "" }
  for (let i = path.indexOf("/"); i !== -1; i = path.indexOf("/", i + 1)) {
    const prefix = path.slice(0, i)
    const name = path.slice(i + 1)
    if (Buffer.byteLength(prefix) <= 155 && Buffer.byteLength(name) <= 100) return { name, prefix }
  }
  throw new Error(`path too long for a ustar archive: ${path}`)
}

/**
 * @param {{ path: string, type: "file" | "dir", size: number, mode: number, mtime: number }} entry
 */
function header(entry) {
  const h = Buffer.alloc(block)
  const { name, prefix } = splitName(entry.path)
  field(h, 0, 100, name)
  field(h, 100, 8, octal(entry.mode, 8))
  field(h, 108, 8, octal(0, 8)) // uid
  field(h, 116, 8, octal(0, 8)) // gid
  field(h, 124, 12, octal(entry.size, 12))
  field(h, 136, 12, octal(entry.mtime, 12))
  field(h, 148, 8, "        ") // checksum counts as spaces while it is computed
  field(h, 156, 1, entry.type === "dir" ? "5" : "0")
  field(h, 257, 6, "ustar\0")
  field(h, 263, 2, "00")
  field(h, 265, 32, "root")
  field(h, 297, 32, "root")
  field(h, 345, 155, prefix)
  let sum = 0
  for (const byte of h) sum += byte
  field(h, 148, 8, sum.toString(8).padStart(6, "0") + "\0 ")
  return h
}

/**
 * A gzipped ustar archive of `files` under the directory `root`, byte-for-byte the same for the same input.
 * Directories get entries of their own (mode 0755), files mode 0644 or 0755 when `executable` says so.
 * @param {{ root: string, mtime: number, files: { path: string, bytes: Uint8Array, executable?: boolean }[] }} input
 * @returns {Buffer}
 */
export function createTarball({ root, mtime, files }) {
  if (!Number.isInteger(mtime) || mtime < 0) throw new Error(`invalid mtime: ${mtime}`)
  const dirs = new Set([root])
  for (const f of files) {
    const parts = f.path.split("/")
    for (let i = 1; i < parts.length; i++) dirs.add(`${root}/${parts.slice(0, i).join("/")}`)
  }
  /** @type {{ path: string, type: "file" | "dir", bytes?: Uint8Array, mode: number }[]} */
  const entries = [
    ...[...dirs].map((d) => ({ path: `${d}/`, type: /** @type {const} */ ("dir"), mode: 0o755 })),
    ...files.map((f) => ({
      path: `${root}/${f.path}`,
      type: /** @type {const} */ ("file"),
      bytes: f.bytes,
      mode: f.executable ? 0o755 : 0o644,
    })),
  ].sort((a, b) => compareCodeUnits(a.path, b.path))

  /** @type {Buffer[]} */
  const chunks = []
  for (const e of entries) {
    const size = e.bytes?.length ?? 0
    chunks.push(header({ path: e.path, type: e.type, size, mode: e.mode, mtime }))
    if (e.bytes) {
      chunks.push(Buffer.from(e.bytes))
      const pad = (block - (size % block)) % block
      if (pad) chunks.push(Buffer.alloc(pad))
    }
  }
  chunks.push(Buffer.alloc(2 * block)) // end of archive
  const tar = Buffer.concat(chunks)
  // GNU tar pads archives to whole 10 KiB records; some readers expect it.
  const record = 20 * block
  const padded = Buffer.concat([tar, Buffer.alloc((record - (tar.length % record)) % record)])
  const gz = gzipSync(padded, { level: 9 })
  // The gzip header's OS byte says which platform zlib was built for; pin it to "Unix" (as `gzip -n`).
  gz[9] = 3
  return gz
}
