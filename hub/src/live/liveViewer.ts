import { randomBytes } from "node:crypto"
import { RTCPeerConnection, type RTCDataChannel } from "werift"
import { protectFrame, sliceFrame, type FrameKey } from "@vigil/protocol"
import type { Logger } from "../capture/types.ts"
import { FrameGate, type FrameGateOptions } from "./frameGate.ts"
import type { CachedUnit } from "./gopCache.ts"
import { liveRtcConfig, type IceServer } from "./rtcConfig.ts"

export type ViewerState = "negotiating" | "connecting" | "open" | "closed"

export interface ViewerStats {
  sessionId: string
  deviceId: string
  cameraId: string
  state: ViewerState
  framesSent: number
  framesDropped: number
  bytesSent: number
  /** The channel's backlog right now. */
  bufferedAmount: number
}

/** How long a viewer may take from answer to an open channel before it is given up. */
const connectTimeoutMs = 15_000
/**
 * werift declares the connection failed when the phone's consent checks stop (30 s): the phone may still be
 * changing networks and restart ICE on this peer connection, so a failed viewer waits this long for a restart.
 */
const restartGraceMs = 30_000

/** The `a=ice-ufrag` of an SDP: a new one in an offer for an existing session means an ICE restart. */
export function iceUfrag(sdp: string): string | undefined {
  return /^a=ice-ufrag:(\S+)\r?$/m.exec(sdp)?.[1]
}
/** Same data channel on both sides, no DCEP round trip: negotiated, id 0. */
export const liveChannelInit = { negotiated: true, id: 0, ordered: true } as const

/**
 * One phone watching one camera: a werift peer connection with one data channel, the stream's frame key,
 * its sequence numbers, and a frame gate that drops to the next keyframe when the channel backs up.
 */
export class LiveViewer {
  readonly streamId = randomBytes(4).readUInt32BE(0)
  readonly gate: FrameGate
  private readonly pc: RTCPeerConnection
  private readonly dc: RTCDataChannel
  private frameKey: FrameKey | undefined
  private nextSeq = 0n
  private sending: Promise<void> = Promise.resolve()
  private connectTimer: NodeJS.Timeout | undefined
  private failedTimer: NodeJS.Timeout | undefined
  /** The ICE username fragment of the phone's latest offer. */
  remoteUfrag: string | undefined
  restarts = 0
  state: ViewerState = "negotiating"
  framesSent = 0
  bytesSent = 0

  constructor(
    readonly sessionId: string,
    readonly deviceId: string,
    readonly cameraId: string,
    private readonly opts: {
      iceServers: readonly IceServer[]
      additionalHostAddresses?: string[]
      logger: Logger
      gate?: FrameGateOptions
      /** The cached GOP to start from, read when the channel opens. */
      cached: () => { units: readonly CachedUnit[]; complete: boolean }
      onClosed: (viewer: LiveViewer) => void
    },
  ) {
    this.gate = new FrameGate(opts.gate)
    this.pc = new RTCPeerConnection(
      liveRtcConfig({ iceServers: opts.iceServers, additionalHostAddresses: opts.additionalHostAddresses }),
    )
    this.dc = this.pc.createDataChannel("live", liveChannelInit)
    this.dc.stateChanged.subscribe((s) => {
      if (s === "open") this.onOpen()
      else if (s === "closed") this.close("the phone closed the channel")
    })
    this.pc.connectionStateChange.subscribe((s) => {
      if (s === "closed") this.close("connection closed")
      else if (s === "failed") this.onFailed()
      else if (s === "connected" && this.failedTimer) {
        clearTimeout(this.failedTimer)
        this.failedTimer = undefined
      }
    })
  }

  /** Lost the phone: keep the peer connection a while for an ICE restart (`restart`), then give up. */
  private onFailed() {
    if (this.state === "closed" || this.failedTimer) return
    this.opts.logger.info(
      { sessionId: this.sessionId },
      "live viewer unreachable; waiting for an ICE restart",
    )
    this.failedTimer = setTimeout(() => this.close("connection failed, no ICE restart"), restartGraceMs)
    this.failedTimer.unref()
  }

