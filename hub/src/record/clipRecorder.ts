import { GopRing } from "../capture/gopRing.ts"
import type { TimedAccessUnit } from "../capture/types.ts"
import type { MotionResult } from "../detect/motionDetector.ts"

export interface ClipRecorderOptions {
  /**
   * Video kept from before motion started. Whole GOPs, so the real pre-roll is up to one GOP longer; never
   * reaches back into the previous clip. Default 5000.
   */
  preRollMs?: number
  /** Video kept after the detector says motion ended. Default 2000. */
  postRollMs?: number
  /** A clip is cut at the first keyframe after this length, and a new one continues while motion lasts. Default 30000. */
  maxClipMs?: number
  /** How long past its end a clip waits for a keyframe before it is cut mid-GOP. Default 5000. */
  keyframeWaitMs?: number
  /** Memory bound for the pre-roll ring. Default 64 MiB. */
  ringMaxBytes?: number
}

export type ClipEndReason = "motion-ended" | "max-length" | "flushed"

export interface RecordedClip<T extends TimedAccessUnit = TimedAccessUnit> {
  /** Starts with a keyframe; ends just before a keyframe unless the clip had to be cut mid-GOP. */
  accessUnits: T[]
  /** `receivedAt` of the first and last access unit. */
  startedAt: number
  endedAt: number
  /** How much of the clip precedes the motion (0 for a clip that continues a cut one). */
  preRollMs: number
  motionStartedAt: number
  endReason: ClipEndReason
}

interface Draft<T> {
  units: T[]
  motionStartedAt: number
  /** Set once the detector reports the end of motion: stop after this time. */
  endAfter: number | undefined
}

/**
 * Turns access units and motion results into clips: pre-roll from a GOP ring when motion starts, everything
 * while it lasts, post-roll after it ends, cut on GOP boundaries. Pure: time comes from `receivedAt` and
 * the motion results' `at`; completed clips are returned by `pushAccessUnit` and `flush`.
 */
export class ClipRecorder<T extends TimedAccessUnit = TimedAccessUnit> {
  private readonly ring: GopRing<T>
  private readonly postRollMs: number
  private readonly maxClipMs: number
  private readonly keyframeWaitMs: number
  private draft: Draft<T> | undefined
  /** The last access unit of the previous clip, so pre-roll never repeats video already in a clip. */
  private lastRecorded: T | undefined

  constructor(options: ClipRecorderOptions = {}) {
    this.ring = new GopRing<T>({ durationMs: options.preRollMs ?? 5000, maxBytes: options.ringMaxBytes })
    this.postRollMs = options.postRollMs ?? 2000
    this.maxClipMs = options.maxClipMs ?? 30_000
    this.keyframeWaitMs = options.keyframeWaitMs ?? 5000
  }

  /** When the motion of the clip being recorded started (a continuation's own start), or undefined. */
  get motionStartedAt(): number | undefined {
    return this.draft?.motionStartedAt
  }

  /** True from motion start until the clip is complete. */
  get recording(): boolean {
    return this.draft !== undefined
  }

  pushMotion(result: Pick<MotionResult, "at" | "started" | "ended">): void {
    if (result.started) {
      if (this.draft) this.draft.endAfter = undefined
      else this.draft = { units: this.preRoll(), motionStartedAt: result.at, endAfter: undefined }
    } else if (result.ended && this.draft) {
      this.draft.endAfter = result.at + this.postRollMs
    }
  }

  pushAccessUnit(unit: T): RecordedClip<T>[] {
    this.ring.push(unit)
    const draft = this.draft
    if (!draft) return []
    const first = draft.units[0]
    if (!first) {
      // Waiting for a keyframe to start on.
      if (unit.keyframe) draft.units.push(unit)
      return []
    }

    const maxEnd = first.receivedAt + this.maxClipMs
    const end = Math.min(draft.endAfter ?? Infinity, maxEnd)
    if (unit.receivedAt < end) {
      draft.units.push(unit)
      return []
    }
    const reason: ClipEndReason =
      draft.endAfter !== undefined && unit.receivedAt >= draft.endAfter ? "motion-ended" : "max-length"
    const continues = reason === "max-length"
    if (unit.keyframe) {
      // Cut on the GOP boundary: this keyframe belongs to the next clip, if any.
      this.draft = continues
        ? { units: [unit], motionStartedAt: unit.receivedAt, endAfter: draft.endAfter }
        : undefined
      return [this.complete(draft, reason)]
    }
    draft.units.push(unit)
    if (unit.receivedAt - end < this.keyframeWaitMs) return []
    // No keyframe came: cut mid-GOP; a continuation waits for the next keyframe.
    this.draft = continues
      ? { units: [], motionStartedAt: unit.receivedAt, endAfter: draft.endAfter }
      : undefined
    return [this.complete(draft, reason)]
  }

  /** Ends a clip in progress (at shutdown) and returns it. */
  flush(): RecordedClip<T>[] {
    const draft = this.draft
    this.draft = undefined
    return draft && draft.units.length > 0 ? [this.complete(draft, "flushed")] : []
  }

  private preRoll(): T[] {
    const snapshot = this.ring.snapshot()
    // The ring is a suffix of the stream: if the previous clip's last unit is not in it, all of it is newer.
    const after = this.lastRecorded ? snapshot.lastIndexOf(this.lastRecorded) + 1 : 0
    const keyframe = snapshot.findIndex((unit, i) => i >= after && unit.keyframe)
    return keyframe === -1 ? [] : snapshot.slice(keyframe)
  }

  private complete(draft: Draft<T>, endReason: ClipEndReason): RecordedClip<T> {
    this.lastRecorded = draft.units.at(-1)
    const startedAt = draft.units[0]?.receivedAt ?? draft.motionStartedAt
    return {
      accessUnits: draft.units,
      startedAt,
      endedAt: draft.units.at(-1)?.receivedAt ?? startedAt,
      preRollMs: Math.max(0, draft.motionStartedAt - startedAt),
      motionStartedAt: draft.motionStartedAt,
      endReason,
    }
  }
}
