import { describe, expect, it } from "vitest"
import type { Detection, NormalizedBox, ObjectLabel } from "./objectDetector.ts"
import { ObjectTracker } from "./objectTracker.ts"

const found = (label: ObjectLabel, box: NormalizedBox, score = 0.8): Detection => ({
  label,
  className: label === "pet" ? "dog" : label === "vehicle" ? "car" : "person",
  score,
  box,
})
/** A person 0.1 wide walking right at 0.1 of the picture per second, seen at `at` ms. */
const walker = (at: number, y = 0.3): Detection =>
  found("person", { x: 0.05 + (at / 1000) * 0.1, y, width: 0.1, height: 0.3 })
const parkedCar = (jitter = 0): Detection =>
  found("vehicle", { x: 0.7 + jitter, y: 0.1, width: 0.2, height: 0.12 - jitter }, 0.6)

describe("ObjectTracker", () => {
  it("never reports an object seen in one picture only", () => {
    const tracker = new ObjectTracker()
    expect(tracker.update(0, [found("pet", { x: 0.4, y: 0.4, width: 0.1, height: 0.1 })]).confirmed).toEqual(
      [],
    )
    for (let at = 500; at <= 10_000; at += 500) expect(tracker.update(at, []).confirmed).toEqual([])
    tracker.update(70_000, [])
    expect(tracker.active).toEqual([]) // and forgets it
  })

  it("follows a walking person as one object and reports it once, after minFrames pictures", () => {
    const tracker = new ObjectTracker({ minFrames: 3 })
    const reported: number[] = []
    const ids = new Set<number>()
    for (let at = 0; at <= 5000; at += 500) {
      const update = tracker.update(at, [walker(at)])
      reported.push(...update.confirmed.map(() => at))
      ids.add(update.assigned[0]!.id)
    }
    expect(reported).toEqual([1000]) // the third picture
    expect(ids.size).toBe(1)
    expect(tracker.active[0]).toMatchObject({ hits: 11, confirmed: true, moved: true, stationary: false })
  })

  it("keeps two people crossing apart", () => {
    const tracker = new ObjectTracker()
    const ids: number[][] = []
    for (let at = 0; at <= 4000; at += 500) {
      const left = walker(at, 0.2)
      const right = found("person", { ...walker(at, 0.55).box, x: 0.85 - (at / 1000) * 0.1 })
      ids.push(tracker.update(at, [left, right]).assigned.map((t) => t!.id))
    }
    expect(new Set(ids.map((pair) => pair[0])).size).toBe(1)
    expect(new Set(ids.map((pair) => pair[1])).size).toBe(1)
    expect(ids[0]![0]).not.toBe(ids[0]![1])
  })

  it("never reports a parked car, and marks it stationary: later pictures of it stay silent", () => {
    const tracker = new ObjectTracker({ stationaryMs: 10_000 })
    let at = 0
    for (; at <= 60_000; at += 1000) {
      // The box jitters a little, as a detector's boxes do.
      // A passer-by crosses in front of it now and then: some of its pixels change.
      const crossed = at % 10_000 === 0
      const update = tracker.update(
        at,
        [parkedCar((at % 3000) / 300_000), walker(at % 8000)],
        [crossed, true],
      )
      expect(update.confirmed.filter((t) => t.label === "vehicle")).toEqual([])
    }
    const car = tracker.active.find((t) => t.label === "vehicle")
    expect(car).toMatchObject({ stationary: true, confirmed: false })
    // Half an hour later, with no picture between (no motion), it is still known where it stands.
    expect(tracker.update(at + 1_800_000, [parkedCar()]).assigned[0]).toBe(car)
  })

  it("a car that drives in and parks is reported once, then becomes stationary", () => {
    const tracker = new ObjectTracker({ stationaryMs: 10_000 })
    const confirmedAt: number[] = []
    for (let at = 0; at <= 40_000; at += 1000) {
      const x = Math.min(0.7, 0.1 + at / 10_000) // drives for 6 s, then stands
      const update = tracker.update(at, [found("vehicle", { x, y: 0.1, width: 0.2, height: 0.12 })])
      confirmedAt.push(...update.confirmed.map(() => at))
    }
    expect(confirmedAt).toEqual([1000])
    expect(tracker.active[0]).toMatchObject({ confirmed: true, stationary: true })
  })

  it("a person standing still is not reported until they walk", () => {
    const tracker = new ObjectTracker()
    const still = found("person", { x: 0.4, y: 0.3, width: 0.1, height: 0.3 })
    for (let at = 0; at <= 10_000; at += 500)
      expect(tracker.update(at, [still], [at % 2000 === 0]).confirmed).toEqual([]) // an arm moves
    const walking = (x: number) => found("person", { ...still.box, x })
    // The first step, with the arm a moment ago: moving in two recent pictures, and displaced.
    expect(tracker.update(10_500, [walking(0.45)], [true]).confirmed).toHaveLength(1)
  })

  it("a person who appears and stands (all their pixels new) is reported", () => {
    const tracker = new ObjectTracker()
    const standing = found("person", { x: 0.4, y: 0.3, width: 0.1, height: 0.3 })
    expect(tracker.update(0, [standing], [true]).confirmed).toEqual([])
    expect(tracker.update(500, [standing], [true]).confirmed).toHaveLength(1)
  })
})
