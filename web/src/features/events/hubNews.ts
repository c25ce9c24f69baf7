import type { HubNews } from "../../space/phoneSpace.ts"
import { timeText } from "../../ui/format.ts"

function durationText(ms: number): string {
  const minutes = Math.max(1, Math.floor(ms / 60_000))
  if (minutes < 120) return `${minutes} minutes`
  const hours = Math.floor(minutes / 60)
  return hours < 48 ? `${hours} hours` : `${Math.floor(hours / 24)} days`
}

/**
 * The sentences of the notice above the timeline: cameras the hub says are offline (issue 16), and — since
 * the relay can drop or hold back the hub's messages (issue 14, finding 5) — a skipped number or a silent
 * hub. Empty: all well.
 */
export function hubNewsLines(news: HubNews, hubName: string, now = Date.now()): string[] {
  const lines: string[] = []
  for (const camera of news.offline) {
    lines.push(`${camera.name} offline since ${timeText(camera.since, now)}: no video reaches the hub.`)
  }
  if (news.silentSince !== undefined) {
    lines.push(
      `No news from ${hubName} for ${durationText(now - news.silentSince)}. The hub may be off or offline, ` +
        "or its messages are being held back on the way.",
    )
  }
  if (news.missing > 0) {
    lines.push(
      news.missing === 1
        ? `1 event from ${hubName} did not arrive: it was lost or held back on the way.`
        : `${news.missing} events from ${hubName} did not arrive: they were lost or held back on the way.`,
    )
  }
  return lines
}
