/**
 * What a live view measured, for the screen and for `npm run bench:live`. Latency of a frame = the time it
 * was decoded here minus the timestamp the hub put in its header when the access unit left the camera
 * pipeline (both µs since the Unix epoch; on one machine, one clock). Frames from the hub's GOP cache (sent
 * to give the first picture at once, stamped before this session existed) are counted apart.
 */
export interface LiveStats {
  sessions: number
  reconnects: number
  framesDecoded: number
  catchUpFrames: number
  /** Frames this phone skipped because it could not decode them in time. */
  framesSkipped: number
  /** Pressing Live (or a reconnect starting) to the first decoded frame, ms, one per session. */
  startupMs: number[]
  /** Where a session's startup went, ms after the press: offer sent, answer in, channel open, first frame. */
  phases: { offerSent?: number; answer?: number; open?: number; firstFrame?: number; catchUpDone?: number }[]
  /** Per live frame: [header timestamp, decoded at, arrived at] in µs; the newest 20,000. */
  samples: [number, number, number][]
  lastLatencyMs: number | undefined
  state: string
  /** ICE restarts started (the path to the hub broke or the phone changed networks). */
  iceRestarts: number
  /** Camera switches in a live view (the picker); each starts a session, whose startup is in `startupMs`. */
  cameraSwitches: number
  /** The selected candidate pair of the current session: direct (host/srflx) or through the TURN relay. */
  path: "direct" | "relayed" | undefined
  /** That pair's candidate types, this phone's first ("srflx→srflx", "relay→prflx"), for diagnosis. */
  pair: string | undefined
}

export const newLiveStats = (): LiveStats => ({
  sessions: 0,
  reconnects: 0,
  framesDecoded: 0,
  catchUpFrames: 0,
  framesSkipped: 0,
  startupMs: [],
  phases: [],
  samples: [],
  lastLatencyMs: undefined,
  state: "idle",
  iceRestarts: 0,
  cameraSwitches: 0,
  path: undefined,
  pair: undefined,
})

export const nowUs = (): number => (performance.timeOrigin + performance.now()) * 1000
