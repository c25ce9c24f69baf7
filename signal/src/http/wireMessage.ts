import type { StoredMessage } from "../store/metaStore.ts"

/** A message as the v1 API sends it: body in standard base64. */
export interface WireMessage {
  seq: number
  from: string
  sentAt: number
  body: string
}

export function encodeWireMessage(message: StoredMessage): WireMessage {
  return {
    seq: message.seq,
    from: message.from,
    sentAt: message.sentAt,
    body: Buffer.from(message.body.buffer, message.body.byteOffset, message.body.byteLength).toString(
      "base64",
    ),
  }
}
