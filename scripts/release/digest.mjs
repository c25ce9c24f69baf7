// The PWA's build digest: one SHA-256 over the sorted `sha256sum` lines of every file of the built app
// except build-digest.json itself. The same definition lives in web/src/features/settings/buildDigest.ts
// (the browser recomputes it); a test holds the two together.
import { createHash } from "node:crypto"
import { readdirSync, readFileSync, writeFileSync } from "node:fs"
import { join, relative, resolve, sep } from "node:path"

/** The file the digest is written to, at the root of the built PWA; it is not part of the digest. */
export const buildDigestFile = "build-digest.json"

/** @param {Uint8Array | string} bytes */
export function sha256Hex(bytes) {
  return createHash("sha256").update(bytes).digest("hex")
}

/**
 * Every regular file under `dir`, as `/`-separated paths relative to it, sorted by code unit (for ASCII
 * names the same order as `LC_ALL=C sort`). Symbolic links and other special files are refused: a release
 * holds plain files only.
 * @param {string} dir
 * @returns {string[]}
 */
export function listFiles(dir) {
  /** @type {string[]} */
  const out = []
  const walk = (/** @type {string} */ at) => {
    for (const entry of readdirSync(at, { withFileTypes: true })) {
      const path = join(at, entry.name)
      if (entry.isDirectory()) walk(path)
      else if (entry.isFile()) out.push(relative(dir, path).split(sep).join("/"))
      else throw new Error(`${path}: not a regular file or directory`)
    }
  }
  walk(dir)
  return out.sort(compareCodeUnits)
}

/** @param {string} a @param {string} b */
export function compareCodeUnits(a, b) {
  return a < b ? -1 : a > b ? 1 : 0
}

/**
 * The digest of (path, sha256) pairs: SHA-256 of the text `sha256sum` would print for them, sorted by path,
 * so `sha256sum $(find . -type f | LC_ALL=C sort) | sha256sum` over the same files gives the same value.
 * @param {Record<string, string>} files path → lowercase hex SHA-256
 */
export function digestOfFiles(files) {
  const lines = Object.keys(files)
    .sort(compareCodeUnits)
    .map((path) => `${files[path]}  ${path}\n`)
    .join("")
  return sha256Hex(lines)
}

/**
 * Hashes every file of the built PWA in `dir` except the digest file.
 * @param {string} dir
 * @returns {{ digest: string, files: Record<string, string> }}
 */
export function computeBuildDigest(dir) {
  /** @type {Record<string, string>} */
  const files = {}
  for (const path of listFiles(dir)) {
    if (path !== buildDigestFile) files[path] = sha256Hex(readFileSync(join(dir, path)))
  }
  return { digest: digestOfFiles(files), files }
}

/**
 * Writes `build-digest.json` into the built PWA at `dir`: the digest, and each file's hash so the app can
 * show which file differs. Its bytes depend only on the other files' bytes and `version`.
 * @param {string} dir
 * @param {{ package: string, version: string }} about
 */
export function writeBuildDigest(dir, about) {
  const { digest, files } = computeBuildDigest(dir)
  const body = {
    package: about.package,
    version: about.version,
    algorithm: "sha256 over the sorted `sha256sum` lines of every other file",
    digest,
    files,
  }
  writeFileSync(join(dir, buildDigestFile), `${JSON.stringify(body, null, 2)}\n`)
  return digest
}

/**
 * A Vite plugin that writes `build-digest.json` once the build, service worker included, is on disk.
 * @param {{ package: string, version: string }} about
 * @returns {import("vite").Plugin}
 */
export function buildDigestPlugin(about) {
  /** @type {string} */
  let outDir = ""
  return {
    name: "vigil:build-digest",
    apply: "build",
    configResolved(config) {
      outDir = resolve(config.root, config.build.outDir)
    },
    // vite-plugin-pwa writes sw.js in a sequential closeBundle; "post" runs after it.
    closeBundle: {
      order: "post",
      sequential: true,
      handler(error) {
        if (!error) writeBuildDigest(outDir, about)
      },
    },
  }
}
