import type { Response } from "express"
import { z } from "zod"
import type { Notifier } from "./notifier.ts"

/** Longest `wait` a client may ask for. */
export const maxWaitMs = 25_000
/** Most messages one read returns. */
export const pageSize = 100

/** `?after=<seq>&wait=<ms>`, both optional decimal integers. */
export const pollQuerySchema = z.object({
  after: z
    .string()
    .regex(/^\d{1,15}$/)
    .transform(Number)
    .optional(),
  wait: z
    .string()
    .regex(/^\d{1,5}$/)
    .transform(Number)
    .pipe(z.number().max(maxWaitMs))
    .optional(),
})

/** An AbortSignal that fires when the client goes away (or the answer is sent). */
export function signalOnClose(res: Response): AbortSignal {
  const controller = new AbortController()
  res.once("close", () => controller.abort())
  return controller.signal
}

/**
 * Reads; if nothing is there and `waitMs` > 0, waits for a notification on `key` (or the time, or
 * the client leaving) and reads once more. Subscribes before the first read so a message stored in
 * between still wakes us. Always removes its listener.
 */
export async function readWithLongPoll<T>(options: {
  notifier: Notifier
  key: string
  waitMs: number
  signal: AbortSignal
  read: () => Promise<T[]>
}): Promise<T[]> {
  const subscription = options.notifier.subscribe(options.key)
  try {
    const first = await options.read()
    if (first.length > 0 || options.waitMs === 0) return first
    const outcome = await subscription.wait(options.waitMs, options.signal)
    if (outcome === "aborted") return []
    return await options.read()
  } finally {
    subscription.dispose()
  }
}
