/**
 * Where a tapped notification leads: an open Vigil window is told which clip to show (and focused); with
 * none, a new one opens at `/#clip=<id>`. The page side is clipLinks.ts.
 */
import type { NotificationData } from "./pushNotification.ts"

/** The message a window receives; clipLinks.ts reads it. */
export interface OpenClipMessage {
  type: "open-clip"
  clipId: string
}

const clipIdPattern = /^[0-9a-f]{32}$/

/** Reads a notification's data back; anything unexpected leads to the app's start page. */
export function notificationTarget(data: unknown): NotificationData {
  const d = data as Partial<NotificationData> | null | undefined
  const clipId = typeof d?.clipId === "string" && clipIdPattern.test(d.clipId) ? d.clipId : undefined
  return clipId ? { url: `/#clip=${clipId}`, clipId } : { url: "/" }
}

export async function openNotificationTarget(scope: ServiceWorkerGlobalScope, data: unknown): Promise<void> {
  const target = notificationTarget(data)
  const windows = await scope.clients.matchAll({ type: "window", includeUncontrolled: true })
  const open = windows[0]
  if (!open) {
    await scope.clients.openWindow(new URL(target.url, scope.location.origin).href)
    return
  }
  if (target.clipId) open.postMessage({ type: "open-clip", clipId: target.clipId } satisfies OpenClipMessage)
  // Focusing needs the user's tap; a notification closed some other way just leaves the window as it is.
  await open.focus().catch(() => undefined)
}
