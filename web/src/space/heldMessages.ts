/**
 * Messages whose header claims a later epoch than the phone's (issue 14, finding 2): their commit may still
 * come, out of order or itself held, so they wait. Unauthenticated until then, so the buffer is bounded: a
 * forger can fill it and push out older held messages, nothing else.
 */
import { claimedEpoch, toBase64 } from "@vigil/protocol"
import type { HeldRecord } from "../store/db.ts"

export type HeldMessages = HeldRecord["messages"]

export const maxHeldMessages = 32
export const maxHeldBytes = 64 * 1024

/**
 * `held` with message `seq` kept (oldest pushed out when full), and the problems to note; `held` is
 * undefined when nothing changed.
 */
export function holdMessage(
  held: HeldMessages,
  seq: number,
  body: Uint8Array,
  now = Date.now(),
): { held?: HeldMessages; problems: string[] } {
  if (body.length > maxHeldBytes) {
    return { problems: [`message ${seq} skipped: EPOCH_AHEAD: too large to keep`] }
  }
  const epoch = claimedEpoch(body)
  if (epoch === undefined) return { problems: [] }
  const dropped = held.length >= maxHeldMessages ? held[0] : undefined
  return {
    held: [
      ...held.slice(dropped ? 1 : 0),
      { seq, body: toBase64(body), epoch: epoch.toString(), heldAt: now },
    ],
    problems: [
      ...(dropped ? [`message ${dropped.seq} skipped: EPOCH_AHEAD: held too long`] : []),
      `message ${seq} held: EPOCH_AHEAD: claims epoch ${epoch}`,
    ],
  }
}

/** The oldest held message the session's epoch has now reached, if any. */
export function nextReleasable(held: HeldMessages, epoch: bigint): HeldMessages[number] | undefined {
  return held.find((m) => BigInt(m.epoch) <= epoch)
}
