import { describe, expect, it } from "vitest"
import { MediaError } from "../capture/errors.ts"
import type { GrayFrame } from "../capture/types.ts"
import { MotionDetector, type MotionResult } from "./motionDetector.ts"

const width = 160
const height = 90
const frameMs = 200 // 5 fps

/** Deterministic pseudo-random numbers in [0, 1) (mulberry32). */
function random(seed: number): () => number {
  let a = seed
  return () => {
    a = (a + 0x6d2b79f5) | 0
    let t = Math.imul(a ^ (a >>> 15), 1 | a)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** A textured wall, optionally with a bright box and per-pixel noise. */
function scene(
  options: { box?: { x: number; y: number; size: number }; noise?: () => number } = {},
): Uint8Array {
  const data = new Uint8Array(width * height)
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let value = 110 + 40 * Math.sin(x / 3) * Math.cos(y / 4)
      const box = options.box
      if (box && x >= box.x && x < box.x + box.size && y >= box.y && y < box.y + box.size) value = 235
      if (options.noise) value += options.noise()
      data[y * width + x] = Math.max(0, Math.min(255, Math.round(value)))
    }
  }
  return data
}

function frameAt(index: number, data: Uint8Array): GrayFrame {
  return { width, height, data, at: 1_000_000 + index * frameMs }
}

function run(detector: MotionDetector, frames: Uint8Array[]): MotionResult[] {
  return frames.map((data, i) => detector.push(frameAt(i, data)))
}

