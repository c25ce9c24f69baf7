/**
 * Shape checks for what the untrusted relay answers: anything malformed becomes SignalError BAD_RESPONSE
 * (status 0), never a bare TypeError deep in the caller.
 */
import { fromBase64 } from "./bytes.ts"
import type { BlobList, IceServerConfig, PairingAnnouncement, SignalMessage } from "./relayTransport.ts"
import { SignalError } from "./signalError.ts"

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value)
}

export function isSeq(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0
}

export function badResponse(what: string): SignalError {
  return new SignalError(0, "BAD_RESPONSE", `relay sent a malformed ${what}`)
}

export function stringField(body: unknown, field: string): string {
  const value = isRecord(body) ? body[field] : undefined
  if (typeof value !== "string") throw badResponse(`"${field}"`)
  return value
}

export function seqField(body: unknown, field: string): number {
  const value = isRecord(body) ? body[field] : undefined
  if (!isSeq(value)) throw badResponse(`"${field}"`)
  return value
}

/** Standard base64 from the relay; `what` names the field in the BAD_RESPONSE. */
export function base64Field(text: string, what: string): Uint8Array {
  try {
    return fromBase64(text)
  } catch {
    throw badResponse(what)
  }
}

/** `{ messages: [{ seq, from, sentAt, body }] }` of a mailbox or room read (or a WebSocket frame). */
export function decodeMessages(body: unknown): SignalMessage[] {
  const list = isRecord(body) ? body.messages : undefined
  if (!Array.isArray(list)) throw badResponse("message list")
  return list.map((m: unknown) => {
    if (!isRecord(m) || !isSeq(m.seq) || typeof m.from !== "string" || !isSeq(m.sentAt)) {
      throw badResponse("message")
    }
    if (typeof m.body !== "string") throw badResponse("message body")
    return { seq: m.seq, from: m.from, sentAt: m.sentAt, body: base64Field(m.body, "message body") }
  })
}

/** The answer of `GET /v1/spaces/:spaceId/blobs`. */
export function decodeBlobList(body: unknown): BlobList {
  const list = isRecord(body) ? body.blobs : undefined
  if (!Array.isArray(list)) throw badResponse("blob list")
  const blobs = list.map((b: unknown) => {
    const pending = isRecord(b) ? b.pendingRecipients : undefined
    if (!Array.isArray(pending) || !pending.every((d) => typeof d === "string")) throw badResponse("blob")
    return {
      blobId: stringField(b, "blobId"),
      size: seqField(b, "size"),
      createdAt: seqField(b, "createdAt"),
      expiresAt: seqField(b, "expiresAt"),
      pendingRecipients: pending as string[],
    }
  })
  const next = isRecord(body) ? body.nextCursor : undefined
  if (next !== null && typeof next !== "string") throw badResponse('"nextCursor"')
  return {
    blobs,
    usedBytes: seqField(body, "usedBytes"),
    quotaBytes: seqField(body, "quotaBytes"),
    nextCursor: next,
  }
}

/** The answer of `GET /v1/pairing/announcements`. */
export function decodeAnnouncements(body: unknown): PairingAnnouncement[] {
  const list = isRecord(body) ? body.announcements : undefined
  if (!Array.isArray(list)) throw badResponse("announcement list")
  return list.map((a: unknown) => ({
    roomId: stringField(a, "roomId"),
    name: base64Field(stringField(a, "name"), "announcement name"),
    deviceId: stringField(a, "deviceId"),
    announcedAt: seqField(a, "announcedAt"),
    expiresAt: seqField(a, "expiresAt"),
  }))
}

/** The answer of `GET /v1/rtc/ice-servers`. */
export function decodeIceServers(body: unknown): IceServerConfig[] {
  const list = isRecord(body) ? body.iceServers : undefined
  if (!Array.isArray(list)) throw badResponse("ICE server list")
  return list.map((server: unknown) => {
    if (!isRecord(server)) throw badResponse("ICE server")
    const urls = server.urls
    const validUrls =
      typeof urls === "string" || (Array.isArray(urls) && urls.every((u) => typeof u === "string"))
    if (!validUrls) throw badResponse("ICE server urls")
    const result: IceServerConfig = { urls: urls as string | string[] }
    if (typeof server.username === "string") result.username = server.username
    if (typeof server.credential === "string") result.credential = server.credential
    return result
  })
}
