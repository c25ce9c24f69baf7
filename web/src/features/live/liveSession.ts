import { FrameReassembler, type FrameReceiver } from "@vigil/protocol"
import { errorSentence } from "../../ui/errorText.ts"
import { LiveDecoder } from "./liveDecoder.ts"
import { nowUs, type LiveStats } from "./liveStats.ts"
import type { LivePath } from "./liveView.ts"

/** A live channel that brings no frame for this long is dead (the hub went away without closing). */
export const stallTimeoutMs = 4000
/** Waiting for relay candidates from the configured TURN server when gathering an offer. */
const relayGatherMs = 3000
/** Received but undecoded frames beyond this (~0.5 s at 30 fps): skip to the next keyframe. */
const maxBacklogFrames = 15

export interface SessionHandlers {
  onLive: () => void
  onFirstFrame: () => void
  onDead: (why: string) => void
  /** The channel was open but the path broke: repair it with an ICE restart. */
  onPathLost: (why: string) => void
  /** Video flows again after the path was lost. */
  onRecovered: () => void
  /** A frame was decoded onto the canvas. */
  onFrame?: () => void
}

/**
 * One attempt at live view of one camera (docs/05-livestream.md): a peer connection, its data channel, the
 * frames it brings, decrypted in order and decoded onto the canvas.
 */
export class Session {
  private pc: RTCPeerConnection | undefined
  private decoder: LiveDecoder | undefined
  private timer: ReturnType<typeof setTimeout> | undefined
  private openedAtUs = Number.POSITIVE_INFINITY
  private firstFrame = false
  private closed = false
  readonly phases: LiveStats["phases"][number] = {}
  private decrypting: Promise<void> = Promise.resolve()
  private handlers: SessionHandlers | undefined
  /** The data channel opened once: from then on a broken path is repaired by ICE restarts. */
  opened = false
  restarting = false
  restartStartedAt = 0
  /** When the path to the hub was lost (reset once video flows again). */
  pathLostAt: number | undefined
  private iceServers: RTCIceServer[] = []

  constructor(
    readonly id: string,
    private readonly startedAt: number,
    private readonly stats: LiveStats,
  ) {}

  async createOffer(
    iceServers: RTCIceServer[],
    canvas: HTMLCanvasElement,
    handlers: SessionHandlers,
  ): Promise<string> {
    this.handlers = handlers
    this.iceServers = iceServers
    // Only the servers signal handed out (none by default: no public STUN). "all": host and server-reflexive
    // pairs win by ICE priority; the TURN relay is the fallback when the NATs allow nothing direct.
    const pc = new RTCPeerConnection({ iceServers, iceTransportPolicy: "all" })
    this.pc = pc
    const dc = pc.createDataChannel("live", { negotiated: true, id: 0, ordered: true })
    dc.binaryType = "arraybuffer"
    const reassembler = new FrameReassembler()
    this.decoder = new LiveDecoder(
      canvas,
      (info) => this.onDecoded(info.timestampUs, info.decodedAtUs),
      (message) => this.dead(message),
    )
    dc.onopen = () => {
      this.opened = true
      this.openedAtUs = nowUs()
      this.mark("open")
      this.armTimeout(stallTimeoutMs, "no video from the hub")
      handlers.onLive()
    }
    dc.onclose = () => this.dead("the hub closed the connection")
    dc.onmessage = (e: MessageEvent<ArrayBuffer>) => {
      let frame: Uint8Array | undefined
      try {
        frame = reassembler.push(new Uint8Array(e.data))
      } catch (err) {
        this.dead(errorSentence(err))
        return
      }
      if (frame) this.onFrame(frame)
    }
    pc.onconnectionstatechange = () => {
      if (pc.connectionState === "closed") this.dead("connection closed")
      else if (pc.connectionState === "failed") this.pathLost("connection failed")
    }
    pc.oniceconnectionstatechange = () => {
      if (pc.iceConnectionState === "disconnected" || pc.iceConnectionState === "failed") {
        this.pathLost(`path to the hub ${pc.iceConnectionState}`)
      }
    }
    await pc.setLocalDescription(await pc.createOffer())
    await this.gathered(pc)
    const sdp = pc.localDescription?.sdp
    if (!sdp) throw new Error("no offer")
    return sdp
  }

