import { FrameReassembler, FrameReceiver, toHex, randomBytes, type DeviceId } from "@vigil/protocol"
import type { LiveReply, PhoneSpace } from "../../space/phoneSpace.ts"
import { h } from "../../ui/dom.ts"
import { errorSentence } from "../../ui/errorText.ts"
import { LiveDecoder } from "./liveDecoder.ts"
import { newLiveStats, nowUs, type LiveStats } from "./liveStats.ts"

export type LiveState = "idle" | "requesting" | "connecting" | "live" | "reconnecting" | "failed"
/** How frames reach this phone: straight from the hub, or through the operator's TURN relay. */
export type LivePath = "direct" | "relayed"

const stateText: Record<LiveState, string> = {
  idle: "Stopped",
  requesting: "Asking the hub…",
  connecting: "Connecting…",
  live: "Live",
  reconnecting: "Reconnecting…",
  failed: "Not available",
}

/** No answer from the hub within this long: ask again (the hub may be restarting). */
const answerTimeoutMs = 8000
/** From answer to an open channel. */
const connectTimeoutMs = 8000
/** A live channel that brings no frame for this long is dead (the hub went away without closing). */
const stallTimeoutMs = 4000
const maxBackoffMs = 5000
/**
 * After the path to the hub breaks (ICE disconnected, no video, or the phone changed networks), ICE restarts
 * on the same peer connection until this long has passed; then a fresh session is started.
 */
const restartWindowMs = 40_000
/** One ICE restart attempt: from the new offer to video again. */
const restartAttemptMs = 10_000
/** Waiting for relay candidates from the configured TURN server when gathering an offer. */
const relayGatherMs = 3000
/** Received but undecoded frames beyond this (~0.5 s at 30 fps): skip to the next keyframe. */
const maxBacklogFrames = 15

/**
 * Live view of a camera: one RTCPeerConnection with one data channel to the hub, negotiated through
 * MLS-protected messages in signal's mailboxes (offer from the phone, answer from the hub in a fresh epoch),
 * frames decrypted with the stream's exported key and decoded with WebCodecs onto a canvas. It shows its
 * connection state and reconnects by itself until stopped. See docs/05-livestream.md.
 */
export class LiveView {
  readonly element: HTMLElement
  /** Shared by every live view of this page, so figures add up across sessions (and reopenings). */
  readonly stats: LiveStats

  private readonly canvas: HTMLCanvasElement
  private readonly stateEl: HTMLElement
  private readonly infoEl: HTMLElement
  private state: LiveState = "idle"
  private session: Session | undefined
  private retryTimer: ReturnType<typeof setTimeout> | undefined
  private backoffMs = 500
  private iceServers: RTCIceServer[] | undefined
  private infoTimer: ReturnType<typeof setInterval> | undefined
  private readonly pathEl: HTMLElement
  private readonly onNetworkChange = () => {
    const s = this.session
    if (s?.opened) void this.restartIce(s, "the phone changed networks")
  }

  constructor(
    private readonly space: PhoneSpace,
    private readonly opts: { cameraName: string; onClose: () => void },
  ) {
    this.canvas = h("canvas", {
      "data-testid": "live-canvas",
      class: "live-canvas",
      width: "640",
      height: "360",
    })
    // Set through the CSSOM, which the app's Content-Security-Policy allows (inline style attributes it does not).
    this.canvas.style.width = "100%"
    this.canvas.style.height = "auto"
    this.canvas.style.background = "#000"
    this.stateEl = h("span", { class: "chip", "data-testid": "live-state", role: "status" }, stateText.idle)
    this.infoEl = h("span", { class: "muted", "data-testid": "live-info" })
    // Always present (no layout shift); empty until a candidate pair is selected.
    this.pathEl = h("span", {
      class: "chip",
      "data-testid": "live-path",
      title: "Direct: peer to peer. Relayed: through your TURN server, which sees only ciphertext.",
    })
    this.pathEl.style.visibility = "hidden"
    this.element = h(
      "section",
      { class: "card live", "aria-label": "Live view" },
      h(
        "div",
        { class: "player-head" },
        h("h2", {}, `Live — ${opts.cameraName}`),
        this.stateEl,
        this.pathEl,
        h("button", { class: "ghost", onclick: () => this.close(), "aria-label": "Close live view" }, "✕"),
      ),
      this.canvas,
      this.infoEl,
    )
    // Escape closes live view, as it closes the player.
    this.element.addEventListener("keydown", (e) => {
      if (e.key !== "Escape") return
      e.preventDefault()
      this.close()
    })
    // Diagnostics for the benchmark and tests (numbers only, no keys or pictures).
    const g = globalThis as { vigilLiveStats?: LiveStats }
    this.stats = g.vigilLiveStats ??= newLiveStats()
  }

