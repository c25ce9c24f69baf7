import type {
  CameraId,
  DeviceId,
  FrameKey,
  HubMessage,
  LiveAnswerBody,
  LiveOffer,
  LiveRequest,
  SpaceId,
} from "@vigil/protocol"
import type { Logger } from "../capture/types.ts"
import type { FrameGateOptions } from "./frameGate.ts"
import { GopCache } from "./gopCache.ts"
import { LiveViewer, iceUfrag, type ViewerStats } from "./liveViewer.ts"
import type { IceServer } from "./rtcConfig.ts"
import { warmUpWebRtc } from "./warmUp.ts"

/** What the live service needs from the hub's space (HubSpace satisfies it). */
export interface LiveSpace {
  readonly spaceId: SpaceId
  openLiveSession(
    to: DeviceId,
    streamId: number,
    makeAnswer: (frameKey: FrameKey) => Promise<LiveAnswerBody>,
  ): Promise<FrameKey>
  sendToPhone(to: DeviceId, message: HubMessage): Promise<void>
}

export interface LiveServiceOptions {
  space: LiveSpace
  cameras: readonly { id: string; name: string }[]
  logger: Logger
  /** The ICE servers signal's operator configured (none by default); asked once per session. */
  iceServers?: () => Promise<readonly IceServer[]>
  /** At most this many viewers at once, all cameras together. Default 8. */
  maxViewers?: number
  gate?: FrameGateOptions
  /** Extra host addresses for werift (tests pair over 127.0.0.1, which werift leaves out by default). */
  additionalHostAddresses?: string[]
  /** Clock for frame timestamps, µs since the Unix epoch. */
  nowUs?: () => bigint
}

export interface AccessUnitIn {
  data: Uint8Array
  keyframe: boolean
}

const defaultNowUs = () => BigInt(Math.round((performance.timeOrigin + performance.now()) * 1000))

/**
 * Live view on the hub: answers phones' MLS-signalled offers with werift peer connections, keeps each
 * camera's current GOP so a new viewer decodes a picture at once, and fans every access unit out to the
 * viewers of its camera, each sealed under that viewer's stream key (docs/05-livestream.md).
 */
export class LiveService {
  private readonly caches = new Map<string, GopCache>()
  private readonly viewers = new Map<string, LiveViewer>()
  private readonly log: Logger
  private readonly nowUs: () => bigint
  private closed = false

  constructor(private readonly opts: LiveServiceOptions) {
    this.log = opts.logger
    this.nowUs = opts.nowUs ?? defaultNowUs
    for (const c of opts.cameras) this.caches.set(c.id, new GopCache())
  }

  /**
   * Warms werift's crypto with one loopback connection: the first DTLS handshake in a fresh process spends
   * ~150 ms compiling and precomputing, long enough for Chromium to retransmit and add another 100 ms.
   */
  async start(): Promise<void> {
    const t0 = performance.now()
    try {
      await warmUpWebRtc()
      this.log.info({ ms: Math.round(performance.now() - t0) }, "live view ready")
    } catch (err) {
      this.log.warn(
        { err: (err as Error).message },
        "WebRTC warm-up failed; the first live view starts slower",
      )
    }
  }

  /** Every access unit from a camera, as it leaves the camera pipeline. */
  pushAccessUnit(cameraId: string, unit: AccessUnitIn): void {
    const cache = this.caches.get(cameraId)
    if (!cache || this.closed) return
    const cached = { data: unit.data, keyframe: unit.keyframe, timestampUs: this.nowUs() }
    cache.push(cached)
    for (const viewer of this.viewers.values()) {
      if (viewer.cameraId === cameraId) viewer.push(cached)
    }
  }

  /** The camera stopped (its ffmpeg exited): a new viewer must not start from a stale picture. */
  cameraStopped(cameraId: string): void {
    this.caches.get(cameraId)?.clear()
  }

  /** A phone's live request, already decrypted and verified by the space. */
  handleRequest(request: LiveRequest, from: DeviceId): void {
    if (this.closed) return
    if (request.kind === "live-close") {
      const viewer = this.viewers.get(request.sessionId)
      if (viewer?.deviceId === from) viewer.close("the phone ended live view")
      return
    }
    void this.startSession(request, from).catch((err: unknown) =>
      this.log.warn({ err: (err as Error).message, sessionId: request.sessionId }, "live session failed"),
    )
  }

