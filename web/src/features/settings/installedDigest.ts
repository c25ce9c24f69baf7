/**
 * Build digests of this PWA's versions, kept in a Cache that the page and every service worker version
 * share (see sw.ts and updatePrompt.ts):
 *
 * - "installed": the version running now (recorded when it installed, promoted when it took over);
 * - "waiting": a version installing right now;
 * - "offered": a newer version the server offers, refused until the user approves it;
 * - "approved": the version the user accepted from the prompt.
 *
 * A new service worker version installs only when no version is installed yet (first visit) or when its
 * digest is the approved one; otherwise its install fails on purpose, after recording it as offered. This
 * is what keeps the browser from switching on its own (it would otherwise activate a waiting worker as soon
 * as no tab uses the old one).
 *
 * "offered" and "approved" are what the server *published* for a version (build-digest.json): that is all
 * there is before its files are downloaded. "waiting" and "installed" are computed over the bytes the
 * version actually installed (sw.ts → `settleInstall`), and a version whose bytes are not its published
 * build is refused ("refused" says why): so the digest a person compares with the release is the digest
 * of what runs.
 */
import {
  buildDigestPath,
  parsePublishedDigest,
  type InstalledCheck,
  type PublishedDigest,
} from "./buildDigest.ts"

export const digestCacheName = "vigil-build-digest"

export type DigestSlot = "installed" | "waiting" | "offered" | "approved"

const keyFor = (slot: DigestSlot) => `/__vigil/build-digest/${slot}`

/** What a refused version tells the open windows: it waits for approval, or its bytes were refused. */
export interface UpdateOfferedMessage {
  type: "update-offered" | "update-refused"
}

/** A version whose installed bytes were not the build it was published as (it never activated). */
export interface RefusedVersion {
  version: string
  /** The digest build-digest.json claimed. */
  published: string
  /** The digest of the bytes that arrived. */
  installed: string
  /** The files that do not match: other bytes, not installed, or not published. */
  files: string[]
}

const refusedKey = "/__vigil/build-digest/refused"

/** The installing version's build-digest.json, or undefined when it has none or it cannot be read. */
async function fetchPublished(fetchFile: (path: string) => Promise<Response>) {
  try {
    const response = await fetchFile(buildDigestPath)
    return response.ok ? parsePublishedDigest(await response.json()) : undefined
  } catch {
    return undefined
  }
}

/**
 * Worker, on install (registered before anything else installs): admits the first version and the approved
 * one, and returns what it published; any other version is recorded as offered, the windows are told, and
 * the install fails before a file is downloaded.
 */
export async function admitVersion(opts: {
  firstInstall: boolean
  fetchFile: (path: string) => Promise<Response>
  notify: (message: UpdateOfferedMessage) => Promise<void>
}): Promise<PublishedDigest | undefined> {
  const published = await fetchPublished(opts.fetchFile)
  const [installed, approved] = await Promise.all([readDigest("installed"), readDigest("approved")])
  // Nothing recorded for the running version: it predates this check, so there is nothing to compare with.
  const unknownRunning = installed === undefined
  if (opts.firstInstall || unknownRunning || (published && approved?.digest === published.digest)) {
    return published
  }
  if (published) await writeDigest("offered", published)
  await opts.notify({ type: "update-offered" })
  throw new Error("a new version is waiting for the user's approval")
}

/**
 * Worker, on install, once its files are in the precache: a version whose bytes are its published build
 * (or that published none) waits to take over with the digest of those bytes; any other is refused — it
 * is recorded with the files that differ, the windows are told, and the install fails, so it never runs.
 */
export async function settleInstall(
  check: InstalledCheck,
  notify: (message: UpdateOfferedMessage) => Promise<void>,
): Promise<void> {
  if (check.kind !== "mismatch") {
    await writeDigest("waiting", check.installed)
    return
  }
  const refused: RefusedVersion = {
    version: check.installed.version,
    published: check.published,
    installed: check.installed.digest,
    files: [...check.differing, ...check.missing, ...check.unlisted].sort(),
  }
  await deleteDigest("waiting")
  await (
    await caches.open(digestCacheName)
  ).put(
    refusedKey,
    new Response(JSON.stringify(refused), { headers: { "Content-Type": "application/json" } }),
  )
  await notify({ type: "update-refused" })
  throw new Error(
    `version ${refused.version} refused: its files are not the build it was published as (${refused.files.join(", ") || "digest"})`,
  )
}

/** The last version refused for its bytes, if any since the running one took over. */
export async function readRefused(): Promise<RefusedVersion | undefined> {
  if (!("caches" in globalThis)) return undefined
  const response = await (await caches.open(digestCacheName)).match(refusedKey)
  if (!response) return undefined
  const value = (await response.json()) as Partial<RefusedVersion> | null
  if (
    typeof value?.version !== "string" ||
    typeof value.published !== "string" ||
    typeof value.installed !== "string" ||
    !Array.isArray(value.files)
  )
    return undefined
  const files = (value.files as unknown[]).filter((f): f is string => typeof f === "string")
  return { version: value.version, published: value.published, installed: value.installed, files }
}

/** Worker, on activate: the version that took over is the installed one; offers and approvals are done. */
export async function promoteWaitingDigest(): Promise<void> {
  const waiting = await readDigest("waiting")
  if (waiting) await writeDigest("installed", waiting)
  else await deleteDigest("installed")
  await Promise.all((["waiting", "offered", "approved"] as const).map(deleteDigest))
  await (await caches.open(digestCacheName)).delete(refusedKey)
}

/** The recorded digest of one slot, if any. */
export async function readDigest(slot: DigestSlot): Promise<PublishedDigest | undefined> {
  if (!("caches" in globalThis)) return undefined
  const response = await (await caches.open(digestCacheName)).match(keyFor(slot))
  return response ? parsePublishedDigest(await response.json()) : undefined
}

export async function writeDigest(slot: DigestSlot, digest: PublishedDigest): Promise<void> {
  const body = JSON.stringify(digest)
  await (
    await caches.open(digestCacheName)
  ).put(keyFor(slot), new Response(body, { headers: { "Content-Type": "application/json" } }))
}

async function deleteDigest(slot: DigestSlot): Promise<void> {
  await (await caches.open(digestCacheName)).delete(keyFor(slot))
}
