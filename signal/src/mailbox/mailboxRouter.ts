import { Router } from "express"
import { z } from "zod"
import { ApiError } from "../errors.ts"
import { authenticate, authenticatedDevice } from "../http/auth.ts"
import { jsonBody, rawBody } from "../http/body.ts"
import type { AppContext } from "../http/context.ts"
import { pageSize, pollQuerySchema, readWithLongPoll, signalOnClose } from "../http/longPoll.ts"
import { encodeWireMessage } from "../http/wireMessage.ts"
import { deviceIdSchema } from "../ids.ts"
import { mailboxKey } from "./mailboxKey.ts"

const recipientParams = z.object({ deviceId: deviceIdSchema })
const ackSchema = z.object({ upTo: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER) })

export { mailboxKey }

/** Per-device store-and-forward queues: send, long-poll read, ack. */
export function createMailboxRouter(ctx: AppContext): Router {
  const router = Router()
  const auth = authenticate(ctx)

  router.post(
    "/devices/:deviceId/mailbox",
    auth,
    ...rawBody(ctx.config.maxMessageBytes),
    async (req, res) => {
      const sender = authenticatedDevice(res)
      const { deviceId: to } = recipientParams.parse(req.params)
      // Nothing legitimate mails itself; a device filling its own mailbox would stall its hub's outbox.
      if (to === sender.deviceId) throw new ApiError("FORBIDDEN", "a device may not mail itself")
      // Same answer for an unknown recipient and a stranger: device ids are not to be probed.
      if (!(await ctx.store.shareSpace(sender.deviceId, to))) {
        throw new ApiError("FORBIDDEN", "sender and recipient share no space")
      }
      const body = req.body as Buffer
      const result = await ctx.store.appendMailbox({
        to,
        from: sender.deviceId,
        sentAt: ctx.now(),
        body,
        maxMessages: ctx.config.maxMailboxMessages,
      })
      if (result.kind === "full") throw new ApiError("MAILBOX_FULL", "recipient mailbox is full")
      ctx.metrics.mailboxMessages.inc()
      ctx.notifier.notify(mailboxKey(to))
      ctx.logger.debug(
        { from: sender.deviceId, to, seq: result.seq, size: body.byteLength },
        "mailbox message",
      )
      res.status(201).json({ seq: result.seq })
    },
  )

  router.get("/mailbox", auth, async (req, res) => {
    const device = authenticatedDevice(res)
    const query = pollQuerySchema.parse(req.query)
    const signal = signalOnClose(res)
    const messages = await readWithLongPoll({
      notifier: ctx.notifier,
      key: mailboxKey(device.deviceId),
      waitMs: query.wait ?? 0,
      signal,
      read: () => ctx.store.listMailbox(device.deviceId, query.after ?? 0, pageSize),
    })
    if (signal.aborted) return
    res.json({ messages: messages.map(encodeWireMessage) })
  })

  router.post("/mailbox/ack", auth, jsonBody, async (req, res) => {
    const device = authenticatedDevice(res)
    const { upTo } = ackSchema.parse(req.body)
    await ctx.store.ackMailbox(device.deviceId, upTo)
    res.status(204).end()
  })

  return router
}
