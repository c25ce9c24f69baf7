import { FrameReceiver, toHex, randomBytes, type CameraId, type DeviceId } from "@vigil/protocol"
import type { LiveReply, PhoneSpace } from "../../space/phoneSpace.ts"
import { h } from "../../ui/dom.ts"
import { errorSentence } from "../../ui/errorText.ts"
import { LiveDecoder } from "./liveDecoder.ts"
import { Session } from "./liveSession.ts"
import { newLiveStats, type LiveStats } from "./liveStats.ts"

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
const maxBackoffMs = 5000
/**
 * After the path to the hub breaks (ICE disconnected, no video, or the phone changed networks), ICE restarts
 * on the same peer connection until this long has passed; then a fresh session is started.
 */
const restartWindowMs = 40_000
/** One ICE restart attempt: from the new offer to video again. */
const restartAttemptMs = 10_000

export interface LiveCamera {
  id: string
  name: string
}

export interface LiveViewOptions {
  /** The camera to watch; undefined: the hub's first camera (a hub without a roster yet). */
  camera: LiveCamera | undefined
  /** The home's cameras, for the picker (shown with two or more). */
  cameras: () => readonly LiveCamera[]
  onClose: () => void
  /** A tile of the grid (liveGrid.ts): no picker or close button; tapping it calls `onExpand`. */
  tile?: { onExpand: () => void }
}

/**
 * Live view of a camera: one RTCPeerConnection with one data channel to the hub, negotiated through
 * MLS-protected messages in signal's mailboxes (offer from the phone, answer from the hub in a fresh epoch),
 * frames decrypted with the stream's exported key and decoded with WebCodecs onto a canvas (liveSession.ts).
 * It shows its connection state and reconnects by itself until stopped; a picker switches to another of the
 * home's cameras (a new session for that camera). See docs/05-livestream.md.
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
  private readonly titleEl: HTMLElement
  private camera: LiveCamera | undefined
  /** Frames this view decoded (the page-wide `stats` add up every view). */
  private frames = 0
  private stopListening: (() => void) | undefined
  private readonly onNetworkChange = () => {
    const s = this.session
    if (s?.opened) void this.restartIce(s, "the phone changed networks")
  }

  constructor(
    private readonly space: PhoneSpace,
    private readonly opts: LiveViewOptions,
  ) {
    this.camera = opts.camera
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
    this.titleEl = h(opts.tile ? "h3" : "h2", {}, this.title())
    const tile = opts.tile
    this.element = h(
      "section",
      {
        class: tile ? "live live-tile" : "card live",
        "aria-label": tile ? `Live — ${this.cameraName()}` : "Live view",
        "data-testid": tile ? "live-tile" : "live-view",
      },
      h(
        "div",
        { class: "player-head" },
        this.titleEl,
        this.stateEl,
        this.pathEl,
        ...(tile ? [] : [this.picker(), this.fullscreenButton()]),
        tile
          ? h(
              "button",
              { class: "ghost", onclick: () => tile.onExpand(), "aria-label": `Open ${this.cameraName()}` },
              "⤢",
            )
          : h(
              "button",
              { class: "ghost", onclick: () => this.close(), "aria-label": "Close live view" },
              "✕",
            ),
      ),
      this.canvas,
      this.infoEl,
    )
    if (tile) this.canvas.addEventListener("click", () => tile.onExpand())
    this.markCamera()
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
    this.stopListening?.()
    this.stopListening = undefined
    this.setState("idle")
  }

  /** Watches another of the home's cameras: the current session ends, one for that camera starts. */
  switchCamera(camera: LiveCamera): void {
    if (camera.id === this.camera?.id) return
    const running = this.state !== "idle"
    this.stop()
    this.camera = camera
    this.titleEl.textContent = this.title()
    this.markCamera()
    this.stats.cameraSwitches++
    if (running) this.start()
  }

  private cameraName(): string {
    return this.camera?.name ?? this.space.hubName
  }

  private title(): string {
    return this.opts.tile ? this.cameraName() : `Live — ${this.cameraName()}`
  }

  private markCamera() {
    if (this.camera) this.element.dataset.cameraId = this.camera.id
    delete this.element.dataset.servedCamera
  }

  /** A select of the home's cameras, with two or more; empty otherwise. */
  private picker(): HTMLElement {
    const cameras = this.opts.cameras()
    if (cameras.length < 2) return h("span", {})
    const select = h(
      "select",
      {
        class: "live-picker",
        "data-testid": "live-camera",
        "aria-label": "Camera",
        onchange: () => {
          const chosen = cameras.find((c) => c.id === select.value)
          if (chosen) this.switchCamera(chosen)
        },
      },
      ...cameras.map((c) => h("option", { value: c.id }, c.name)),
    ) as HTMLSelectElement
    select.value = this.camera?.id ?? cameras[0]!.id
    return select
  }

  /** Full screen, in landscape where the phone allows it (Escape or the system's back leaves it). */
  private fullscreenButton(): HTMLElement {
    return h(
      "button",
      {
        class: "ghost",
        "data-testid": "live-fullscreen",
        "aria-label": "Full screen",
        onclick: () => {
          void this.element
            .requestFullscreen?.()
            .then(() => (screen.orientation as { lock?: (o: string) => Promise<void> }).lock?.("landscape"))
            .catch(() => undefined)
        },
      },
      "⛶",
    )
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
        onFrame: () => {
          this.frames++
        },
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
      this.stopListening?.()
      this.stopListening = this.space.onLiveReply((reply) => {
        if (this.session === session) void this.onReply(session, reply)
      })
      session.armTimeout(answerTimeoutMs, "the hub did not answer")
      await this.sendOffer(session, offer)
      session.mark("offerSent")
    } catch (err) {
      if (this.session === session) this.retry(errorSentence(err))
    }
  }

  /** A session's offer (first, or an ICE restart's) for this view's camera, signed and mailed to the hub. */
  private sendOffer(session: Session, sdp: string): Promise<void> {
    return this.space.sendLiveRequest({
      kind: "live-offer",
      sessionId: session.id,
      deviceId: this.space.deviceId as DeviceId,
      ...(this.camera ? { cameraId: this.camera.id as CameraId } : {}),
      sdp,
      issuedAt: Date.now(),
    })
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
    // Which camera the hub serves, as it signed it: what the spec and the tile check.
    this.element.dataset.servedCamera = reply.answer.cameraId
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
      await this.sendOffer(session, sdp)
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
    this.infoEl.textContent = `${this.frames} frames${latency === undefined ? "" : ` · ${Math.round(latency)} ms behind the camera`}`
    this.element.dataset.frames = String(this.frames)
  }
}

/** The Network Information API where the browser has it (Chromium on Android: Wi-Fi ↔ mobile data). */
function connectionInfo(): EventTarget | undefined {
  return (navigator as { connection?: EventTarget }).connection
}
