import { z } from "zod"
import type { ErrorCode } from "../errors.ts"
import type { WireMessage } from "../http/wireMessage.ts"
import { deviceIdSchema } from "../ids.ts"

const requestId = z.string().max(64).optional()
const seq = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER)
/** Standard base64, padded. */
export const base64Schema = z
  .string()
  .regex(/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/)

/**
 * Frames a client may send on `/v1/ws` (JSON text). `id`, when given, is echoed in the answer.
 * The first frame must be `auth`; see docs/04-relay.md.
 */
export const clientFrameSchema = z.discriminatedUnion("kind", [
  z.strictObject({ kind: z.literal("auth"), token: z.string().max(128), id: requestId }),
  z.strictObject({ kind: z.literal("subscribe"), after: seq, id: requestId }),
  z.strictObject({ kind: z.literal("ack"), upTo: seq, id: requestId }),
  z.strictObject({ kind: z.literal("signal"), to: deviceIdSchema, body: base64Schema, id: requestId }),
  z.strictObject({ kind: z.literal("ping"), id: requestId }),
])
export type ClientFrame = z.infer<typeof clientFrameSchema>

/** Frames the relay sends. */
export type ServerFrame =
  | { kind: "ready"; deviceId: string; id?: string }
  | { kind: "subscribed"; after: number; id?: string }
  | { kind: "mailbox"; messages: WireMessage[] }
  | { kind: "acked"; upTo: number; id?: string }
  | { kind: "signal"; from: string; sentAt: number; body: string }
  | { kind: "signal-sent"; delivered: number; id?: string }
  | { kind: "pong"; id?: string }
  | { kind: "error"; code: ErrorCode; message: string; id?: string }
