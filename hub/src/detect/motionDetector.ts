import { MediaError } from "../capture/errors.ts"
import type { GrayFrame } from "../capture/types.ts"
import type { NormalizedBox } from "./objectDetector.ts"
import { rasterizeZones, type Polygon } from "./polygonMask.ts"

export interface MotionDetectorOptions {
  /** A pixel counts as changed when it differs from the background by more than this (0–255). Default 25. */
  threshold?: number
  /** A frame has motion when at least this fraction of its watched pixels changed. Default 0.01 (1 %). */
  minAreaFraction?: number
  /** An event ends after this long without a motion frame. Default 2000 ms. */
  cooldownMs?: number
  /** Background update weight per frame, 0–1: higher adapts faster to light changes. Default 0.05. */
  learningRate?: number
  /** Consecutive motion frames needed to start an event, so one glitched frame does not. Default 2. */
  minMotionFrames?: number
  /** Only these areas are watched (normalized polygons). Default: the whole frame. */
  zones?: readonly Polygon[]
  /** Never watched, even inside a zone. */
  masks?: readonly Polygon[]
}

export interface MotionResult {
  /** This frame differs from the background over at least `minAreaFraction`. */
  motion: boolean
  /** Inside a motion event (from `started` until `ended`). */
  active: boolean
  /** Fraction of watched pixels that changed, 0–1. */
  score: number
  /**
   * Where it moved, on a motion frame: the bounding box of the grid cells with many changed pixels (so
   * scattered noise does not stretch it), normalized to the frame. Object detection looks there.
   */
  region?: NormalizedBox
  /** The frame's time (ms). */
  at: number
  /** Set on the frame that starts an event. */
  started?: true
  /** Set on the frame that ends one (`cooldownMs` after the last motion frame). */
  ended?: true
}

/**
 * Frame-differencing motion detector over small grayscale frames: a running-average background, a
 * per-pixel absolute difference against `threshold`, and the changed fraction of the watched area (zones
 * minus masks) against `minAreaFraction`. Pure and synchronous; time comes from the frames, so tests drive
 * it with a fake clock.
 *
 * The first frame (and the first after a size change) becomes the background and never reports motion.
 */
export class MotionDetector {
  private readonly threshold: number
  private readonly minAreaFraction: number
  private readonly cooldownMs: number
  private readonly learningRate: number
  private readonly minMotionFrames: number
  private readonly zones: readonly Polygon[]
  private readonly masks: readonly Polygon[]
  private background: Float32Array | undefined
  /** 1 for each watched pixel, for the current frame size. */
  private watched: Uint8Array = new Uint8Array(0)
  private watchedCount = 0
  private cellSize = 8
  private cellCols = 0
  private cellRows = 0
  private cellWatched = new Uint16Array(0)
  private cellChanged = new Uint16Array(0)
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
    this.zones = options.zones ?? []
    this.masks = options.masks ?? []
  }

  push(frame: GrayFrame): MotionResult {
    const pixels = frame.width * frame.height
    if (frame.data.length !== pixels) {
      throw new MediaError("FRAME_INVALID", `gray frame is ${frame.data.length} bytes, expected ${pixels}`)
    }
    const background = this.background
    if (!background || frame.width !== this.width || frame.height !== this.height) {
      this.background = Float32Array.from(frame.data)
      this.resize(frame.width, frame.height)
      return this.decide(false, 0, frame.at)
    }

    const { watched, cellSize, cellCols, cellChanged } = this
    cellChanged.fill(0)
    let changed = 0
    const rate = this.learningRate
    const threshold = this.threshold
    const data = frame.data
    for (let y = 0, i = 0; y < frame.height; y++) {
      const cellRow = Math.floor(y / cellSize) * cellCols
      for (let x = 0; x < frame.width; x++, i++) {
        if (watched[i] === 0) continue
        const value = data[i] ?? 0
        const model = background[i] ?? 0
        const diff = value - model
        if (diff > threshold || -diff > threshold) {
          changed++
          const cell = cellRow + Math.floor(x / cellSize)
          cellChanged[cell] = (cellChanged[cell] ?? 0) + 1
        }
        background[i] = model + rate * diff
      }
    }
    const score = this.watchedCount === 0 ? 0 : changed / this.watchedCount
    const motion = changed > 0 && score >= this.minAreaFraction
    const result = this.decide(motion, score, frame.at)
    if (motion) result.region = this.changedRegion()
    return result
  }

  /** Forgets the background and any event in progress. */
  reset(): void {
    this.background = undefined
    this.active = false
    this.motionRun = 0
  }

  private resize(width: number, height: number): void {
    this.width = width
    this.height = height
    this.watched = rasterizeZones(width, height, { zones: this.zones, masks: this.masks })
    this.watchedCount = this.watched.reduce((sum, w) => sum + w, 0)
    // About 12 cells across the shorter side: coarse enough to ignore speckle, fine enough to place a person.
    this.cellSize = Math.max(2, Math.round(Math.min(width, height) / 12))
    this.cellCols = Math.ceil(width / this.cellSize)
    this.cellRows = Math.ceil(height / this.cellSize)
    this.cellWatched = new Uint16Array(this.cellCols * this.cellRows)
    this.cellChanged = new Uint16Array(this.cellCols * this.cellRows)
    for (let i = 0; i < this.watched.length; i++) {
      if (this.watched[i] === 0) continue
      const cell =
        Math.floor(Math.floor(i / width) / this.cellSize) * this.cellCols +
        Math.floor((i % width) / this.cellSize)
      this.cellWatched[cell] = (this.cellWatched[cell] ?? 0) + 1
    }
  }

  /** Bounding box of the cells where at least a fifth of the watched pixels changed (or, if none, any did). */
  private changedRegion(): NormalizedBox {
    for (const minFraction of [0.2, 0]) {
      let left = Infinity
      let top = Infinity
      let right = -Infinity
      let bottom = -Infinity
      for (let row = 0; row < this.cellRows; row++) {
        for (let col = 0; col < this.cellCols; col++) {
          const cell = row * this.cellCols + col
          const changed = this.cellChanged[cell] ?? 0
          if (changed === 0 || changed < minFraction * (this.cellWatched[cell] ?? 0)) continue
          left = Math.min(left, col)
          right = Math.max(right, col)
          top = Math.min(top, row)
          bottom = Math.max(bottom, row)
        }
      }
      if (right >= left) {
        const x0 = left * this.cellSize
        const y0 = top * this.cellSize
        const x1 = Math.min(this.width, (right + 1) * this.cellSize)
        const y1 = Math.min(this.height, (bottom + 1) * this.cellSize)
        return {
          x: x0 / this.width,
          y: y0 / this.height,
          width: (x1 - x0) / this.width,
          height: (y1 - y0) / this.height,
        }
      }
    }
    return { x: 0, y: 0, width: 1, height: 1 }
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
