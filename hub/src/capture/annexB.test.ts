import { describe, expect, it } from "vitest"
import { AnnexBSplitter, listNalUnitTypes } from "./annexB.ts"
import type { AccessUnit } from "./types.ts"

const bytes = (...parts: number[][]) => Uint8Array.from(parts.flat())

// Garbage that even contains a non-AUD start code, then two zeros that run into AU 0's 4-byte start code.
const garbage = [0x12, 0x00, 0x00, 0x01, 0x67, 0x42, 0x01, 0x00, 0x00]
const au0 = bytes(
  [0x00, 0x00, 0x00, 0x01, 0x09, 0xf0],
  [0x00, 0x00, 0x00, 0x01, 0x67, 0x42, 0xc0, 0x1e, 0xaa],
  [0x00, 0x00, 0x00, 0x01, 0x68, 0xce, 0x3c, 0x80],
  [0x00, 0x00, 0x01, 0x65, 0x88, 0x84, 0x00, 0x01, 0x02],
)
const au1 = bytes([0x00, 0x00, 0x01, 0x09, 0x30], [0x00, 0x00, 0x01, 0x41, 0x9a, 0x00, 0x00, 0x03, 0x01])
const au2 = bytes([0x00, 0x00, 0x00, 0x01, 0x09, 0x30], [0x00, 0x00, 0x01, 0x41, 0x9b, 0xff])
const au3 = bytes([0x00, 0x00, 0x01, 0x09, 0x10], [0x00, 0x00, 0x01, 0x65, 0xb8, 0x00, 0x10])
const stream = bytes(garbage, [...au0], [...au1], [...au2], [...au3])

const expected: AccessUnit[] = [
  { data: au0, keyframe: true, index: 0 },
  { data: au1, keyframe: false, index: 1 },
  { data: au2, keyframe: false, index: 2 },
  { data: au3, keyframe: true, index: 3 },
]

function splitAll(chunks: Uint8Array[]): { units: AccessUnit[]; dropped: number } {
  const splitter = new AnnexBSplitter()
  const units = chunks.flatMap((chunk) => splitter.push(chunk))
  units.push(...splitter.flush())
  return { units, dropped: splitter.droppedBytes }
}

describe("AnnexBSplitter", () => {
  it("splits on delimiters, drops leading garbage and flags IDR access units", () => {
    const { units, dropped } = splitAll([stream])
    expect(units).toEqual(expected)
    expect(dropped).toBe(garbage.length)
  })

  it("gives the same access units wherever the stream is cut in two", () => {
    for (let cut = 0; cut <= stream.length; cut++) {
      const { units, dropped } = splitAll([stream.subarray(0, cut), stream.subarray(cut)])
      expect(units, `cut at ${cut}`).toEqual(expected)
      expect(dropped, `cut at ${cut}`).toBe(garbage.length)
    }
  })

  it("gives the same access units wherever the stream is cut in three", () => {
    for (let a = 0; a <= stream.length; a++) {
      for (let b = a; b <= stream.length; b++) {
        const { units } = splitAll([stream.subarray(0, a), stream.subarray(a, b), stream.subarray(b)])
        expect(units, `cuts at ${a}, ${b}`).toEqual(expected)
      }
    }
  })

  it("copes with one byte at a time", () => {
    const chunks = Array.from(stream, (byte) => Uint8Array.of(byte))
    expect(splitAll(chunks).units).toEqual(expected)
  })

  it("holds an access unit back until the next delimiter, and flush releases it", () => {
    const splitter = new AnnexBSplitter()
    expect(splitter.push(au0)).toEqual([])
    expect(splitter.push(au1)).toEqual([expected[0]])
    expect(splitter.flush()).toEqual([{ data: au1, keyframe: false, index: 1 }])
    expect(splitter.flush()).toEqual([])
  })

  it("keeps no data and returns nothing for a stream without delimiters", () => {
    const splitter = new AnnexBSplitter()
    const noAud = bytes([0x00, 0x00, 0x00, 0x01, 0x65, 0x88], [0x00, 0x00, 0x01, 0x41, 0x9a])
    for (let i = 0; i < 1000; i++) expect(splitter.push(noAud)).toEqual([])
    expect(splitter.flush()).toEqual([])
    expect(splitter.droppedBytes).toBe(1000 * noAud.length)
  })

  it("drops an access unit that outgrows the limit and resynchronises on the next delimiter", () => {
    const splitter = new AnnexBSplitter({ maxAccessUnitBytes: 64 })
    const huge = bytes(
      [0x00, 0x00, 0x01, 0x09, 0x10, 0x00, 0x00, 0x01, 0x65],
      new Array<number>(100).fill(0x77),
    )
    expect(splitter.push(huge)).toEqual([])
    const units = [...splitter.push(au1), ...splitter.push(au2), ...splitter.flush()]
    expect(units.map((u) => u.data)).toEqual([au1, au2])
    expect(splitter.droppedBytes).toBe(huge.length)
  })
})

describe("listNalUnitTypes", () => {
  it("lists NAL types across 3- and 4-byte start codes", () => {
    expect(listNalUnitTypes(au0)).toEqual([9, 7, 8, 5])
    expect(listNalUnitTypes(au1)).toEqual([9, 1])
    expect(listNalUnitTypes(new Uint8Array())).toEqual([])
  })
})
