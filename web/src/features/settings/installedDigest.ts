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
 * These are the digests the server *published* for each version (build-digest.json); Settings → About
 * recomputes the running one over the files themselves (buildDigest.ts).
 */
import { buildDigestPath, parsePublishedDigest, type PublishedDigest } from "./buildDigest.ts"

export const digestCacheName = "vigil-build-digest"

export type DigestSlot = "installed" | "waiting" | "offered" | "approved"

const keyFor = (slot: DigestSlot) => `/__vigil/build-digest/${slot}`

/** What a refused version tells the open windows. */
export interface UpdateOfferedMessage {
  type: "update-offered"
}

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
 * one; any other version is recorded as offered, the windows are told, and the install fails.
 */
export async function admitVersion(opts: {
  firstInstall: boolean
  fetchFile: (path: string) => Promise<Response>
  notify: (message: UpdateOfferedMessage) => Promise<void>
}): Promise<void> {
  const published = await fetchPublished(opts.fetchFile)
  const [installed, approved] = await Promise.all([readDigest("installed"), readDigest("approved")])
  // Nothing recorded for the running version: it predates this check, so there is nothing to compare with.
  const unknownRunning = installed === undefined
  if (opts.firstInstall || unknownRunning || (published && approved?.digest === published.digest)) {
    if (published) await writeDigest("waiting", published)
    else await deleteDigest("waiting")
    return
  }
  if (published) await writeDigest("offered", published)
  await opts.notify({ type: "update-offered" })
  throw new Error("a new version is waiting for the user's approval")
}

/** Worker, on activate: the version that took over is the installed one; offers and approvals are done. */
export async function promoteWaitingDigest(): Promise<void> {
  const waiting = await readDigest("waiting")
  if (waiting) await writeDigest("installed", waiting)
  else await deleteDigest("installed")
  await Promise.all((["waiting", "offered", "approved"] as const).map(deleteDigest))
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
