/**
 * Object detection on real photographs with known content (hub/fixtures/photos, sources and licences in
 * the README there), through the same detector process the hub runs.
 */
import { fileURLToPath } from "node:url"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { decodeImageFile } from "../../src/capture/frameGrabber.ts"
import { FfmpegNotFoundError } from "../../src/capture/errors.ts"
import { findCenterNetModelDir } from "../../src/detect/centerNetDetector.ts"
import type { Detection, ObjectDetector } from "../../src/detect/objectDetector.ts"
import { startChildProcessDetector } from "../../src/detect/childProcessDetector.ts"
import { resolveFfmpeg } from "../../src/ffmpeg.ts"

const photo = (name: string) => fileURLToPath(new URL(`../../fixtures/photos/${name}`, import.meta.url))

function findFfmpeg(): string | undefined {
  try {
    return resolveFfmpeg().path
  } catch (error) {
    if (error instanceof FfmpegNotFoundError) return undefined
    throw error
  }
}
const ffmpeg = findFfmpeg()

describe.skipIf(!ffmpeg)("object detection on photographs (CenterNet, tfjs WASM, own process)", () => {
  let detector: ObjectDetector

  beforeAll(async () => {
    expect(findCenterNetModelDir(), "the model ships in @vladmandic/human").toBeDefined()
    detector = await startChildProcessDetector()
  })
  afterAll(async () => {
    await detector?.close()
  })

  async function detect(name: string): Promise<Detection[]> {
    return detector.detect(await decodeImageFile(ffmpeg ?? "", photo(name)))
  }
  const best = (detections: Detection[], className: string) =>
    detections.filter((d) => d.className === className).sort((a, b) => b.score - a.score)[0]

  it("finds the person (and the dog beside her) in person.jpg", async () => {
    const found = await detect("person.jpg")
    const person = best(found, "person")
    expect(person?.label).toBe("person")
    // She stands in the middle third of the picture, filling most of its height.
    expect(person?.box.x).toBeGreaterThan(0.15)
    expect((person?.box.x ?? 0) + (person?.box.width ?? 0)).toBeLessThan(0.6)
    expect(person?.box.height).toBeGreaterThan(0.5)
    expect(found.some((d) => d.label === "pet")).toBe(true)
  })

  it("finds the astronaut as a person", async () => {
    expect(best(await detect("astronaut.jpg"), "person")?.score).toBeGreaterThan(0.4)
  })

  it("finds the dog as a pet, and the car and bicycle as vehicles, in dog.jpg", async () => {
    const found = await detect("dog.jpg")
    const dog = best(found, "dog")
    expect(dog?.label).toBe("pet")
    // The dog sits in the lower left.
    expect(dog?.box.x).toBeLessThan(0.3)
    expect(dog?.box.y).toBeGreaterThan(0.25)
    expect(best(found, "car")?.label).toBe("vehicle")
    expect(best(found, "bicycle")?.label).toBe("vehicle")
  })

  it("finds the cat as a pet", async () => {
    const found = await detect("cat.jpg")
    expect(found.filter((d) => d.label === "pet").length).toBeGreaterThan(0)
    expect(found.filter((d) => d.label !== "pet")).toEqual([])
  })

  it("finds nothing in an empty scene (grass) or among objects it does not label (a coffee cup)", async () => {
    expect(await detect("grass.jpg")).toEqual([])
    expect(await detect("coffee.jpg")).toEqual([])
  })
})