describe("MotionDetector", () => {
  it("reports no motion for a static scene", () => {
    const still = scene()
    const results = run(
      new MotionDetector(),
      Array.from({ length: 50 }, () => still),
    )
    expect(results.every((r) => !r.motion && !r.active && r.score === 0)).toBe(true)
  })

  it("ignores sensor noise", () => {
    const rand = random(7)
    // Roughly Gaussian noise with a standard deviation near 6 grey levels.
    const noise = () => (rand() + rand() + rand() + rand() - 2) * 10
    const results = run(
      new MotionDetector(),
      Array.from({ length: 100 }, () => scene({ noise })),
    )
    expect(results.some((r) => r.started)).toBe(false)
    expect(Math.max(...results.map((r) => r.score))).toBeLessThan(0.01)
  })

  it("starts on a moving box and ends cooldownMs after the last motion frame", () => {
    const still = scene()
    const moving = Array.from({ length: 10 }, (_, i) => scene({ box: { x: 10 + i * 14, y: 30, size: 20 } }))
    const frames = [
      ...Array.from({ length: 10 }, () => still),
      ...moving,
      ...Array.from({ length: 20 }, () => still),
    ]
    const results = run(new MotionDetector({ cooldownMs: 1000 }), frames)

    expect(results.slice(0, 10).some((r) => r.motion)).toBe(false)
    expect(results.slice(10, 20).every((r) => r.motion && r.score > 0.02)).toBe(true)
    const started = results.findIndex((r) => r.started)
    expect(started).toBe(11) // minMotionFrames = 2: the second motion frame
    const lastMotion = results.findLastIndex((r) => r.motion)
    const ended = results.findIndex((r) => r.ended)
    expect((ended - lastMotion) * frameMs).toBe(1000)
    expect(results.filter((r) => r.started || r.ended)).toHaveLength(2)
    expect(results.slice(started, ended).every((r) => r.active)).toBe(true)
    expect(results[ended]?.active).toBe(false)
  })

  it("does not start on a single glitched frame", () => {
    const still = scene()
    const glitch = scene({ box: { x: 50, y: 20, size: 40 } })
    const results = run(new MotionDetector(), [still, still, glitch, still, still])
    expect(results[2]?.motion).toBe(true)
    expect(results.some((r) => r.started)).toBe(false)
  })

  it("takes the first frame, and the first after a size change, as the background", () => {
    const detector = new MotionDetector({ minMotionFrames: 1 })
    expect(detector.push(frameAt(0, scene())).motion).toBe(false)
    const small: GrayFrame = { width: 2, height: 2, data: Uint8Array.of(0, 0, 255, 255), at: 0 }
    expect(detector.push(small)).toMatchObject({ motion: false, score: 0 })
  })

  it("throws a typed error for a frame whose size does not match its bytes", () => {
    const bad: GrayFrame = { width: 4, height: 4, data: new Uint8Array(3), at: 0 }
    expect(() => new MotionDetector().push(bad)).toThrow(MediaError)
  })

  describe("zones, masks and the motion region", () => {
    // A box moving along the left third of the frame (x 10–40 of 160), rows 30–50.
    const still = scene()
    const leftMotion = Array.from({ length: 8 }, (_, i) =>
      scene({ box: { x: 10 + (i % 2) * 10, y: 30, size: 20 } }),
    )
    const frames = [still, still, ...leftMotion]
    const leftThird = [
      [0, 0],
      [1 / 3, 0],
      [1 / 3, 1],
      [0, 1],
    ] as const
    const rightHalf = [
      [0.5, 0],
      [1, 0],
      [1, 1],
      [0.5, 1],
    ] as const

    it("reports where it moved as a normalized box around the moving object", () => {
      const results = run(new MotionDetector(), frames)
      const region = results.find((r) => r.started)?.region
      expect(region).toBeDefined()
      // The object moves within x 10–40 px, y 30–50 px (at the starting frame, x 20–40): the region covers
      // it, to a cell (8 px) or so, and nothing far from it.
      expect(region!.x).toBeGreaterThanOrEqual(0)
      expect(region!.x).toBeLessThanOrEqual(20 / width)
      expect(region!.x + region!.width).toBeGreaterThanOrEqual(40 / width)
      expect(region!.x + region!.width).toBeLessThanOrEqual(56 / width)
      expect(region!.y).toBeLessThanOrEqual(30 / height)
      expect(region!.y + region!.height).toBeGreaterThanOrEqual(50 / height)
      expect(region!.y + region!.height).toBeLessThanOrEqual(64 / height)
      expect(results.filter((r) => !r.motion).every((r) => r.region === undefined)).toBe(true)
    })

    it("sees motion inside a zone and ignores it outside", () => {
      expect(run(new MotionDetector({ zones: [leftThird] }), frames).some((r) => r.started)).toBe(true)
      const outside = run(new MotionDetector({ zones: [rightHalf] }), frames)
      expect(outside.some((r) => r.motion)).toBe(false)
      expect(outside.every((r) => r.score === 0)).toBe(true)
    })

    it("ignores motion under a mask, even inside a zone", () => {
      const masked = run(new MotionDetector({ masks: [leftThird] }), frames)
      expect(masked.some((r) => r.motion)).toBe(false)
      const zoneMinusMask = run(new MotionDetector({ zones: [leftThird], masks: [leftThird] }), frames)
      expect(zoneMinusMask.some((r) => r.motion)).toBe(false)
    })

    it("measures the changed area against the watched area, not the whole frame", () => {
      // A small object: under 1 % of the frame, but over 1 % of a zone a tenth of the frame's size.
      const tiny = Array.from({ length: 6 }, (_, i) =>
        scene({ box: { x: 20 + (i % 2) * 4, y: 40, size: 10 } }),
      )
      const tinyFrames = [still, still, ...tiny]
      expect(run(new MotionDetector({ minAreaFraction: 0.01 }), tinyFrames).some((r) => r.started)).toBe(
        false,
      )
      const zone = [
        [0, 0.25],
        [0.32, 0.25],
        [0.32, 0.75],
        [0, 0.75],
      ] as const
      const zoned = run(new MotionDetector({ minAreaFraction: 0.01, zones: [zone] }), tinyFrames)
      expect(zoned.some((r) => r.started)).toBe(true)
    })
  })
})