  /** Applies the phone's offer and returns the complete answer (all candidates gathered, no trickle). */
  async answer(offerSdp: string): Promise<string> {
    this.remoteUfrag = iceUfrag(offerSdp)
    await this.pc.setRemoteDescription({ type: "offer", sdp: offerSdp })
    await this.pc.setLocalDescription(await this.pc.createAnswer())
    if (this.pc.iceGatheringState !== "complete") {
      await new Promise<void>((resolve) => {
        const sub = this.pc.iceGatheringStateChange.subscribe((s) => {
          if (s === "complete") {
            sub.unSubscribe()
            resolve()
          }
        })
      })
    }
    const sdp = this.pc.localDescription?.sdp
    if (!sdp) throw new Error("werift produced no answer")
    if (this.state === "negotiating") {
      this.state = "connecting"
      this.connectTimer = setTimeout(() => this.close("no connection within 15 s"), connectTimeoutMs)
      this.connectTimer.unref()
    }
    return sdp
  }

  /**
   * The phone's ICE restart (it changed networks, or its path broke): the same peer connection, DTLS
   * association, data channel, frame key and sequence numbers; new ICE credentials and candidates. Returns the
   * answer. Frames queued while the path was down go out once it is back (the gate dropped to the next
   * keyframe if the backlog grew).
   */
  async restart(offerSdp: string): Promise<string> {
    if (this.state === "closed") throw new Error("the viewer is closed")
    this.restarts++
    const sdp = await this.answer(offerSdp)
    if (this.failedTimer) {
      clearTimeout(this.failedTimer)
      this.failedTimer = undefined
    }
    return sdp
  }

  /** The key exported for this stream; frames are sent only once it is set. */
  setFrameKey(key: FrameKey): void {
    this.frameKey = key
    if (this.dc.readyState === "open" && this.state !== "open") this.onOpen()
  }

  private onOpen() {
    if (!this.frameKey || this.state === "open" || this.state === "closed") return
    this.state = "open"
    if (this.connectTimer) clearTimeout(this.connectTimer)
    const { units, complete } = this.opts.cached()
    if (units.length > 0) {
      // The first picture at once: the cached GOP, keyframe first, queued in one go.
      for (const unit of complete ? units : units.slice(0, 1)) this.enqueue(unit)
      if (complete) this.gate.startCatchUp()
      else this.gate.waitForKeyframe()
    }
    this.opts.logger.info(
      { sessionId: this.sessionId, cached: units.length, complete },
      "live viewer connected",
    )
  }

  /** A new access unit from the camera: sent, or dropped by the gate when the channel is backed up. */
  push(unit: CachedUnit): void {
    if (this.state !== "open") return
    if (!this.gate.admit(unit.keyframe, this.dc.bufferedAmount)) return
    this.enqueue(unit)
  }

  private enqueue(unit: CachedUnit) {
    const key = this.frameKey!
    const seq = this.nextSeq++
    // Chained so frames leave in sequence order even if a seal ever yields.
    this.sending = this.sending.then(async () => {
      if (this.state !== "open") return
      const frame = await protectFrame(
        key,
        { seq, keyframe: unit.keyframe, timestampUs: unit.timestampUs },
        unit.data,
      )
      for (const slice of sliceFrame(frame))
        this.dc.send(Buffer.from(slice.buffer, slice.byteOffset, slice.length))
      this.framesSent++
      this.bytesSent += frame.length
    })
    this.sending.catch((err: unknown) => this.close(`send failed: ${(err as Error).message}`))
  }

  stats(): ViewerStats {
    return {
      sessionId: this.sessionId,
      deviceId: this.deviceId,
      cameraId: this.cameraId,
      state: this.state,
      framesSent: this.framesSent,
      framesDropped: this.gate.dropped,
      bytesSent: this.bytesSent,
      bufferedAmount: this.dc.bufferedAmount,
    }
  }

  close(reason = "closed"): void {
    if (this.state === "closed") return
    this.state = "closed"
    if (this.connectTimer) clearTimeout(this.connectTimer)
    if (this.failedTimer) clearTimeout(this.failedTimer)
    this.opts.logger.info({ ...this.stats(), reason }, "live viewer closed")
    this.pc
      .close()
      .catch((err: unknown) =>
        this.opts.logger.debug({ err: (err as Error).message }, "closing the peer connection failed"),
      )
    this.opts.onClosed(this)
  }
}
