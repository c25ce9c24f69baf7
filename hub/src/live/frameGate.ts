/**
 * Bounded latency for one viewer: decides, frame by frame, whether to send or drop, from how many bytes the
 * data channel still holds (`bufferedAmount`). When the channel backs up, the gate drops every frame up to
 * the next keyframe (a P-frame without its reference is useless), instead of queueing: the delay a viewer
 * sees cannot grow over time, whatever the link does. Pure.
 *
 *   flowing ──(buffered > limit)──► waiting-for-keyframe ──(keyframe and buffered ≤ limit)──► flowing
 *   catching-up (after the cached GOP was sent) ──(buffered ≤ limit)──► flowing
 *                 └──(buffered > catchUpLimit)──► waiting-for-keyframe
 */
export type GateState = "catching-up" | "flowing" | "waiting-for-keyframe"

export interface FrameGateOptions {
  /** Bytes the channel may hold before frames are dropped. Default 256 KiB (~0.1 s at 20 Mbit/s). */
  limitBytes?: number
  /** While the cached GOP drains, live frames queue behind it up to this. Default 2 MiB. */
  catchUpLimitBytes?: number
}

export class FrameGate {
  private state: GateState = "waiting-for-keyframe"
  readonly limitBytes: number
  readonly catchUpLimitBytes: number
  dropped = 0

  constructor(opts: FrameGateOptions = {}) {
    this.limitBytes = opts.limitBytes ?? 256 * 1024
    this.catchUpLimitBytes = opts.catchUpLimitBytes ?? 2 * 1024 * 1024
  }

  get current(): GateState {
    return this.state
  }

  /** The cached GOP was just queued: live frames may follow it while it drains. */
  startCatchUp(): void {
    this.state = "catching-up"
  }

  /** The cache held no complete GOP: start with the camera's next keyframe. */
  waitForKeyframe(): void {
    this.state = "waiting-for-keyframe"
  }

  /** True: send this frame. False: drop it (counted in `dropped`). */
  admit(keyframe: boolean, bufferedAmount: number): boolean {
    if (this.state === "catching-up") {
      if (bufferedAmount <= this.limitBytes) this.state = "flowing"
      else if (bufferedAmount <= this.catchUpLimitBytes) return true
      else this.state = "waiting-for-keyframe"
    }
    if (this.state === "flowing" && bufferedAmount > this.limitBytes) this.state = "waiting-for-keyframe"
    if (this.state === "waiting-for-keyframe" && keyframe && bufferedAmount <= this.limitBytes) {
      this.state = "flowing"
    }
    if (this.state === "flowing") return true
    this.dropped++
    return false
  }
}
