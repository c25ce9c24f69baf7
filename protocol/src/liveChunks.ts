/**
 * Protected live frames (frameFraming.ts) on the data channel. A keyframe at 720p can exceed what one
 * data-channel message may carry (werift refuses more than 64 KiB), so a frame is split into messages:
 *
 *  0                   1
 *  0 1 2 3 4 5 6 7 8 ...
 * +---------------+-------------------------------+
 * | flags: S=0x01 |  a slice of the protected     |
 * |        E=0x02 |  frame (≤ 65,535 bytes)       |
 * +---------------+-------------------------------+
 *
 * S marks the first slice of a frame, E the last (a small frame is one message with S|E). The channel is
 * reliable and ordered, and the hub drops whole frames only, never slices, so reassembly is concatenation.
 * The slices are not authenticated themselves: the reassembled frame is, by its AES-GCM tag.
 */
import { concatBytes } from "./bytes.ts"
import { CodecError } from "./errors.ts"

export const liveMessageMaxBytes = 65_536
const sliceMax = liveMessageMaxBytes - 1
const flagStart = 0x01
const flagEnd = 0x02
/** A frame larger than this is refused by the reassembler (a 4K keyframe is well under it). */
export const liveFrameMaxBytes = 8 * 1024 * 1024

/** Splits one protected frame into data-channel messages of at most 64 KiB each. */
export function sliceFrame(frame: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = []
  for (let pos = 0; pos < frame.length || out.length === 0; pos += sliceMax) {
    const part = frame.subarray(pos, pos + sliceMax)
    const msg = new Uint8Array(1 + part.length)
    msg[0] = (pos === 0 ? flagStart : 0) | (pos + sliceMax >= frame.length ? flagEnd : 0)
    msg.set(part, 1)
    out.push(msg)
  }
  return out
}

/** Joins slices back into frames. `push` returns a whole frame when its last slice arrives. */
export class FrameReassembler {
  private parts: Uint8Array[] = []
  private size = 0

  push(message: Uint8Array): Uint8Array | undefined {
    if (message.length < 1 || (message[0]! & ~(flagStart | flagEnd)) !== 0) {
      throw new CodecError("not a live frame slice")
    }
    const flags = message[0]!
    if (flags & flagStart) {
      this.parts = []
      this.size = 0
    } else if (this.parts.length === 0) {
      throw new CodecError("live frame slice without its start")
    }
    const body = message.subarray(1)
    this.size += body.length
    if (this.size > liveFrameMaxBytes) {
      this.parts = []
      this.size = 0
      throw new CodecError("live frame too large")
    }
    this.parts.push(body)
    if (!(flags & flagEnd)) return undefined
    const parts = this.parts
    this.parts = []
    this.size = 0
    if (parts.length === 1) return parts[0]!.slice()
    return concatBytes(...parts)
  }
}
