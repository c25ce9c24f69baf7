import { describe, expect, it } from "vitest"
import { parseHubConfig } from "../config.ts"
import { notifiesFor } from "./captureConfig.ts"

describe("per-camera notification labels", () => {
  it("notify for person, pet and vehicle by default; plain motion is silent", () => {
    const [camera] = parseHubConfig({ cameras: [{ id: "door", name: "Door", kind: "v4l2" }] }).cameras
    const notifies = notifiesFor(camera!)
    expect(["person", "pet", "vehicle", "motion"].map(notifies)).toEqual([true, true, true, false])
  })

  it("follow each camera's own list", () => {
    const config = parseHubConfig({
      cameras: [
        { id: "drive", name: "Drive", kind: "v4l2", notify: ["person"] },
        { id: "shed", name: "Shed", kind: "v4l2", notify: ["person", "motion"] },
        { id: "quiet", name: "Quiet", kind: "v4l2", notify: [] },
      ],
    })
    const [drive, shed, quiet] = config.cameras.map(notifiesFor)
    expect(drive!("vehicle")).toBe(false)
    expect(drive!("person")).toBe(true)
    expect(shed!("motion")).toBe(true)
    expect(["person", "pet", "vehicle", "motion"].some(quiet!)).toBe(false)
    expect(() =>
      parseHubConfig({ cameras: [{ id: "x", name: "X", kind: "v4l2", notify: ["cat"] }] }),
    ).toThrow(/notify/)
  })
})

describe("the synthetic test camera", () => {
  it("notifies for plain motion too by default (it shows no person, pet or vehicle)", () => {
    const [configured] = parseHubConfig({ cameras: [{ id: "s", name: "S", kind: "synthetic" }] }).cameras
    const [builtIn] = parseHubConfig({}).cameras
    for (const camera of [configured!, builtIn!]) expect(notifiesFor(camera)("motion")).toBe(true)
  })
})
