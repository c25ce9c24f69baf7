import { pino } from "pino"
import { describe, expect, it } from "vitest"
import type { CameraStatusToDeliver } from "../space/clipDelivery.ts"
import { CameraWatch, type WatchedCamera } from "./cameraWatch.ts"

const minute = 60_000
const settle = () => new Promise((r) => setTimeout(r, 0))

function watch(offline: Record<string, number> = {}, fail = false) {
  const told: CameraStatusToDeliver[] = []
  const w = new CameraWatch({
    offlineAfterMs: 5 * minute,
    startedAt: 0,
    offline,
    deliver: (status) => {
      told.push(status)
      return fail ? Promise.reject(new Error("relay down")) : Promise.resolve(true)
    },
    logger: pino({ level: "silent" }),
  })
  return { w, told }
}

const cam = (lastVideoAt?: number): WatchedCamera => ({ cameraId: "porch", name: "Porch", lastVideoAt })

describe("camera watch", () => {
  it("reports a camera silent for offlineAfterMs once, then its return once", async () => {
    const { w, told } = watch()
    w.check([cam(1 * minute)], 5 * minute) // 4 min of silence: fine
    w.check([cam(1 * minute)], 6 * minute)
    await settle()
    w.check([cam(1 * minute)], 7 * minute) // still offline: nothing new
    await settle()
    w.check([cam(8 * minute)], 8 * minute) // video again
    await settle()
    w.check([cam(9 * minute)], 9 * minute)
    await settle()
    expect(told.map((t) => [t.state, t.since])).toEqual([
      ["offline", 1 * minute],
      ["online", 8 * minute],
    ])
    expect(told[0]).toMatchObject({ cameraId: "porch", cameraName: "Porch" })
  })

  it("counts a camera that never delivered from the hub's start", async () => {
    const { w, told } = watch()
    w.check([cam()], 4 * minute)
    w.check([cam()], 5 * minute)
    await settle()
    expect(told.map((t) => [t.state, t.since])).toEqual([["offline", 0]])
  })

  it("after a restart, a camera the phones think offline is reported back when video comes, not again offline", async () => {
    const { w, told } = watch({ porch: 1 * minute })
    w.check([cam()], 20 * minute)
    await settle()
    expect(told).toEqual([])
    w.check([cam(21 * minute)], 21 * minute)
    await settle()
    expect(told.map((t) => t.state)).toEqual(["online"])
  })

  it("tries again when a delivery failed", async () => {
    const { w, told } = watch({}, true)
    w.check([cam(0)], 6 * minute)
    await settle()
    w.check([cam(0)], 7 * minute)
    await settle()
    expect(told.map((t) => t.state)).toEqual(["offline", "offline"])
  })
})
