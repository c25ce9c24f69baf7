import { describe, expect, it } from "vitest"
import type { TimedAccessUnit } from "../capture/types.ts"
import { ClipRecorder, type RecordedClip } from "./clipRecorder.ts"

const frameMs = 100 // 10 fps with a keyframe every 10 frames: 1 s GOPs

function unit(index: number, gop = 10): TimedAccessUnit {
  return {
    data: Uint8Array.of(index & 0xff),
    keyframe: index % gop === 0,
    index,
    receivedAt: index * frameMs,
  }
}

type Script = Map<number, "start" | "end">

/** Feeds access units 0..count-1; a motion event scripted at index i is pushed right after unit i. */
function play(recorder: ClipRecorder, count: number, script: Script, gop = 10): RecordedClip[] {
  const clips: RecordedClip[] = []
  for (let i = 0; i < count; i++) {
    clips.push(...recorder.pushAccessUnit(unit(i, gop)))
    const event = script.get(i)
    const at = i * frameMs + 50
    if (event === "start") recorder.pushMotion({ at, started: true })
    if (event === "end") recorder.pushMotion({ at, ended: true })
  }
  return clips
}

const indexes = (clip: RecordedClip | undefined) => clip?.accessUnits.map((u) => u.index) ?? []
const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i)

describe("ClipRecorder", () => {
  it("records pre-roll from whole GOPs, the motion, and post-roll up to the next GOP boundary", () => {
    const recorder = new ClipRecorder({ preRollMs: 2000, postRollMs: 2000 })
    const clips = play(
      recorder,
      120,
      new Map([
        [50, "start"],
        [65, "end"],
      ]),
    )
    expect(clips).toHaveLength(1)
    const [clip] = clips
    // Motion at 5.05 s, horizon 3.05 s: the GOP starting at 3.0 s. Ended at 6.55 s + 2 s = 8.55 s: cut at 9.0 s.
    expect(indexes(clip)).toEqual(range(30, 90))
    expect(clip).toMatchObject({
      startedAt: 3000,
      endedAt: 8900,
      preRollMs: 2050,
      motionStartedAt: 5050,
      endReason: "motion-ended",
    })
    expect(recorder.recording).toBe(false)
  })

  it("keeps one clip when motion resumes during post-roll", () => {
    const script: Script = new Map([
      [20, "start"],
      [30, "end"],
      [35, "start"],
      [50, "end"],
    ])
    const clips = play(new ClipRecorder({ preRollMs: 1000, postRollMs: 1000 }), 100, script)
    expect(clips.map(indexes)).toEqual([range(10, 70)])
  })

  it("cuts at the first keyframe after maxClipMs and continues while motion lasts", () => {
    const recorder = new ClipRecorder({ preRollMs: 1000, maxClipMs: 3000 })
    const clips = play(recorder, 100, new Map([[20, "start"]]))
    expect(clips.map(indexes)).toEqual([range(10, 40), range(40, 70)])
    expect(clips.map((c) => c.endReason)).toEqual(["max-length", "max-length"])
    expect(clips[1]?.preRollMs).toBe(0)
    expect(recorder.recording).toBe(true)
    expect(indexes(recorder.flush()[0])).toEqual(range(70, 100))
  })

  it("cuts mid-GOP when no keyframe comes in time, and the next clip waits for a keyframe", () => {
    const gop = 50
    const recorder = new ClipRecorder({ preRollMs: 0, maxClipMs: 1000, keyframeWaitMs: 500 })
    const clips = play(recorder, 160, new Map([[0, "start"]]), gop)
    expect(clips.map(indexes)).toEqual([range(0, 16), range(50, 66), range(100, 116)])
    expect(clips.every((c) => c.accessUnits[0]?.keyframe)).toBe(true)
  })

  it("starts at the first keyframe when motion begins before any keyframe arrived", () => {
    const recorder = new ClipRecorder({ postRollMs: 0 })
    const clips: RecordedClip[] = []
    recorder.pushMotion({ at: 0, started: true })
    for (let i = 5; i < 40; i++) {
      if (i === 25) recorder.pushMotion({ at: i * frameMs, ended: true })
      clips.push(...recorder.pushAccessUnit(unit(i)))
    }
    expect(clips.map(indexes)).toEqual([range(10, 30)])
    expect(clips[0]?.preRollMs).toBe(0)
  })

  it("returns nothing without motion, and flush returns a clip in progress", () => {
    const recorder = new ClipRecorder()
    expect(play(recorder, 100, new Map())).toEqual([])
    expect(recorder.flush()).toEqual([])
    recorder.pushMotion({ at: 9950, started: true })
    expect(recorder.flush()[0]).toMatchObject({ endReason: "flushed", startedAt: 4000, preRollMs: 5950 })
  })

  it("does not repeat the previous clip's video as pre-roll", () => {
    const script: Script = new Map([
      [20, "start"],
      [25, "end"],
      [45, "start"],
      [50, "end"],
    ])
    const clips = play(new ClipRecorder({ preRollMs: 5000, postRollMs: 500 }), 100, script)
    expect(clips.map(indexes)).toEqual([range(0, 40), range(40, 60)])
  })

  it("starts every clip on a keyframe in a long random scenario", () => {
    let seed = 42
    const rand = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff
    const script: Script = new Map()
    for (let i = 0; i < 3000; i += 5) if (rand() < 0.1) script.set(i, rand() < 0.5 ? "start" : "end")
    const recorder = new ClipRecorder({ preRollMs: 1500, postRollMs: 700, maxClipMs: 4000 })
    const clips = [...play(recorder, 3000, script, 13), ...recorder.flush()]
    expect(clips.length).toBeGreaterThan(3)
    for (const clip of clips) {
      expect(clip.accessUnits[0]?.keyframe).toBe(true)
      expect(clip.endedAt - clip.startedAt).toBeLessThan(4000 + 13 * frameMs)
    }
    const all = clips.flatMap(indexes)
    expect(new Set(all).size).toBe(all.length)
  })
})
