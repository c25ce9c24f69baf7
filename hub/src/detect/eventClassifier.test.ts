import { describe, expect, it } from "vitest"
import { silentLogger } from "../capture/types.ts"
import { EventClassifier, type ObjectSighting } from "./eventClassifier.ts"
import type { MotionResult } from "./motionDetector.ts"
import type { Detection, ObjectDetector, RgbImage } from "./objectDetector.ts"

const image = (tag: number): RgbImage => ({ width: 100, height: 100, data: new Uint8Array(30_000).fill(tag) })

/** A detector that answers from a script keyed by the first pixel of the image it is shown. */
function fakeDetector(script: (tag: number) => Detection[]) {
  const seen: RgbImage[] = []
  const detector: ObjectDetector = {
    name: "fake",
    detect: async (img) => {
      seen.push(img)
      return script(img.data[0] ?? 0)
    },
    close: async () => {},
  }
  return { detector, seen }
}

const person = (score: number): Detection => ({
  label: "person",
  className: "person",
  score,
  box: { x: 0.25, y: 0.25, width: 0.5, height: 0.5 },
})
const dog = (score: number): Detection => ({ ...person(score), label: "pet", className: "dog" })

function motion(at: number, extra: Partial<MotionResult> = {}): MotionResult {
  return {
    motion: true,
    active: true,
    score: 0.1,
    at,
    region: { x: 0.4, y: 0.4, width: 0.2, height: 0.2 },
    ...extra,
  }
}

/** A clock and a frame source the test moves by hand. */
function rig(
  script: (tag: number) => Detection[],
  options: { intervalMs?: number; maxPerEvent?: number } = {},
) {
  let now = 0
  let tag = 1
  const { detector, seen } = fakeDetector(script)
  const sightings: ObjectSighting[] = []
  const classifier = new EventClassifier({
    detector,
    grabFrame: async () => ({ image: image(tag), at: now }),
    logger: silentLogger,
    now: () => now,
    onSighting: (s) => sightings.push(s),
    ...options,
  })
  return {
    classifier,
    seen,
    sightings,
    at: (ms: number, frameTag = tag) => {
      now = ms
      tag = frameTag
    },
  }
}

describe("EventClassifier", () => {
  it("looks only while motion is active: at the start, then every interval, up to the maximum", async () => {
    const r = rig(() => [], { intervalMs: 1000, maxPerEvent: 3 })
    r.classifier.onMotion({ motion: false, active: false, score: 0, at: 0 })
    r.classifier.onMotion(motion(100, { active: false }))
    expect(r.seen).toHaveLength(0)
    for (let t = 200; t <= 6000; t += 200) {
      r.at(t)
      r.classifier.onMotion(motion(t, t === 200 ? { started: true } : {}))
      await r.classifier.settled()
    }
    expect(r.seen).toHaveLength(3)
    // A new event may look again.
    r.at(7000)
    r.classifier.onMotion(motion(7000, { started: true }))
    await r.classifier.settled()
    expect(r.seen).toHaveLength(4)
  })

  it("crops to the motion region and maps boxes back to the whole picture", async () => {
    const r = rig(() => [person(0.8)])
    r.classifier.onMotion(motion(0, { started: true }))
    await r.classifier.settled()
    // Region 0.4–0.6 of 100 px, grown and made at least 40 px square.
    expect(r.seen[0]?.width).toBe(40)
    const seen = await r.classifier.classify(0, 1000)
    const box = seen.detections[0]?.box
    for (const value of [box?.x, box?.y]) expect(value).toBeCloseTo(0.4)
    for (const value of [box?.width, box?.height]) expect(value).toBeCloseTo(0.2)
  })

  it("labels a clip by the most important thing seen, keeps the best picture, and reports sightings", async () => {
    // Frame 1: a dog (0.9). Frame 2: a person (0.5). Frame 3: a person (0.7).
    const r = rig((tag) => ({ 1: [dog(0.9)], 2: [person(0.5)], 3: [person(0.7), dog(0.4)] })[tag] ?? [])
    for (const [t, tag] of [
      [0, 1],
      [1000, 2],
      [2000, 3],
    ] as const) {
      r.at(t, tag)
      r.classifier.onMotion(motion(t, t === 0 ? { started: true } : {}))
      await r.classifier.settled()
    }
    const seen = await r.classifier.classify(0, 5000)
    expect(seen.label).toBe("person")
    expect(seen.detections.map((d) => `${d.className} ${d.score} @${d.at}`)).toEqual([
      "person 0.7 @2000",
      "person 0.5 @1000",
      "dog 0.9 @0",
      "dog 0.4 @2000",
    ])
    expect(seen.thumbnail?.data[0]).toBe(3)
    expect(r.sightings.map((s) => `${s.label} @${s.at}`)).toEqual(["pet @0", "person @1000"])
    // Pixels are kept only for the first and the best picture.
    expect(r.classifier.remembered.map((o) => o.image !== undefined)).toEqual([true, false, true])
  })

  it("says motion, with the first picture, when nothing was recognised; forgets what a clip used", async () => {
    const r = rig(() => [])
    r.at(500, 7)
    r.classifier.onMotion(motion(500, { started: true }))
    const seen = await r.classifier.classify(0, 1000)
    expect(seen).toMatchObject({ label: "motion", detections: [] })
    expect(seen.thumbnail?.data[0]).toBe(7)
    expect((await r.classifier.classify(600, 2000)).thumbnail).toBeUndefined()
    r.classifier.forget(1000)
    expect(r.classifier.remembered).toHaveLength(0)
  })

  it("takes one picture per event without a detector, and survives a detector that fails", async () => {
    const grabbed: number[] = []
    const noDetector = new EventClassifier({
      grabFrame: async () => (grabbed.push(1), { image: image(1), at: 0 }),
      logger: silentLogger,
    })
    noDetector.onMotion(motion(0, { started: true }))
    await noDetector.settled()
    noDetector.onMotion(motion(5000))
    await noDetector.settled()
    expect(grabbed).toHaveLength(1)

    const failing = new EventClassifier({
      detector: { name: "broken", detect: () => Promise.reject(new Error("boom")), close: async () => {} },
      grabFrame: async () => ({ image: image(2), at: 10 }),
      logger: silentLogger,
    })
    failing.onMotion(motion(10, { started: true }))
    expect(await failing.classify(0, 100)).toMatchObject({ label: "motion", detections: [] })
  })
})