  private receiver: FrameReceiver | undefined

  async accept(answerSdp: string, receiver: FrameReceiver): Promise<void> {
    this.receiver = receiver
    await this.pc!.setRemoteDescription({ type: "answer", sdp: answerSdp })
  }

  /** An offer with new ICE credentials for the same peer connection. */
  async restartOffer(): Promise<string> {
    const pc = this.pc
    if (!pc || this.closed) throw new Error("no connection to restart")
    this.restarting = true
    this.restartStartedAt = performance.now()
    await pc.setLocalDescription(await pc.createOffer({ iceRestart: true }))
    await this.gathered(pc)
    const sdp = pc.localDescription?.sdp
    if (!sdp) throw new Error("no offer")
    return sdp
  }

  async acceptRestart(answerSdp: string): Promise<void> {
    const pc = this.pc
    if (!pc || this.closed || pc.signalingState !== "have-local-offer") return // a stale answer
    await pc.setRemoteDescription({ type: "answer", sdp: answerSdp })
  }

  /** Direct or relayed, from the selected candidate pair; undefined before one is selected. */
  async path(): Promise<{ path: LivePath; pair: string } | undefined> {
    const pc = this.pc
    if (!pc || this.closed) return undefined
    const report = await pc.getStats()
    let pairId: string | undefined
    report.forEach((s: { type: string; selectedCandidatePairId?: string }) => {
      if (s.type === "transport" && s.selectedCandidatePairId) pairId = s.selectedCandidatePairId
    })
    const pair = pairId
      ? (report.get(pairId) as { localCandidateId: string; remoteCandidateId: string } | undefined)
      : undefined
    if (!pair) return undefined
    const type = (id: string) => (report.get(id) as { candidateType?: string } | undefined)?.candidateType
    const [local, remote] = [type(pair.localCandidateId), type(pair.remoteCandidateId)]
    return {
      path: local === "relay" || remote === "relay" ? "relayed" : "direct",
      pair: `${local ?? "?"}→${remote ?? "?"}`,
    }
  }

  private pathLost(why: string) {
    if (this.closed) return
    if (this.opened) this.handlers?.onPathLost(why)
    else this.dead(why)
  }

  /** Frames received but not yet decoded, and when each arrived (by header timestamp). */
  private backlog = 0
  private readonly arrivals = new Map<number, number>()
  private skipToKeyframe = false

  private onFrame(bytes: Uint8Array) {
    const receiver = this.receiver
    if (!receiver) return
    const arrivedUs = nowUs()
    this.backlog++
    // Decrypt in arrival order: the receiver refuses a sequence number below the last one it accepted.
    this.decrypting = this.decrypting.then(async () => {
      if (this.closed) return
      try {
        const frame = await receiver.open(bytes)
        // A phone that cannot decode as fast as frames come (a slow phone, a busy tab) skips to the next
        // keyframe instead of falling further behind; the hub does the same when the network backs up.
        // Not while the cached GOP is decoded: that burst is expected, and skipping would freeze the picture.
        const catchingUp = this.phases.catchUpDone === undefined
        if (!catchingUp && this.backlog > maxBacklogFrames && !frame.keyframe) this.skipToKeyframe = true
        if (frame.keyframe) this.skipToKeyframe = false
        if (this.skipToKeyframe) {
          this.backlog--
          this.stats.framesSkipped++
          return
        }
        this.arrivals.set(Number(frame.timestampUs), arrivedUs)
        this.decoder?.decode(frame.data, frame.keyframe, Number(frame.timestampUs))
      } catch (err) {
        this.backlog--
        this.dead(`A frame was refused. ${errorSentence(err)}`)
      }
    })
  }

