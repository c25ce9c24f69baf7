import { describe, expect, it } from "vitest"
import { silentLogger } from "../capture/types.ts"
import { EventClassifier, type EventClassifierOptions, type ObjectSighting } from "./eventClassifier.ts"
import type { MotionResult } from "./motionDetector.ts"
import type { Detection, NormalizedBox, ObjectDetector, ObjectLabel, RgbImage } from "./objectDetector.ts"

const found = (label: ObjectLabel, box: NormalizedBox, score = 0.8): Detection => ({
  label,
  className: label === "pet" ? "dog" : label === "vehicle" ? "car" : "person",
  score,
  box,
})
/** A person walking back and forth across the picture (0.1 of its width per second), at `at` ms. */
function walker(at: number): Detection {
  const phase = (at / 1000) * 0.1
  const x = 0.05 + 0.8 * (1 - Math.abs(((phase / 0.8) % 2) - 1)) // a triangle wave: no jumps
  return found("person", { x, y: 0.4, width: 0.1, height: 0.3 })
}
const parkedVan = found("vehicle", { x: 0.7, y: 0.05, width: 0.2, height: 0.15 }, 0.7)

function motion(at: number, extra: Partial<MotionResult> = {}): MotionResult {
  return { motion: true, active: true, score: 0.1, at, region: { x: 0, y: 0, width: 1, height: 1 }, ...extra }
}

/** A 160×120 grey picture with these objects painted dark where they are. */
function paint(objects: readonly Detection[]): RgbImage {
  const image = { width: 160, height: 120, data: new Uint8Array(160 * 120 * 3).fill(128) }
  for (const { box: b } of objects)
    for (let y = Math.floor(b.y * 120); y < Math.ceil((b.y + b.height) * 120); y++)
      image.data.fill(
        20,
        (y * 160 + Math.floor(b.x * 160)) * 3,
        (y * 160 + Math.ceil((b.x + b.width) * 160)) * 3,
      )
  return image
}

/**
 * A camera on a fake clock: motion frames every 200 ms; each look's picture is taken "now", the detector
 * answers `script(at)` for it and takes `detectMs` of the clock. The picture shows what the script says
 * is there, so what moves changes its pixels and the parked van does not.
 */
function rig(
  script: (at: number) => Detection[],
  options: Partial<EventClassifierOptions> & { detectMs?: number } = {},
) {
  let now = 0
  const pictures = new WeakMap<RgbImage, number>()
  const looks: number[] = []
  const detector: ObjectDetector = {
    name: "scripted",
    detect: async (img) => {
      const at = pictures.get(img) ?? -1
      looks.push(at)
      now += options.detectMs ?? 300
      return script(at)
    },
    close: async () => {},
  }
  const sightings: ObjectSighting[] = []
  const classifier = new EventClassifier({
    detector,
    area: "full-frame",
    grabFrame: async () => {
      const image = paint(script(now))
      pictures.set(image, now)
      return { image, at: now }
    },
    logger: silentLogger,
    now: () => now,
    onSighting: (s) => sightings.push(s),
    ...options,
  })
  /** Motion from `from` to `to` ms (an event starting at `from`), then its end. */
  async function moving(from: number, to: number) {
    now = Math.max(now, from)
    classifier.onMotion(motion(now, { started: true }))
    await classifier.settled()
    while (now < to) {
      now += 200
      classifier.onMotion(motion(now))
      await classifier.settled()
    }
    classifier.onMotion(motion(now, { motion: false, active: false, ended: true }))
  }
  return { classifier, looks, sightings, moving, clock: () => now }
}

