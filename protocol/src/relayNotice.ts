/**
 * The relay's own Web Push notice that a hub stopped checking in, or is back (signal/src/push/hubWatch.ts).
 * UTF-8 JSON in clear — the relay has nothing to seal it with and learns nothing from it — never base64url,
 * so a phone tells it from the hub's sealed payloads (pushPayload.ts) by its first character:
 *   { "relay": "hub-silent" | "hub-back", "spaceId": "<32 hex>", "since": <ms> }
 * A phone shows it as the relay's word only: a relay could invent or withhold it.
 */
import { z } from "zod"

const relayNoticeSchema = z.strictObject({
  relay: z.enum(["hub-silent", "hub-back"]),
  spaceId: z.string().regex(/^[0-9a-f]{32}$/),
  since: z.number().int().nonnegative(),
})

export type RelayNotice = z.infer<typeof relayNoticeSchema>

/** The relay's notice in a push message's text, or undefined when the text is anything else. */
export function readRelayNotice(text: string): RelayNotice | undefined {
  if (!text.startsWith("{") || text.length > 512) return undefined
  try {
    const parsed = relayNoticeSchema.safeParse(JSON.parse(text))
    return parsed.success ? parsed.data : undefined
  } catch {
    return undefined
  }
}
