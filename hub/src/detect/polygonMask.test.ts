import { describe, expect, it } from "vitest"
import { rasterizeZones } from "./polygonMask.ts"

const count = (mask: Uint8Array) => mask.reduce((sum, v) => sum + v, 0)
const at = (mask: Uint8Array, width: number, x: number, y: number) => mask[y * width + x]

describe("rasterizeZones", () => {
  it("watches the whole frame when there are no zones", () => {
    expect(count(rasterizeZones(16, 9, {}))).toBe(144)
  })

  it("watches exactly the pixels whose centres are inside a rectangle zone", () => {
    // Left half, top two thirds of a 10×9 frame.
    const mask = rasterizeZones(10, 9, {
      zones: [
        [
          [0, 0],
          [0.5, 0],
          [0.5, 2 / 3],
          [0, 2 / 3],
        ],
      ],
    })
    expect(count(mask)).toBe(5 * 6)
    expect(at(mask, 10, 4, 5)).toBe(1)
    expect(at(mask, 10, 5, 5)).toBe(0)
    expect(at(mask, 10, 4, 6)).toBe(0)
  })

  it("fills a triangle by the even–odd rule, about half of its bounding square", () => {
    const mask = rasterizeZones(100, 100, {
      zones: [
        [
          [0, 0],
          [1, 0],
          [0, 1],
        ],
      ],
    })
    expect(count(mask)).toBeGreaterThan(4900)
    expect(count(mask)).toBeLessThan(5100)
    expect(at(mask, 100, 10, 10)).toBe(1)
    expect(at(mask, 100, 90, 90)).toBe(0)
  })

  it("cuts masks out of zones, and out of the whole frame when there are no zones", () => {
    const square = (x: number, y: number, s: number) =>
      [
        [x, y],
        [x + s, y],
        [x + s, y + s],
        [x, y + s],
      ] as const
    const zoned = rasterizeZones(20, 20, { zones: [square(0, 0, 1)], masks: [square(0.5, 0.5, 0.5)] })
    expect(count(zoned)).toBe(400 - 100)
    const masked = rasterizeZones(20, 20, { masks: [square(0, 0, 0.5)] })
    expect(count(masked)).toBe(300)
    expect(at(masked, 20, 2, 2)).toBe(0)
  })

  it("unites overlapping zones and ignores degenerate polygons", () => {
    const mask = rasterizeZones(10, 10, {
      zones: [
        [
          [0, 0],
          [0.6, 0],
          [0.6, 1],
          [0, 1],
        ],
        [
          [0.4, 0],
          [1, 0],
          [1, 1],
          [0.4, 1],
        ],
        [
          [0, 0],
          [1, 1],
        ],
      ],
    })
    expect(count(mask)).toBe(100)
  })
})
