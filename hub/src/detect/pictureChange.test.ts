import { describe, expect, it } from "vitest"
import type { RgbImage } from "./objectDetector.ts"
import { changedBetween } from "./pictureChange.ts"

/** A 100×80 grey picture with a dark 10×30 figure at `x`, if any. */
function picture(x?: number): RgbImage {
  const data = new Uint8Array(100 * 80 * 3).fill(128)
  if (x !== undefined)
    for (let y = 30; y < 60; y++)
      for (let dx = 0; dx < 10; dx++) data.fill(20, (y * 100 + x + dx) * 3, (y * 100 + x + dx) * 3 + 3)
  return { width: 100, height: 80, data }
}
const boxAt = (x: number) => ({ x: x / 100, y: 30 / 80, width: 0.1, height: 30 / 80 })

describe("changedBetween", () => {
  it("sees a figure that moved, and not one that stood still", () => {
    expect(changedBetween(picture(20), picture(40), boxAt(40))).toBeGreaterThan(0.9)
    expect(changedBetween(picture(20), picture(20), boxAt(20))).toBe(0)
    // Something else moving elsewhere does not make a still box change.
    expect(changedBetween(picture(70), picture(80), boxAt(20))).toBe(0)
  })

  it("knows nothing without an earlier picture of the same size", () => {
    expect(changedBetween(undefined, picture(20), boxAt(20))).toBeUndefined()
    expect(
      changedBetween({ width: 1, height: 1, data: new Uint8Array(3) }, picture(20), boxAt(20)),
    ).toBeUndefined()
  })
})
