/**
 * Typed errors for everything the protocol decodes or decrypts. Each carries a stable `code` that UIs and
 * logs can rely on; messages are for people, codes are for programs. One code names one meaning: a new
 * kind of failure gets a new code (and a sentence in the web's error table), never an old code reused.
 */
export const errorCodes = [
  /** Bytes that do not parse as the wire format says. */
  "CODEC_INVALID",
  /** A clip record's bytes were changed: its header is malformed or its authentication tag fails. */
  "CLIP_TAMPERED",
  /** Clip records out of order, repeated, or bytes after the final record. */
  "CLIP_REORDERED",
  /** A clip record sealed for another clip (its clip id is not the one asked for). */
  "CLIP_WRONG_CLIP",
  /** Authentic-looking media that is not what the hub signed: not in its record list, hash or size. */
  "CLIP_NOT_ANNOUNCED",
  /** A clip that ends before its final record. */
  "CLIP_TRUNCATED",
  /** A live frame whose authentication tag fails. */
  "FRAME_TAMPERED",
  /** A live frame at or below the last accepted sequence number. */
  "FRAME_REPLAYED",
  /** A live frame of another stream or key epoch. */
  "FRAME_WRONG_STREAM",
  /** A push payload that does not decrypt with the space's push secret. */
  "PUSH_TAMPERED",
  /** A message bound to another camera space than the one it came in. */
  "WRONG_SPACE",
  /** A message bound to another epoch than the one it came in (or than ours). */
  "EPOCH_MISMATCH",
  /** A message from an epoch whose keys this member no longer keeps. */
  "EPOCH_TOO_OLD",
  /** A commit this member never saw: it cannot follow the group any more. */
  "COMMIT_MISSED",
  /** A message that claims a later epoch than ours (unauthenticated until we catch up). */
  "EPOCH_AHEAD",
  /** A signed request issued too long ago or in the future. */
  "REQUEST_STALE",
  /** A signed request issued no later than one already accepted. */
  "REQUEST_REPLAYED",
  "SIGNATURE_INVALID",
  "UNTRUSTED_CREDENTIAL",
  "UNEXPECTED_MESSAGE",
  "PAIRING_INVALID",
  /** The pairing code (or the relay's pairing room) ran out of time before it was used. */
  "PAIRING_EXPIRED",
  /** A pairing request the hub did not answer in time. */
  "PAIRING_UNANSWERED",
  /** Pairing codes that were not confirmed in time. */
  "PAIRING_UNCONFIRMED",
  "NOT_A_MEMBER",
  /** The phone's role does not allow what it asked (roles.ts): a member asked for an owner's change. */
  "NOT_AN_OWNER",
  "ALREADY_PAIRED",
  /** Relay failures (`SignalError`; its `relayCode` keeps the relay's own code). No answer at all. */
  "RELAY_UNREACHABLE",
  /** The caller cancelled the call (e.g. a long poll when the page hides). */
  "RELAY_ABORTED",
  /** The relay answered something that is not its API's shape. */
  "RELAY_BAD_RESPONSE",
  /** The relay refused this device's token (401) or its right to the thing asked (403). */
  "RELAY_UNAUTHORIZED",
  /** The relay has no such thing (relay code NOT_FOUND): deleted, expired or never there. */
  "NOT_FOUND",
  /** A device's mailbox at the relay is full (relay code MAILBOX_FULL). */
  "MAILBOX_FULL",
  /** The space's storage quota at the relay is used up (relay code QUOTA_EXCEEDED). */
  "QUOTA_EXCEEDED",
  /** The relay asks to slow down (429 other than a full mailbox). */
  "RELAY_BUSY",
  /** The relay refused the request as invalid (other 4xx). */
  "RELAY_REFUSED",
  /** The relay failed or is down (5xx). */
  "RELAY_UNAVAILABLE",
  /** A bug: a state this code should never reach. */
  "INTERNAL",
] as const
export type ErrorCode = (typeof errorCodes)[number]

/** An error with a stable `code` for programs; the message is for people. The base of every Vigil error. */
export class CodedError<C extends string = string> extends Error {
  readonly code: C
  constructor(code: C, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = new.target.name
    this.code = code
  }
}

/** The protocol's errors (and the relay's, `SignalError`), with one of `errorCodes`. */
export class VigilError extends CodedError<ErrorCode> {}

/** Bytes that do not parse as the wire format says they must. */
export class CodecError extends VigilError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("CODEC_INVALID", message, options)
  }
}

/** Authentication failed: a tag, signature or binding did not verify. */
export class CryptoError extends VigilError {}

/** A well-formed message that is not acceptable in the current state. */
export class ProtocolStateError extends VigilError {}

/**
 * The relay's v1 error codes (signal/src/errors.ts, never renamed) and the client's own (NETWORK, ABORTED,
 * BAD_RESPONSE) as ours. The codes programs switch on (NOT_FOUND, MAILBOX_FULL, QUOTA_EXCEEDED) keep their
 * name; the rest fold into what they mean for a client.
 */
const relayCodes: Readonly<Record<string, ErrorCode>> = {
  NETWORK: "RELAY_UNREACHABLE",
  ABORTED: "RELAY_ABORTED",
  BAD_RESPONSE: "RELAY_BAD_RESPONSE",
  UNAUTHENTICATED: "RELAY_UNAUTHORIZED",
  FORBIDDEN: "RELAY_UNAUTHORIZED",
  NOT_FOUND: "NOT_FOUND",
  ROOM_EXPIRED: "PAIRING_EXPIRED",
  MAILBOX_FULL: "MAILBOX_FULL",
  QUOTA_EXCEEDED: "QUOTA_EXCEEDED",
  ROOM_FULL: "RELAY_BUSY",
  ANNOUNCEMENTS_FULL: "RELAY_BUSY",
  RATE_LIMITED: "RELAY_BUSY",
  VALIDATION: "RELAY_REFUSED",
  HASH_MISMATCH: "RELAY_REFUSED",
  REQUEST_TIMEOUT: "RELAY_REFUSED",
  PRECONDITION_FAILED: "RELAY_REFUSED",
  TOO_LARGE: "RELAY_REFUSED",
  UNSUPPORTED_MEDIA_TYPE: "RELAY_REFUSED",
  RANGE_NOT_SATISFIABLE: "RELAY_REFUSED",
  HEADERS_TOO_LARGE: "RELAY_REFUSED",
  INTERNAL: "RELAY_UNAVAILABLE",
  UNAVAILABLE: "RELAY_UNAVAILABLE",
}

/**
 * Our code for a failed relay call: `status` is the HTTP status (0 when no answer, or over the WebSocket),
 * `relayCode` the relay's error code or the client's own. A code the relay does not define (HTTP_ERROR: a
 * proxy's page, say) is judged by its status; only the relay itself says NOT_FOUND.
 */
export function relayErrorCode(status: number, relayCode: string): ErrorCode {
  const known = Object.hasOwn(relayCodes, relayCode) ? relayCodes[relayCode] : undefined
  if (known) return known
  if (status === 401 || status === 403) return "RELAY_UNAUTHORIZED"
  if (status === 429) return "RELAY_BUSY"
  if (status >= 500) return "RELAY_UNAVAILABLE"
  if (status >= 400) return "RELAY_REFUSED"
  return "RELAY_BAD_RESPONSE"
}