  /** Starts live view (the Live button). */
  start(): void {
    if (!LiveDecoder.supported()) {
      this.setState("failed", "this browser cannot decode video with WebCodecs")
      return
    }
    this.backoffMs = 500
    this.infoTimer ??= setInterval(() => this.showInfo(), 1000)
    globalThis.addEventListener("online", this.onNetworkChange)
    connectionInfo()?.addEventListener("change", this.onNetworkChange)
    void this.connect(performance.now())
  }

  close(): void {
    this.stop()
    this.opts.onClose()
  }

  stop(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer)
    this.retryTimer = undefined
    if (this.infoTimer) clearInterval(this.infoTimer)
    this.infoTimer = undefined
    globalThis.removeEventListener("online", this.onNetworkChange)
    connectionInfo()?.removeEventListener("change", this.onNetworkChange)
    const s = this.session
    this.session = undefined
    if (s) {
      void this.space
        .sendLiveRequest({ kind: "live-close", sessionId: s.id, deviceId: this.space.deviceId as DeviceId })
        .catch(() => undefined)
      s.close()
    }
    this.space.onLiveReply(undefined)
    this.setState("idle")
  }

  private async connect(startedAt: number) {
    this.session?.close()
    const session = new Session(toHex(randomBytes(16)), startedAt, this.stats)
    this.stats.phases.push(session.phases)
    this.session = session
    this.stats.sessions++
    this.setState("requesting")
    try {
      // Fresh for every session: TURN credentials from signal expire.
      this.iceServers = await this.space.getIceServers().catch(() => this.iceServers ?? [])
      const offer = await session.createOffer(this.iceServers, this.canvas, {
        onLive: () => {
          if (this.session === session) this.setState("live")
        },
        onFirstFrame: () => {
          this.backoffMs = 500
        },
        onDead: (why) => {
          if (this.session === session) this.retry(why)
        },
        onPathLost: (why) => {
          if (this.session === session) void this.restartIce(session, why)
        },
        onRecovered: () => {
          if (this.session === session) this.setState("live")
        },
      })
      this.space.onLiveReply((reply) => {
        if (this.session === session) void this.onReply(session, reply)
      })
      session.armTimeout(answerTimeoutMs, "the hub did not answer")
      await this.space.sendLiveRequest({
        kind: "live-offer",
        sessionId: session.id,
        deviceId: this.space.deviceId as DeviceId,
        sdp: offer,
        issuedAt: Date.now(),
      })
      session.mark("offerSent")
    } catch (err) {
      if (this.session === session) this.retry(errorSentence(err))
    }
  }

  private async onReply(session: Session, reply: LiveReply) {
    if (reply.kind === "live-refused") {
      if (reply.refused.sessionId === session.id) this.retry(`the hub refused: ${reply.refused.reason}`)
      return
    }
    if (reply.answer.sessionId !== session.id) return // an answer to an older request
    if (session.opened) {
      // The answer to an ICE restart (or a duplicate): same peer connection, same stream key (the hub keeps
      // it). Accepted even when the path came back on its own meanwhile: the hub already restarted ICE.
      try {
        await session.acceptRestart(reply.answer.sdp)
      } catch (err) {
        this.retry(`The ICE restart failed. ${errorSentence(err)}`)
      }
      return
    }
    this.setState("connecting")
    session.mark("answer")
    try {
      session.armTimeout(connectTimeoutMs, "no connection to the hub")
      await session.accept(reply.answer.sdp, new FrameReceiver(reply.frameKey))
    } catch (err) {
      this.retry(errorSentence(err))
    }
  }

  /**
   * ICE restart: a new offer with new ICE credentials on the same peer connection, through the same
   * MLS-protected signalling; the hub answers on its peer connection and the DTLS association, data channel
   * and stream key carry on. Repeated while signal is unreachable; a fresh session after `restartWindowMs`.
   */
  private async restartIce(session: Session, why: string) {
    if (session.restarting && performance.now() - session.restartStartedAt < restartAttemptMs) return
    const since = session.pathLostAt ?? performance.now()
    session.pathLostAt = since
    if (performance.now() - since > restartWindowMs) {
      this.retry(`${why}; ICE restarts did not bring the video back`)
      return
    }
    this.stats.iceRestarts++
    this.setState("reconnecting", why)
    try {
      const sdp = await session.restartOffer()
      if (this.session !== session) return
      // The restart attempt's own deadline: no video by then, try again (or give up after the window).
      session.armTimeout(restartAttemptMs, why, true)
      await this.space.sendLiveRequest({
        kind: "live-offer",
        sessionId: session.id,
        deviceId: this.space.deviceId as DeviceId,
        sdp,
        issuedAt: Date.now(),
      })
    } catch (err) {
      if (this.session !== session) return
      // Most likely signal is unreachable too (no network yet): try again shortly.
      session.armTimeout(1000, `${why}. ${errorSentence(err)}`, true)
    }
  }

  private retry(why: string) {
    this.session?.close()
    this.session = undefined
    this.stats.reconnects++
    this.setState("reconnecting", why)
    if (this.retryTimer) clearTimeout(this.retryTimer)
    const delay = this.backoffMs
    this.backoffMs = Math.min(this.backoffMs * 2, maxBackoffMs)
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined
      void this.connect(performance.now())
    }, delay)
  }

  private setState(state: LiveState, detail?: string) {
    this.state = state
    this.stats.state = state
    this.stateEl.textContent = stateText[state]
    this.stateEl.className = `chip chip-live-${state}`
    this.stateEl.title = detail ?? ""
    this.element.dataset.state = state
    if (detail) this.infoEl.textContent = detail
  }

  private showInfo() {
    const s = this.session
    if (s?.opened) {
      void s.path().then((selected) => {
        if (this.session !== s || !selected) return
        const { path, pair } = selected
        this.stats.path = path
        this.stats.pair = pair
        this.pathEl.textContent = path === "relayed" ? "Relayed" : "Direct"
        this.pathEl.dataset.path = path
        this.pathEl.style.visibility = "visible"
      })
    } else {
      this.pathEl.textContent = ""
      delete this.pathEl.dataset.path
      this.pathEl.style.visibility = "hidden"
    }
    if (this.state !== "live") return
    const latency = this.stats.lastLatencyMs
    this.infoEl.textContent = `${this.stats.framesDecoded} frames${latency === undefined ? "" : ` · ${Math.round(latency)} ms behind the camera`}`
    this.element.dataset.frames = String(this.stats.framesDecoded)
  }
}

interface SessionHandlers {
  onLive: () => void
  onFirstFrame: () => void
  onDead: (why: string) => void
  /** The channel was open but the path broke: repair it with an ICE restart. */
  onPathLost: (why: string) => void
  /** Video flows again after the path was lost. */
  onRecovered: () => void
}

/** The Network Information API where the browser has it (Chromium on Android: Wi-Fi ↔ mobile data). */
function connectionInfo(): EventTarget | undefined {
  return (navigator as { connection?: EventTarget }).connection
}

/** One attempt: a peer connection, its data channel, and the frames it brings. */
class Session {
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
