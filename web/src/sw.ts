/// <reference lib="webworker" />
import { cleanupOutdatedCaches, createHandlerBoundToURL, precacheAndRoute } from "workbox-precaching"
import { NavigationRoute, registerRoute } from "workbox-routing"
import { openNotificationTarget } from "./features/notifications/notificationClick.ts"
import { notificationForPush } from "./features/notifications/pushNotification.ts"
import { admitVersion, promoteWaitingDigest } from "./features/settings/installedDigest.ts"
import { LocalStore } from "./store/db.ts"

declare const self: ServiceWorkerGlobalScope

// First of all listeners: a new version installs only on the first visit or once the user approved its
// build digest; otherwise it fails here and the app shows the offer (features/settings/updatePrompt.ts).
self.addEventListener("install", (event) => {
  event.waitUntil(
    admitVersion({
      firstInstall: !self.registration.active,
      fetchFile: (path) => fetch(new URL(path, self.location.origin), { cache: "no-store" }),
      notify: async (message) => {
        for (const client of await self.clients.matchAll({ type: "window", includeUncontrolled: true })) {
          client.postMessage(message)
        }
      },
    }),
  )
})
self.addEventListener("activate", (event) => event.waitUntil(promoteWaitingDigest()))

// The app shell (every built file, by content hash) is precached, so the app opens offline.
precacheAndRoute(self.__WB_MANIFEST)
cleanupOutdatedCaches()

// Navigations get the cached shell; API calls to signal are never cached (they go to the network).
registerRoute(
  new NavigationRoute(createHandlerBoundToURL("/index.html"), { denylist: [/^\/v1\//, /^\/healthz/] }),
)

// An approved version still waits (no skipWaiting on install, no clients.claim); the app sends this.
self.addEventListener("message", (event) => {
  if ((event.data as { type?: string } | null)?.type === "SKIP_WAITING") void self.skipWaiting()
})

// The hub's push after a clip: decrypted here with the saved MLS state (features/notifications).
self.addEventListener("push", (event) => {
  const text = event.data?.text() ?? ""
  event.waitUntil(
    notificationForPush(text, () => LocalStore.open()).then((n) =>
      self.registration.showNotification(n.title, n.options),
    ),
  )
})

self.addEventListener("notificationclick", (event) => {
  event.notification.close()
  const work = openNotificationTarget(self, event.notification.data)
  // Only the browser's own events can be extended; a synthetic one (DevTools) just runs the work.
  if (event.isTrusted) event.waitUntil(work)
  else void work
})
