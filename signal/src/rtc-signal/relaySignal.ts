import { ApiError } from "../errors.ts"
import type { AppContext } from "../http/context.ts"
import type { DeviceId } from "../ids.ts"

/**
 * Hands an opaque signalling message (an MLS-encrypted offer, answer or ICE candidate) to the
 * recipient's live WebSocket connections. Nothing is stored: 0 means the recipient is offline and
 * the sender should fall back to the mailbox. Sender and recipient must share a space (403 otherwise,
 * the same answer as for an unknown device).
 */
export async function relaySignal(
  ctx: AppContext,
  from: DeviceId,
  to: DeviceId,
  body: Uint8Array,
): Promise<number> {
  if (body.byteLength === 0) throw new ApiError("VALIDATION", "empty signal")
  if (body.byteLength > ctx.config.maxSignalBytes) {
    throw new ApiError("TOO_LARGE", `signal exceeds ${ctx.config.maxSignalBytes} bytes`)
  }
  if (!(await ctx.store.shareSpace(from, to)))
    throw new ApiError("FORBIDDEN", "sender and recipient share no space")
  return ctx.live.deliver(to, {
    kind: "signal",
    from,
    sentAt: ctx.now(),
    body: Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString("base64"),
  })
}
