/**
 * signal's request rules, for MemoryRelay: its limits (signal/src/config.ts), its error codes and statuses
 * (signal/src/errors.ts), and the checks it makes of ids, poll queries and ranges before it touches its
 * stores.
 */
import { rangeHeader } from "./relayHttp.ts"
import type { BlobRange } from "./relayTransport.ts"
import { SignalError } from "./signalError.ts"

const day = 24 * 3600 * 1000

/** signal's limits (signal/src/config.ts), under the same names. */
export interface RelayLimits {
  maxBlobBytes: number
  maxMessageBytes: number
  maxMailboxMessages: number
  maxRoomMessageBytes: number
  maxRoomMessages: number
  roomTtlMs: number
  roomTombstoneMs: number
  retentionMs: number
  spaceQuotaBytes: number
  maxSpacesPerHub: number
  maxMembersPerSpace: number
  joinConsentTtlMs: number
  announcementTtlMs: number
  maxAnnouncementsPerAddress: number
  maxAnnouncementNameBytes: number
  maxPushPayloadBytes: number
}

/** signal's defaults. */
export const defaultRelayLimits: RelayLimits = {
  maxBlobBytes: 256 * 1024 * 1024,
  maxMessageBytes: 256 * 1024,
  maxMailboxMessages: 10_000,
  maxRoomMessageBytes: 16 * 1024,
  maxRoomMessages: 32,
  roomTtlMs: 15 * 60 * 1000,
  roomTombstoneMs: day,
  retentionMs: 30 * day,
  spaceQuotaBytes: 10 * 1024 * 1024 * 1024,
  maxSpacesPerHub: 4,
  maxMembersPerSpace: 32,
  joinConsentTtlMs: 60 * 60 * 1000,
  announcementTtlMs: 10 * 60 * 1000,
  maxAnnouncementsPerAddress: 32,
  maxAnnouncementNameBytes: 256,
  maxPushPayloadBytes: 3072,
}

/** Each error code signal answers with, and its HTTP status (signal/src/errors.ts `errorStatus`). */
export const relayErrorStatus = {
  VALIDATION: 400,
  HASH_MISMATCH: 400,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  ROOM_EXPIRED: 410,
  TOO_LARGE: 413,
  QUOTA_EXCEEDED: 413,
  RANGE_NOT_SATISFIABLE: 416,
  ROOM_FULL: 429,
  MAILBOX_FULL: 429,
  ANNOUNCEMENTS_FULL: 429,
} as const

export type RelayErrorCode = keyof typeof relayErrorStatus

/** Throws the SignalError SignalClient makes of signal's answer with this code. */
export function fail(code: RelayErrorCode, message: string): never {
  throw new SignalError(relayErrorStatus[code], code, message)
}

const idPatterns = { hex32: /^[0-9a-f]{32}$/, hex64: /^[0-9a-f]{64}$/ } as const

/**
 * Device and space ids are 32 lowercase hex characters, blob and room ids 64. In a path, an empty id
 * matches no route (404); in a JSON body it is invalid like any other malformed id.
 */
export function requireId(
  value: string,
  kind: keyof typeof idPatterns,
  emptyCode: "NOT_FOUND" | "VALIDATION" = "NOT_FOUND",
): void {
  if (value === "") fail(emptyCode, "no such route")
  if (!idPatterns[kind].test(value))
    fail("VALIDATION", `expected ${kind === "hex32" ? 32 : 64} lowercase hex characters`)
}

/** `?after=<seq>&wait=<ms>` as signal's pollQuerySchema takes them (wait ≤ 25000). */
export function requireQuery(after: number, waitMs: number | undefined): void {
  if (!/^\d{1,15}$/.test(String(after))) fail("VALIDATION", "invalid after")
  if (waitMs !== undefined && !(/^\d{1,5}$/.test(String(waitMs)) && waitMs <= 25_000)) {
    fail("VALIDATION", "invalid wait")
  }
}

export type RangeRequest =
  { kind: "full" } | { kind: "partial"; start: number; end: number } | { kind: "unsatisfiable" }

/** The Range header SignalClient sends for `range`, read as signal reads it (signal/src/http/range.ts). */
export function parseRange(range: BlobRange, size: number): RangeRequest {
  const match = /^bytes=(\d*)-(\d*)$/.exec(rangeHeader(range))
  if (match === null) return { kind: "full" }
  const first = match[1] ?? ""
  const last = match[2] ?? ""
  if (first === "" && last === "") return { kind: "full" }
  if (first === "") {
    const suffix = Number(last)
    if (suffix === 0 || size === 0) return { kind: "unsatisfiable" }
    return { kind: "partial", start: Math.max(0, size - suffix), end: size - 1 }
  }
  const start = Number(first)
  const end = last === "" ? size - 1 : Number(last)
  if (end < start || start >= size) return { kind: "unsatisfiable" }
  return { kind: "partial", start, end: Math.min(end, size - 1) }
}
