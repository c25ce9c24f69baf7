/**
 * Shapes shared by capture, detect and record. Kept free of node:* so the pure processors that use them
 * stay testable with bytes in, bytes out.
 */

/** Structured logger; a pino logger satisfies it. Library code logs through this, never `console`. */
export interface Logger {
  info(obj: object, msg?: string): void
  warn(obj: object, msg?: string): void
  error(obj: object, msg?: string): void
  debug(obj: object, msg?: string): void
}

/** A logger that drops everything, for tests and callers that do not care. */
export const silentLogger: Logger = {
  info: () => {},
  warn: () => {},
  error: () => {},
  debug: () => {},
}

/** One H.264 access unit (one coded picture) in Annex-B form. */
export interface AccessUnit {
  /** Annex-B bytes, start codes included, beginning with the access unit delimiter. */
  data: Uint8Array
  /** True when the access unit holds an IDR slice (NAL type 5), so decoding can start here. */
  keyframe: boolean
  /** Position in the stream, counting from 0 for the first whole access unit. */
  index: number
}

/** An access unit stamped with the wall-clock time (`Date.now()`, ms) it reached the hub. */
export type TimedAccessUnit = AccessUnit & { receivedAt: number }

/** A small 8-bit grayscale frame (one byte per pixel, row-major) for motion detection. */
export interface GrayFrame {
  width: number
  height: number
  data: Uint8Array
  /** Wall-clock time (ms) the frame reached the hub. */
  at: number
}

/** A motion frame from a camera process; `index` counts frames from 0, so `index / fps` is stream time. */
export type MotionFrame = GrayFrame & { index: number }
