import { MediaError } from "../capture/errors.ts"
import type { GrayFrame } from "../capture/types.ts"

export interface MotionDetectorOptions {
  /** A pixel counts as changed when it differs from the background by more than this (0–255). Default 25. */
  threshold?: number
  /** A frame has motion when at least this fraction of its pixels changed. Default 0.01 (1 %). */
  minAreaFraction?: number
  /** An event ends after this long without a motion frame. Default 2000 ms. */
  cooldownMs?: number
  /** Background update weight per frame, 0–1: higher adapts faster to light changes. Default 0.05. */
  learningRate?: number
  /** Consecutive motion frames needed to start an event, so one glitched frame does not. Default 2. */
  minMotionFrames?: number
}

export interface MotionResult {
  /** This frame differs from the background over at least `minAreaFraction`. */
  motion: boolean
  /** Inside a motion event (from `started` until `ended`). */
  active: boolean
  /** Fraction of pixels that changed, 0–1. */
  score: number
  /** The frame's time (ms). */
  at: number
  /** Set on the frame that starts an event. */
  started?: true
  /** Set on the frame that ends one (`cooldownMs` after the last motion frame). */
  ended?: true
}

/**
 * Frame-differencing motion detector over small grayscale frames: a running-average background, a
 * per-pixel absolute difference against `threshold`, and the changed-area fraction against
 * `minAreaFraction`. Pure and synchronous; time comes from the frames, so tests drive it with a fake clock.
 *
 * The first frame (and the first after a size change) becomes the background and never reports motion.
 */
export class MotionDetector {
  private readonly threshold: number
  private readonly minAreaFraction: number
  private readonly cooldownMs: number
  private readonly learningRate: number
  private readonly minMotionFrames: number
  private background: Float32Array | undefined
  private width = 0
  private height = 0
  private active = false
  private motionRun = 0
  private lastMotionAt = 0

  constructor(options: MotionDetectorOptions = {}) {
    this.threshold = options.threshold ?? 25
    this.minAreaFraction = options.minAreaFraction ?? 0.01
    this.cooldownMs = options.cooldownMs ?? 2000
    this.learningRate = options.learningRate ?? 0.05
    this.minMotionFrames = Math.max(1, options.minMotionFrames ?? 2)
  }

  push(frame: GrayFrame): MotionResult {
    const pixels = frame.width * frame.height
    if (frame.data.length !== pixels) {
      throw new MediaError("FRAME_INVALID", `gray frame is ${frame.data.length} bytes, expected ${pixels}`)
    }
    const background = this.background
    if (!background || frame.width !== this.width || frame.height !== this.height) {
      this.background = Float32Array.from(frame.data)
      this.width = frame.width
      this.height = frame.height
      return this.decide(false, 0, frame.at)
    }

    let changed = 0
    const rate = this.learningRate
    const data = frame.data
    for (let i = 0; i < pixels; i++) {
      const value = data[i] ?? 0
      const model = background[i] ?? 0
      if (Math.abs(value - model) > this.threshold) changed++
      background[i] = model + rate * (value - model)
    }
    const score = changed / pixels
    return this.decide(score >= this.minAreaFraction, score, frame.at)
  }

  /** Forgets the background and any event in progress. */
  reset(): void {
    this.background = undefined
    this.active = false
    this.motionRun = 0
  }

  private decide(motion: boolean, score: number, at: number): MotionResult {
    const result: MotionResult = { motion, active: this.active, score, at }
    this.motionRun = motion ? this.motionRun + 1 : 0
    if (motion) this.lastMotionAt = at
    if (!this.active && this.motionRun >= this.minMotionFrames) {
      this.active = true
      result.started = true
    } else if (this.active && !motion && at - this.lastMotionAt >= this.cooldownMs) {
      this.active = false
      result.ended = true
    }
    result.active = this.active
    return result
  }
}