  private async startSession(offer: LiveOffer, from: DeviceId) {
    const existing = this.viewers.get(offer.sessionId)
    if (existing) {
      // The same offer twice, or the phone's ICE restart: new ICE credentials for a session it already has.
      const ufrag = iceUfrag(offer.sdp)
      if (existing.deviceId !== from || ufrag === existing.remoteUfrag) return
      existing.remoteUfrag = ufrag // now, so that the same offer delivered again is recognised
      return this.restartSession(existing, offer, from)
    }
    const camera = offer.cameraId
      ? this.opts.cameras.find((c) => c.id === offer.cameraId)
      : this.opts.cameras[0]
    const refuse = (reason: string) =>
      this.opts.space.sendToPhone(from, {
        kind: "live-refused",
        spaceId: this.opts.space.spaceId,
        to: from,
        sessionId: offer.sessionId,
        reason,
      })
    if (!camera) return refuse("no such camera")
    // A phone that reconnects replaces its own older session for this camera.
    for (const v of this.viewers.values()) {
      if (v.deviceId === from && v.cameraId === camera.id) v.close("replaced by a new session")
    }
    if (this.viewers.size >= (this.opts.maxViewers ?? 8)) return refuse("too many viewers")

    const iceServers =
      (await this.opts.iceServers?.().catch((err: unknown) => {
        this.log.warn({ err: (err as Error).message }, "could not read ICE servers from signal; using none")
        return []
      })) ?? []
    const viewer = new LiveViewer(offer.sessionId, from, camera.id, {
      iceServers,
      additionalHostAddresses: this.opts.additionalHostAddresses,
      logger: this.log,
      gate: this.opts.gate,
      cached: () => this.caches.get(camera.id)!.snapshot(),
      onClosed: (v) => {
        if (this.viewers.get(v.sessionId) === v) this.viewers.delete(v.sessionId)
      },
    })
    this.viewers.set(offer.sessionId, viewer)
    try {
      const frameKey = await this.opts.space.openLiveSession(from, viewer.streamId, async () => ({
        sessionId: offer.sessionId,
        cameraId: camera.id as CameraId,
        cameraName: camera.name,
        sdp: await viewer.answer(offer.sdp),
      }))
      viewer.setFrameKey(frameKey)
      this.log.info(
        { sessionId: offer.sessionId, deviceId: from, camera: camera.id },
        "live session answered",
      )
    } catch (err) {
      viewer.close(`could not answer: ${(err as Error).message}`)
      await refuse("the hub could not start the session").catch((e: unknown) =>
        this.log.warn({ err: (e as Error).message }, "could not send a refusal"),
      )
      throw err
    }
  }

  /**
   * An ICE restart on the session's own peer connection: answered like a new session (the answer is sealed in
   * a fresh epoch, the only way the hub sends answers), but the stream keeps its frame key and sequence, so
   * the phone keeps decrypting and decoding as before; the key the new epoch exports is not used.
   */
  private async restartSession(viewer: LiveViewer, offer: LiveOffer, from: DeviceId) {
    try {
      await this.opts.space.openLiveSession(from, viewer.streamId, async () => ({
        sessionId: offer.sessionId,
        cameraId: viewer.cameraId as CameraId,
        cameraName: this.opts.cameras.find((c) => c.id === viewer.cameraId)?.name ?? viewer.cameraId,
        sdp: await viewer.restart(offer.sdp),
      }))
      this.log.info(
        { sessionId: offer.sessionId, restarts: viewer.restarts },
        "live session ICE restart answered",
      )
    } catch (err) {
      viewer.close(`could not answer an ICE restart: ${(err as Error).message}`)
      throw err
    }
  }

  stats(): ViewerStats[] {
    return [...this.viewers.values()].map((v) => v.stats())
  }

  /**
   * Ends every live session of a device, at once: called when the phone is removed from the space, since
   * the stream key it already holds would otherwise keep working for as long as the connection lasts.
   */
  closeDevice(deviceId: string, reason = "the phone was removed"): number {
    const ended = [...this.viewers.values()].filter((v) => v.deviceId === deviceId)
    for (const v of ended) {
      v.close(reason)
      this.viewers.delete(v.sessionId)
    }
    return ended.length
  }

  close(): void {
    this.closed = true
    for (const v of [...this.viewers.values()]) v.close("hub stopping")
  }
}
