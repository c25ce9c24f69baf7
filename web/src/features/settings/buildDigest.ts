/**
 * The PWA's build digest, recomputed in the browser over the files this app actually runs, so a user can
 * compare it with the digest of the published release (docs/06-reproducible-builds.md).
 *
 * Definition (the same as scripts/release/digest.mjs, which writes build-digest.json at build time):
 * SHA-256 of the lines `<sha256-hex>  <path>\n` of every file of the built app except build-digest.json,
 * sorted by path — what `sha256sum` prints for those files, piped into `sha256sum` again.
 */

/** Where the build writes the list of files and their hashes, at the root of the app. */
export const buildDigestPath = "build-digest.json"

/** build-digest.json as the server sent it: untrusted until every file it names has been hashed here. */
export interface PublishedDigest {
  version: string
  digest: string
  files: Record<string, string>
}

export type DigestCheck =
  /** Every file hashed as build-digest.json says: `digest` is over the bytes this app runs. */
  | { kind: "verified"; version: string; digest: string; fileCount: number }
  /** The files this app runs are not those build-digest.json describes (an update may be waiting). */
  | { kind: "mismatch"; version: string; digest: string; published: string; differing: string[] }
  | { kind: "unavailable"; reason: string }

const hexDigest = /^[0-9a-f]{64}$/

export async function sha256Hex(bytes: Uint8Array | string): Promise<string> {
  const data = typeof bytes === "string" ? new TextEncoder().encode(bytes) : bytes
  const hash = new Uint8Array(await crypto.subtle.digest("SHA-256", data as Uint8Array<ArrayBuffer>))
  return Array.from(hash, (b) => b.toString(16).padStart(2, "0")).join("")
}

/** The digest of (path → SHA-256) pairs, as defined above. */
export function digestOfFiles(files: Record<string, string>): Promise<string> {
  const lines = Object.keys(files)
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
    .map((path) => `${files[path]}  ${path}\n`)
    .join("")
  return sha256Hex(lines)
}

/** Checks the shape of build-digest.json; `undefined` when it is not one. */
export function parsePublishedDigest(value: unknown): PublishedDigest | undefined {
  if (typeof value !== "object" || value === null) return undefined
  const { version, digest, files } = value as Record<string, unknown>
  if (typeof version !== "string" || typeof digest !== "string" || !hexDigest.test(digest)) return undefined
  if (typeof files !== "object" || files === null) return undefined
  const entries = Object.entries(files as Record<string, unknown>)
  const valid = entries.every(
    ([path, hash]) =>
      typeof hash === "string" &&
      hexDigest.test(hash) &&
      path !== buildDigestPath &&
      path.split("/").every((part) => part !== "" && part !== "." && part !== ".."),
  )
  return valid && entries.length > 0 ? { version, digest, files: files as Record<string, string> } : undefined
}

/**
 * Fetches build-digest.json, then every file it names (through the service worker, so precached files
 * come from the cache the app runs from), hashes them and recomputes the digest.
 */
export async function checkBuildDigest(
  fetchFile: (path: string) => Promise<Response> = (path) => fetch(new URL(path, `${location.origin}/`)),
): Promise<DigestCheck> {
  let published: PublishedDigest | undefined
  try {
    const res = await fetchFile(buildDigestPath)
    if (!res.ok)
      return { kind: "unavailable", reason: `this build has no ${buildDigestPath} (HTTP ${res.status})` }
    published = parsePublishedDigest(await res.json())
  } catch {
    return { kind: "unavailable", reason: `${buildDigestPath} could not be loaded (offline?)` }
  }
  if (!published) return { kind: "unavailable", reason: `${buildDigestPath} is not a build digest` }

  const actual: Record<string, string> = {}
  const differing: string[] = []
  for (const [path, expected] of Object.entries(published.files)) {
    let hash: string
    try {
      const res = await fetchFile(path)
      if (!res.ok) return { kind: "unavailable", reason: `${path} could not be loaded (HTTP ${res.status})` }
      hash = await sha256Hex(new Uint8Array(await res.arrayBuffer()))
    } catch {
      return { kind: "unavailable", reason: `${path} could not be loaded (offline?)` }
    }
    actual[path] = hash
    if (hash !== expected) differing.push(path)
  }
  const digest = await digestOfFiles(actual)
  if (differing.length === 0 && digest === published.digest) {
    return { kind: "verified", version: published.version, digest, fileCount: Object.keys(actual).length }
  }
  return { kind: "mismatch", version: published.version, digest, published: published.digest, differing }
}

/**
 * What a service worker version installed, checked against what was published for it (sw.ts, on install).
 * `installed` is always over the bytes themselves: the digest a phone shows for the version it runs.
 */
export type InstalledCheck =
  /** The installed bytes are exactly the published build. */
  | { kind: "verified"; installed: PublishedDigest }
  /** No build-digest.json came with this version: nothing to compare with; the bytes' digest is recorded. */
  | { kind: "unpublished"; installed: PublishedDigest }
  /**
   * The installed bytes are not the published build: `differing` files have other bytes, `missing` ones
   * were published but not installed, `unlisted` ones were installed but not published.
   */
  | {
      kind: "mismatch"
      installed: PublishedDigest
      published: string
      differing: string[]
      missing: string[]
      unlisted: string[]
    }

/**
 * Hashes the files a version installed (`read` gives each one's bytes as it will be served: from the
 * precache, and the worker script) and compares them, and their digest, with build-digest.json.
 * Pure apart from `read`: the same definition as the build's (scripts/release/digest.mjs), so a verified
 * version's digest is the release's published one.
 */
export async function checkInstalledFiles(opts: {
  published: PublishedDigest | undefined
  /** Every installed file, as a path relative to the app's root (e.g. `assets/index-abc.js`, `sw.js`). */
  paths: readonly string[]
  read: (path: string) => Promise<Uint8Array>
}): Promise<InstalledCheck> {
  const files: Record<string, string> = {}
  for (const path of [...new Set(opts.paths)].sort()) files[path] = await sha256Hex(await opts.read(path))
  const digest = await digestOfFiles(files)
  const published = opts.published
  if (!published) return { kind: "unpublished", installed: { version: "unpublished", digest, files } }
  const installed = { version: published.version, digest, files }
  const differing = Object.keys(files).filter((p) => p in published.files && published.files[p] !== files[p])
  const missing = Object.keys(published.files).filter((p) => !(p in files))
  const unlisted = Object.keys(files).filter((p) => !(p in published.files))
  if (digest === published.digest && differing.length + missing.length + unlisted.length === 0) {
    return { kind: "verified", installed }
  }
  return { kind: "mismatch", installed, published: published.digest, differing, missing, unlisted }
}

/** A digest in groups of eight characters, easier to read aloud and to compare by eye. */
export function groupDigest(digest: string): string {
  return digest.match(/.{1,8}/g)?.join(" ") ?? digest
}
