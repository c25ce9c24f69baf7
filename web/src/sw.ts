/// <reference lib="webworker" />
import { cleanupOutdatedCaches, PrecacheController, PrecacheRoute } from "workbox-precaching"
import { NavigationRoute, registerRoute } from "workbox-routing"
import { openNotificationTarget } from "./features/notifications/notificationClick.ts"
import { notificationForHomes } from "./features/notifications/pushNotification.ts"
import { checkInstalledFiles } from "./features/settings/buildDigest.ts"
import {
  admitVersion,
  promoteWaitingDigest,
  settleInstall,
  type UpdateOfferedMessage,
} from "./features/settings/installedDigest.ts"
import { LocalStore } from "./store/db.ts"
import { firstHomeDb, listHomeDbs } from "./store/homes.ts"

declare const self: ServiceWorkerGlobalScope

// The app shell (every built file but this worker, by content hash) is precached, so the app opens offline.
// The install below runs it itself, after the version is admitted and before its bytes are checked.
const precache = new PrecacheController()
precache.addToCacheList(self.__WB_MANIFEST)

const notify = async (message: UpdateOfferedMessage) => {
  for (const client of await self.clients.matchAll({ type: "window", includeUncontrolled: true })) {
    client.postMessage(message)
  }
}

/** A file of this version as a path relative to the app's root, the way build-digest.json names it. */
const appPath = (url: string) => new URL(url).href.slice(self.registration.scope.length)

/** The bytes this version will serve for a file: from the precache, or (this worker itself) as fetched. */
async function installedBytes(path: string): Promise<Uint8Array> {
  const url = new URL(path, self.registration.scope).href
  const response =
    url === self.location.href
      ? // The platform does not hand a worker its own script; this is the script the server serves now.
        await fetch(url, { cache: "no-store" })
      : await precache.matchPrecache(url)
  if (!response?.ok) throw new Error(`${path} is not installed`)
  return new Uint8Array(await response.arrayBuffer())
}

// A version installs in three steps, each of which can refuse it (then it never runs):
// 1. admission: only the first version, or the one the user approved by its published digest
//    (features/settings/updatePrompt.ts);
// 2. its files are downloaded into the precache;
// 3. the digest of the bytes now in the precache (and of this worker) must be the published one: the
//    digest the phone then shows is that of what runs, which a person can compare with the release.
self.addEventListener("install", (event) => {
  event.waitUntil(
    (async () => {
      const published = await admitVersion({
        firstInstall: !self.registration.active,
        fetchFile: (path) => fetch(new URL(path, self.registration.scope), { cache: "no-store" }),
        notify,
      })
      const { updatedURLs } = await precache.install(event)
      const paths = [...precache.getCachedURLs(), self.location.href].map(appPath)
      const check = await checkInstalledFiles({ published, paths, read: installedBytes })
      try {
        await settleInstall(check, notify)
      } catch (err) {
        // What this install added must not stay behind: a later version naming the same files would find
        // them already cached and never download them again.
        const cache = await caches.open(precache.strategy.cacheName)
        for (const url of updatedURLs) await cache.delete(precache.getCacheKeyForURL(url) ?? url)
        throw err
      }
    })(),
  )
})
self.addEventListener("activate", (event) => {
  event.waitUntil(Promise.all([promoteWaitingDigest(), precache.activate(event)]))
})
registerRoute(new PrecacheRoute(precache))
cleanupOutdatedCaches()

// Navigations get the cached shell; API calls to signal are never cached (they go to the network).
registerRoute(
  new NavigationRoute(precache.createHandlerBoundToURL("/index.html"), {
    denylist: [/^\/v1\//, /^\/healthz/],
  }),
)

// An approved version still waits (no skipWaiting on install, no clients.claim); the app sends this.
self.addEventListener("message", (event) => {
  if ((event.data as { type?: string } | null)?.type === "SKIP_WAITING") void self.skipWaiting()
})

// The hub's push after a clip: decrypted here with the saved MLS state (features/notifications).
self.addEventListener("push", (event) => {
  const text = event.data?.text() ?? ""
  event.waitUntil(
    listHomeDbs()
      .catch(() => [firstHomeDb])
      .then((dbs) =>
        notificationForHomes(
          text,
          dbs.map((db) => () => LocalStore.open(db)),
        ),
      )
      .then((n) => self.registration.showNotification(n.title, n.options)),
  )
})

self.addEventListener("notificationclick", (event) => {
  event.notification.close()
  const work = openNotificationTarget(self, event.notification.data)
  // Only the browser's own events can be extended; a synthetic one (DevTools) just runs the work.
  if (event.isTrusted) event.waitUntil(work)
  else void work
})
