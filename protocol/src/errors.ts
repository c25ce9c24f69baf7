/**
 * Typed errors for everything the protocol decodes or decrypts. Each carries a stable `code` that UIs and
 * logs can rely on; messages are for people, codes are for programs.
 */
export const errorCodes = [
  "CODEC_INVALID",
  "CLIP_TAMPERED",
  "CLIP_TRUNCATED",
  "EPOCH_MISMATCH",
  "COMMIT_MISSED",
  "EPOCH_AHEAD",
  "SIGNATURE_INVALID",
  "UNTRUSTED_CREDENTIAL",
  "UNEXPECTED_MESSAGE",
  "PAIRING_INVALID",
  "PAIRING_EXPIRED",
  "NOT_A_MEMBER",
  "ALREADY_PAIRED",
  "INTERNAL",
] as const
export type ErrorCode = (typeof errorCodes)[number]

export class VigilError extends Error {
  readonly code: ErrorCode
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = new.target.name
    this.code = code
  }
}

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
