/**
 * Live frame protection, in the manner of SFrame (RFC 9605) with MLS-exported keys (RFC 9605 §5.2): every
 * H.264 access unit of a live session is sealed with AES-128-GCM under a key exported from the MLS epoch in
 * which the session started (`MLS-Exporter("vigil live v1", stream id, 28)`). One MLS application message
 * per frame would cost a signature each; this costs one AES-GCM pass.
 *
 * Frame layout (all integers big-endian), see docs/03-wire-format.md:
 *
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +---------------+---------------+---------------+---------------+
 * |  magic 0x4C   |  version = 1  | flags (K=1)   |  reserved = 0 |
 * +---------------+---------------+---------------+---------------+
 * |                       stream id (u32)                         |
 * +---------------------------------------------------------------+
 * |                         epoch (u64)                           |
 * +                                                               +
 * |                                                               |
 * +---------------------------------------------------------------+
 * |                    sequence number (u64)                      |
 * +                                                               +
 * |                                                               |
 * +---------------------------------------------------------------+
 * |           capture timestamp, µs since Unix epoch (u64)        |
 * +                                                               +
 * |                                                               |
 * +---------------------------------------------------------------+
 * |          ciphertext (access unit + 16-byte GCM tag)           |
 * +---------------------------------------------------------------+
 *
 * K marks a keyframe. The 32-byte header is the associated data. Nonce = salt XOR sequence number (as a
 * 96-bit big-endian integer); sequence numbers start at 0 and never repeat within a stream, and every
 * stream has its own key, so a nonce is never reused.
 */
import {
  counterNonce,
  importMediaSecret,
  mediaSecretLength,
  type AeadProvider,
  type MediaKey,
} from "./aead.ts"
import { CodecError, CryptoError } from "./errors.ts"

export const liveExporterLabel = "vigil live v1"
export const liveSecretLength = mediaSecretLength
export const frameHeaderLength = 32
const magic = 0x4c
const version = 1
const flagKeyframe = 0x01
const tagLength = 16

export interface FrameKey extends MediaKey {
  streamId: number
  epoch: bigint
}

export interface FrameMeta {
  seq: bigint
  keyframe: boolean
  /** Capture time in µs since the Unix epoch; lets the viewer measure latency on one clock. */
  timestampUs: bigint
}

export async function importFrameKey(
  streamId: number,
  epoch: bigint,
  secret: Uint8Array,
  aead?: AeadProvider,
): Promise<FrameKey> {
  if (!Number.isInteger(streamId) || streamId < 0 || streamId > 0xffffffff) {
    throw new CodecError("bad stream id")
  }
  return { streamId, epoch, ...(await importMediaSecret(secret, aead)) }
}

/** The exporter context for a stream id: its 4 bytes, big-endian. */
export function liveExporterContext(streamId: number): Uint8Array {
  const ctx = new Uint8Array(4)
  new DataView(ctx.buffer).setUint32(0, streamId)
  return ctx
}

const nonceFor = counterNonce

/** Seals one access unit. The caller gives each frame of a stream the next sequence number. */
export async function protectFrame(fk: FrameKey, meta: FrameMeta, frame: Uint8Array): Promise<Uint8Array> {
  const header = new Uint8Array(frameHeaderLength)
  const view = new DataView(header.buffer)
  header[0] = magic
  header[1] = version
  header[2] = meta.keyframe ? flagKeyframe : 0
  view.setUint32(4, fk.streamId)
  view.setBigUint64(8, fk.epoch)
  view.setBigUint64(16, meta.seq)
  view.setBigUint64(24, meta.timestampUs)
  const ct = await fk.key.seal(nonceFor(fk.salt, meta.seq), header, frame)
  const out = new Uint8Array(frameHeaderLength + ct.length)
  out.set(header)
  out.set(ct, frameHeaderLength)
  return out
}

/** Reads a frame header without decrypting (to route a frame to its stream's key). */
export function readFrameHeader(bytes: Uint8Array): FrameMeta & { streamId: number; epoch: bigint } {
  if (bytes.length < frameHeaderLength + tagLength) throw new CodecError("frame too short")
  if (bytes[0] !== magic || bytes[1] !== version || bytes[3] !== 0 || (bytes[2]! & ~flagKeyframe) !== 0) {
    throw new CodecError("not a live frame")
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, frameHeaderLength)
  return {
    streamId: view.getUint32(4),
    epoch: view.getBigUint64(8),
    seq: view.getBigUint64(16),
    timestampUs: view.getBigUint64(24),
    keyframe: (bytes[2]! & flagKeyframe) !== 0,
  }
}

/**
 * The viewer's side of one stream. Frames may be dropped (the hub skips to the next keyframe when the
 * channel backs up), but never repeated or reordered: a sequence number at or below the last accepted one
 * is a replay and is refused.
 */
export class FrameReceiver {
  private lastSeq = -1n

  constructor(private readonly fk: FrameKey) {}

  async open(bytes: Uint8Array): Promise<FrameMeta & { data: Uint8Array }> {
    const meta = readFrameHeader(bytes)
    if (meta.streamId !== this.fk.streamId || meta.epoch !== this.fk.epoch) {
      throw new CryptoError("FRAME_WRONG_STREAM", "frame belongs to another stream")
    }
    if (meta.seq <= this.lastSeq)
      throw new CryptoError("FRAME_REPLAYED", `frame ${meta.seq} replayed or reordered`)
    let plain: Uint8Array
    try {
      plain = await this.fk.key.open(
        nonceFor(this.fk.salt, meta.seq),
        bytes.subarray(0, frameHeaderLength),
        bytes.subarray(frameHeaderLength),
      )
    } catch (cause) {
      throw new CryptoError("FRAME_TAMPERED", `frame ${meta.seq} failed authentication`, { cause })
    }
    // Only an authentic frame moves the window, so a forged high sequence number cannot block the stream.
    this.lastSeq = meta.seq
    return { ...meta, data: plain }
  }
}
