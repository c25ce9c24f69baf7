import { describe, expect, it } from "vitest"
import { decodeCenterNet } from "./centerNet.ts"

const options = { inputSize: 512, minScore: 0.3, iouThreshold: 0.45 }

describe("decodeCenterNet", () => {
  it("keeps people, pets and vehicles above the score, as normalized boxes, best first", () => {
    const rows = [
      [0, 0, 256, 512, 0.6, 0], // person, left half
      [256, 256, 512, 512, 0.5, 16], // dog
      [100, 100, 200, 200, 0.9, 41], // cup: not something we label
      [0, 0, 10, 10, 0.2, 2], // car below the score
      [300, 0, 400, 100, 0.4, 7], // truck
    ]
    const found = decodeCenterNet(rows, options)
    expect(found.map((d) => [d.label, d.className, d.score])).toEqual([
      ["person", "person", 0.6],
      ["pet", "dog", 0.5],
      ["vehicle", "truck", 0.4],
    ])
    expect(found[0]?.box).toEqual({ x: 0, y: 0, width: 0.5, height: 1 })
  })

  it("merges duplicates, clamps boxes to the image and ignores malformed rows", () => {
    const found = decodeCenterNet(
      [
        [-20, 10, 200, 300, 0.7, 15],
        [-10, 12, 205, 298, 0.5, 15],
        [0, 0, 0, 0, 0.9, 0],
        [0, 0, 100, 100, 0.9, 80],
        [0, 0, 100, 100, 0.9, Number.NaN],
        [],
      ],
      options,
    )
    expect(found).toHaveLength(1)
    expect(found[0]).toMatchObject({ label: "pet", className: "cat", score: 0.7 })
    expect(found[0]?.box.x).toBe(0)
  })
})
