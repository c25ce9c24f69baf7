import { errorSentence } from "../../ui/errorText.ts"
import { avcCodecFromAnnexB } from "./avcCodec.ts"

export interface DecodedFrameInfo {
  timestampUs: number
  decodedAtUs: number
}

/**
 * H.264 access units (Annex-B, parameter sets in every keyframe) → WebCodecs VideoDecoder → a canvas.
 * `optimizeForLatency` asks the decoder to output each frame as soon as it is decoded, without reordering
 * delay (the camera sends no B-frames). Decoding starts at a keyframe; after an error the decoder is rebuilt
 * at the next keyframe.
 */
export class LiveDecoder {
  private decoder: VideoDecoder | undefined
  private codec: string | undefined
  private readonly ctx: CanvasRenderingContext2D

  constructor(
    private readonly canvas: HTMLCanvasElement,
    private readonly onFrame: (info: DecodedFrameInfo) => void,
    private readonly onError: (message: string) => void,
  ) {
    const ctx = canvas.getContext("2d")
    if (!ctx) throw new Error("no 2D canvas")
    this.ctx = ctx
  }

  static supported(): boolean {
    return typeof VideoDecoder === "function"
  }

  decode(au: Uint8Array, keyframe: boolean, timestampUs: number): void {
    if (!this.decoder || this.decoder.state === "closed") {
      if (!keyframe) return
      this.configure(au)
      if (!this.decoder) return
    }
    this.decoder.decode(
      new EncodedVideoChunk({ type: keyframe ? "key" : "delta", timestamp: timestampUs, data: au }),
    )
  }

  private configure(keyframe: Uint8Array) {
    const codec = avcCodecFromAnnexB(keyframe) ?? this.codec ?? "avc1.42E01F"
    this.codec = codec
    const decoder = new VideoDecoder({
      output: (frame) => {
        const decodedAtUs = (performance.timeOrigin + performance.now()) * 1000
        if (this.canvas.width !== frame.displayWidth || this.canvas.height !== frame.displayHeight) {
          this.canvas.width = frame.displayWidth
          this.canvas.height = frame.displayHeight
        }
        this.ctx.drawImage(frame, 0, 0)
        const timestampUs = frame.timestamp
        frame.close()
        this.onFrame({ timestampUs, decodedAtUs })
      },
      error: (e) => {
        this.onError(`The video decoder failed. ${errorSentence(e)}`)
        this.decoder = undefined
      },
    })
    decoder.configure({ codec, optimizeForLatency: true, hardwareAcceleration: "no-preference" })
    this.decoder = decoder
  }

  close(): void {
    if (this.decoder && this.decoder.state !== "closed") this.decoder.close()
    this.decoder = undefined
  }
}
