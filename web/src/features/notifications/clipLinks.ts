/**
 * The page side of a tapped notification: `/#clip=<id>` when the app was opened by it, or an "open-clip"
 * message from the service worker when it was already open (notificationClick.ts). The clip may not be in
 * the store yet (the app was closed and is still reading its mailbox), so it is looked up again for a while.
 */
import type { OpenClipMessage } from "./notificationClick.ts"

const clipIdPattern = /^[0-9a-f]{32}$/
const lookForMs = 60_000
const lookEveryMs = 1000

/** Calls `open` with the clip a notification named, once `open` finds it (it returns false until then). */
export function watchClipLinks(open: (clipId: string) => Promise<boolean>): void {
  const fromHash = new URLSearchParams(location.hash.slice(1)).get("clip")
  if (fromHash !== null) {
    history.replaceState(null, "", location.pathname)
    if (clipIdPattern.test(fromHash)) void openWhenKnown(fromHash, open)
  }
  navigator.serviceWorker?.addEventListener("message", (event: MessageEvent) => {
    const message = event.data as Partial<OpenClipMessage> | null
    if (
      message?.type === "open-clip" &&
      typeof message.clipId === "string" &&
      clipIdPattern.test(message.clipId)
    ) {
      void openWhenKnown(message.clipId, open)
    }
  })
}

async function openWhenKnown(clipId: string, open: (clipId: string) => Promise<boolean>) {
  const until = Date.now() + lookForMs
  while (!(await open(clipId)) && Date.now() < until) {
    await new Promise((resolve) => setTimeout(resolve, lookEveryMs))
  }
}
