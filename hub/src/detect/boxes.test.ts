import { describe, expect, it } from "vitest"
import {
  boxFromRegion,
  cropImage,
  detectionRegion,
  intersectionOverUnion,
  suppressOverlaps,
} from "./boxes.ts"
import type { Detection } from "./objectDetector.ts"

const det = (label: Detection["label"], score: number, x: number, y = 0.1): Detection => ({
  label,
  className: label,
  score,
  box: { x, y, width: 0.2, height: 0.2 },
})

describe("boxes", () => {
  it("computes intersection over union", () => {
    const a = { x: 0, y: 0, width: 0.5, height: 0.5 }
    expect(intersectionOverUnion(a, a)).toBe(1)
    expect(intersectionOverUnion(a, { x: 0.5, y: 0, width: 0.5, height: 0.5 })).toBe(0)
    expect(intersectionOverUnion(a, { x: 0.25, y: 0, width: 0.5, height: 0.5 })).toBeCloseTo(1 / 3)
  })

  it("suppresses overlapping boxes of the same label only, best first", () => {
    const kept = suppressOverlaps(
      [det("pet", 0.4, 0.11), det("pet", 0.6, 0.1), det("person", 0.5, 0.1)],
      0.45,
    )
    expect(kept.map((d) => `${d.label} ${d.score}`)).toEqual(["pet 0.6", "person 0.5"])
  })

  it("makes a square region around the motion, with margin, inside the image", () => {
    const image = { width: 1280, height: 720 }
    // Small motion near the right edge: a square of at least 40 % of 720 px, pushed back inside.
    const r = detectionRegion({ x: 0.95, y: 0.5, width: 0.04, height: 0.05 }, image)
    expect(r.width * 1280).toBeCloseTo(288)
    expect(r.height * 720).toBeCloseTo(288)
    expect(r.x + r.width).toBeCloseTo(1)
    // Motion taller than the image: the region is as tall as the image and as wide as it is tall.
    const tall = detectionRegion({ x: 0.4, y: 0, width: 0.2, height: 1 }, image)
    expect(tall.height).toBe(1)
    expect(tall.width * 1280).toBeCloseTo(720)
  })

  it("crops pixels and maps boxes back to the whole image", () => {
    // 4×2 image whose red channel is the pixel index.
    const data = new Uint8Array(4 * 2 * 3)
    for (let i = 0; i < 8; i++) data[i * 3] = i
    const crop = cropImage({ width: 4, height: 2, data }, { x: 0.5, y: 0.5, width: 0.5, height: 0.5 })
    expect(crop.width).toBe(2)
    expect(crop.height).toBe(1)
    expect([crop.data[0], crop.data[3]]).toEqual([6, 7])
    expect(
      boxFromRegion({ x: 0.5, y: 0, width: 0.5, height: 1 }, { x: 0.5, y: 0.5, width: 0.5, height: 0.5 }),
    ).toEqual({ x: 0.75, y: 0.5, width: 0.25, height: 0.5 })
  })
})
