import { describe, expect, it } from "vitest"
import { estimateFrameRate, FrameRateMeter } from "./frameRate.ts"

const arrivals = (fps: number, seconds: number, from = 0) =>
  Array.from({ length: Math.round(fps * seconds) }, (_, i) => ({ receivedAt: from + (i * 1000) / fps }))

describe("frame rate from arrival times", () => {
  it("measures and snaps to common camera rates", () => {
    expect(estimateFrameRate(arrivals(25, 4))).toBe(25)
    expect(estimateFrameRate(arrivals(29.97, 4))).toBe(30)
    expect(estimateFrameRate(arrivals(7.5, 4))).toBe(7.5)
    expect(estimateFrameRate(arrivals(17, 4))).toBe(17)
    expect(estimateFrameRate(arrivals(15, 0.5))).toBeUndefined()
  })

  it("ignores a burst at the start of a clip", () => {
    const burst = Array.from({ length: 30 }, () => ({ receivedAt: 0 }))
    expect(estimateFrameRate([...burst, ...arrivals(10, 6, 100)])).toBe(10)
  })

  it("meters a stream after its warm-up, and starts over after a reconnection", () => {
    const meter = new FrameRateMeter(3000, 10_000)
    for (let i = 0; i < 40; i++) meter.push(0) // the burst after connecting
    for (const { receivedAt } of arrivals(15, 4, 100)) meter.push(receivedAt)
    expect(meter.rate).toBeUndefined() // only 1 s past the warm-up
    for (const { receivedAt } of arrivals(15, 10, 4100)) meter.push(receivedAt)
    expect(meter.rate).toBe(15)
    meter.reset()
    expect(meter.rate).toBeUndefined()
  })
})