describe("EventClassifier", () => {
  it("labels every clip of an event longer than maxClipSeconds by the person walking through it", async () => {
    const r = rig((at) => [walker(at)])
    await r.moving(0, 95_000)
    // Clips of 30 s, as the recorder cuts them.
    for (const [from, to] of [
      [0, 30_000],
      [30_000, 60_000],
      [60_000, 90_000],
      [90_000, 95_000],
    ] as const) {
      const clip = await r.classifier.classify(from, to)
      expect(clip.label, `clip ${from}–${to}`).toBe("person")
      // One person, one entry: the object once, not each of its boxes.
      expect(clip.detections).toHaveLength(1)
      expect(clip.thumbnail).toBeDefined()
      r.classifier.forget(to)
    }
    // Detection ran through the whole event, not a handful of times at its start.
    expect(r.looks.filter((at) => at > 60_000).length).toBeGreaterThan(20)
    expect(r.sightings.map((s) => s.label)).toEqual(["person"])
  })

  it("a van parked in view all day labels no new motion event and is never sighted", async () => {
    const r = rig((at) => (at >= 200_000 && at <= 210_000 ? [parkedVan, walker(at)] : [parkedVan]), {
      tracker: { stationaryMs: 15_000 },
    })
    // Leaves in the wind move now and then (motion, no object); the van stands there throughout.
    const labels: string[] = []
    for (let start = 0; start < 190_000; start += 20_000) {
      await r.moving(start, start + 6000)
      labels.push((await r.classifier.classify(start, start + 8000)).label)
    }
    expect(labels.every((l) => l === "motion")).toBe(true)
    // Someone walks past it: that event is a person, not a vehicle.
    await r.moving(200_000, 210_000)
    const clip = await r.classifier.classify(200_000, 212_000)
    expect(clip.label).toBe("person")
    expect(clip.detections.map((d) => d.label)).toEqual(["person"])
    expect(r.sightings.map((s) => s.label)).toEqual(["person"])
  })

  it("reports a person who appears and then stands still (compared with the quiet scene before)", async () => {
    const standing = found("person", { x: 0.4, y: 0.3, width: 0.1, height: 0.4 })
    const r = rig((at) => (at >= 5000 ? [standing] : []))
    // Quiet first: the classifier keeps a picture of the empty scene.
    r.classifier.onMotion(motion(0, { motion: false, active: false, region: undefined }))
    await new Promise((resolve) => setTimeout(resolve, 0))
    await r.moving(5000, 9000)
    expect(r.sightings.map((s) => s.label)).toEqual(["person"])
    expect((await r.classifier.classify(5000, 9000)).label).toBe("person")
  })

  it("never reports an object seen in one picture only", async () => {
    const r = rig((at) => (at === 0 ? [found("pet", { x: 0.3, y: 0.5, width: 0.1, height: 0.1 }, 0.9)] : []))
    await r.moving(0, 8000)
    const clip = await r.classifier.classify(0, 10_000)
    expect(clip).toMatchObject({ label: "motion", detections: [] })
    expect(clip.thumbnail).toBeDefined() // the event's first picture
    expect(r.sightings).toEqual([])
  })

  it("confirms a new object by looking again at once: the sighting comes two looks after onset", async () => {
    const r = rig((at) => [walker(at)], { detectMs: 300, intervalMs: 1000 })
    await r.moving(0, 3000)
    expect(r.sightings).toHaveLength(1)
    // First look at 0, second right after it (not an interval later).
    expect(r.sightings[0]!.at).toBe(300)
  })

  it("keeps detection within its share of time when motion never stops, and backs off when nothing is there", async () => {
    const busy = rig((at) => [walker(at)], { detectMs: 600, intervalMs: 200, maxBusyFraction: 0.5 })
    await busy.moving(0, 120_000)
    // 600 ms per look, at most half the time: at most ~100 looks in 120 s (plus the 2 s burst).
    expect(busy.looks.length * 600).toBeLessThanOrEqual(0.5 * 120_000 + 2000 + 600)
    expect(busy.looks.length).toBeGreaterThan(80)

    const wind = rig(() => [], { detectMs: 300, idleAfterLooks: 3, idleIntervalMs: 3000 })
    await wind.moving(0, 60_000)
    expect(wind.looks.length).toBeLessThanOrEqual(3 + 60 / 3 + 1)
  })

  it("applies per-label filters: score and size", async () => {
    const r = rig(
      (at) => [
        { ...walker(at), label: "pet", className: "dog", score: 0.35 }, // below the pet minimum (0.4)
        found("person", { ...walker(at).box, y: 0.1, height: 0.01 }), // far too small
      ],
      {},
    )
    await r.moving(0, 10_000)
    expect((await r.classifier.classify(0, 10_000)).label).toBe("motion")
    expect(r.sightings).toEqual([])
  })

  it("crops to the motion region and maps boxes back to the whole picture", async () => {
    const seen: RgbImage[] = []
    let box: NormalizedBox | undefined
    let t = 0
    const classifier = new EventClassifier({
      detector: {
        name: "fake",
        detect: async (img) => {
          seen.push(img)
          return [found("person", { x: 0.25 + seen.length * 0.1, y: 0.25, width: 0.5, height: 0.5 })]
        },
        close: async () => {},
      },
      grabFrame: async () => ({
        image: { width: 100, height: 100, data: new Uint8Array(30_000).fill(t / 4) },
        at: t,
      }),
      logger: silentLogger,
      now: () => t,
      onSighting: (s) => (box = s.detections[0]?.box),
    })
    for (t = 0; t <= 400; t += 200) {
      classifier.onMotion(
        motion(t, { region: { x: 0.4, y: 0.4, width: 0.2, height: 0.2 }, started: t === 0 || undefined }),
      )
      await classifier.settled()
    }
    // Region 0.4–0.6 of 100 px, grown and made at least 40 px square.
    expect(seen[0]?.width).toBe(40)
    expect(box?.y).toBeCloseTo(0.4)
    expect(box?.width).toBeCloseTo(0.2)
  })

  it("takes one picture per event without a detector, and survives a detector that fails", async () => {
    const grabbed: number[] = []
    const image: RgbImage = { width: 2, height: 2, data: new Uint8Array(12) }
    const noDetector = new EventClassifier({
      grabFrame: async () => (grabbed.push(1), { image, at: 0 }),
      logger: silentLogger,
    })
    noDetector.onMotion(motion(0, { started: true }))
    await noDetector.settled()
    noDetector.onMotion(motion(5000))
    await noDetector.settled()
    expect(grabbed).toHaveLength(1)
    expect((await noDetector.classify(0, 10)).thumbnail).toBe(image)

    const failing = new EventClassifier({
      detector: { name: "broken", detect: () => Promise.reject(new Error("boom")), close: async () => {} },
      grabFrame: async () => ({ image, at: 10 }),
      logger: silentLogger,
    })
    failing.onMotion(motion(10, { started: true }))
    expect(await failing.classify(0, 100)).toMatchObject({ label: "motion", detections: [] })
  })
})