  private onDecoded(timestampUs: number, decodedAtUs: number) {
    if (this.closed) return
    this.backlog = Math.max(0, this.backlog - 1)
    const arrivedUs = this.arrivals.get(timestampUs) ?? decodedAtUs
    this.arrivals.delete(timestampUs)
    this.stats.framesDecoded++
    this.handlers?.onFrame?.()
    if (!this.firstFrame) {
      this.firstFrame = true
      this.stats.startupMs.push(performance.now() - this.startedAt)
      this.mark("firstFrame")
      this.handlers?.onFirstFrame()
    }
    if (this.restarting || this.pathLostAt !== undefined) {
      this.restarting = false
      this.pathLostAt = undefined
      this.handlers?.onRecovered()
    }
    this.armTimeout(stallTimeoutMs, "no video from the hub")
    if (timestampUs < this.openedAtUs) {
      this.stats.catchUpFrames++
      return
    }
    if (this.phases.catchUpDone === undefined) this.mark("catchUpDone")
    this.stats.lastLatencyMs = (decodedAtUs - timestampUs) / 1000
    if (this.stats.samples.length >= 20_000) this.stats.samples.shift()
    this.stats.samples.push([timestampUs, decodedAtUs, arrivedUs])
  }

  mark(phase: keyof LiveStats["phases"][number]) {
    this.phases[phase] ??= Math.round(performance.now() - this.startedAt)
  }

  /** `restart`: when it fires, try an ICE restart (once the channel has opened) instead of giving up. */
  armTimeout(ms: number, why: string, restart = this.opened) {
    if (this.closed) return
    if (this.timer) clearTimeout(this.timer)
    this.timer = setTimeout(() => {
      if (restart) {
        this.restarting = false
        this.pathLost(why)
      } else this.dead(why)
    }, ms)
  }

  private dead(why: string) {
    if (this.closed) return
    this.handlers?.onDead(why)
  }

  private gathered(pc: RTCPeerConnection): Promise<void> {
    if (pc.iceGatheringState === "complete") return Promise.resolve()
    // With a TURN server, wait for a relay candidate: behind a symmetric NAT it is the only way in, and the
    // hub must know it to let the relay forward to this phone. With a STUN server, wait for the
    // server-reflexive one too: it is what hole punching needs, and an offer sent without it (it may come
    // after the relay candidate) would leave the phone relayed for the whole session.
    const urls = this.iceServers.flatMap((s) => (Array.isArray(s.urls) ? s.urls : [s.urls]))
    const wanted = new Set<RTCIceCandidateType>([
      ...(urls.some((u) => /^turns?:/i.test(u)) ? (["relay"] as const) : []),
      ...(urls.some((u) => /^(stun|turn):/i.test(u)) ? (["srflx"] as const) : []),
    ])
    const wantRelay = wanted.has("relay")
    return new Promise((resolve) => {
      // Host candidates come within milliseconds; Chromium's "complete" can take much longer (mDNS names).
      // Wait for it at most 1 s, and at most 40 ms after the first candidate: the hub also learns this
      // phone's address from its connectivity checks (a peer-reflexive candidate).
      let timer = setTimeout(resolve, wantRelay ? relayGatherMs : 1000)
      pc.addEventListener("icecandidate", (e) => {
        if (!e.candidate) return
        if (e.candidate.type) wanted.delete(e.candidate.type)
        if (wantRelay && wanted.size > 0) return
        clearTimeout(timer)
        timer = setTimeout(resolve, 40)
      })
      pc.addEventListener("icegatheringstatechange", () => {
        if (pc.iceGatheringState === "complete") {
          clearTimeout(timer)
          resolve()
        }
      })
    })
  }

  close() {
    if (this.closed) return
    this.closed = true
    if (this.timer) clearTimeout(this.timer)
    this.decoder?.close()
    this.pc?.close()
  }
}
