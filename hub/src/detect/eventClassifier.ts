/**
 * EventClassifier: what one camera's motion event was (person, pet, vehicle, or only motion). While motion
 * lasts it decides when to look (a CPU budget, a reference picture of the scene, the motion region), runs
 * the detector, tracks objects across looks and keeps the observations a clip's label and thumbnail are
 * picked from. One state machine per camera, kept in one file (a little over 400 lines) because its
 * timing decisions all read the same state; the parts that stand alone are in boxes.ts,
 * detectionFilter.ts, objectTracker.ts and pictureChange.ts.
 */
import type { Logger } from "../capture/types.ts"
import { boxFromRegion, cropImage, detectionRegion } from "./boxes.ts"
import { defaultDetectionFilters, filterDetections, type DetectionFilters } from "./detectionFilter.ts"
import type { MotionResult } from "./motionDetector.ts"
import {
  labelPriority,
  type Detection,
  type NormalizedBox,
  type ObjectDetector,
  type ObjectLabel,
  type RgbImage,
} from "./objectDetector.ts"
import { changedBetween } from "./pictureChange.ts"
import { ObjectTracker, type ObjectTrackerOptions, type Track } from "./objectTracker.ts"

/** A picture taken during motion and what the detector found in it (boxes in whole-frame coordinates). */
export interface Observation {
  /** When the picture reached the hub (ms). */
  at: number
  /** Where detection looked. */
  region: NormalizedBox
  /** What passed the filters, with the tracked object each belongs to and whether it stood still then. */
  detections: (Detection & { trackId: number; stationary: boolean })[]
  /** Kept only for the best picture of every 10 s, for thumbnails. */
  image?: RgbImage
}

/** An object reported as soon as it is confirmed (found in enough pictures, and moving). */
export interface ObjectSighting {
  label: ObjectLabel
  score: number
  at: number
  /** `at` of the motion frame that started the event (or the first picture, if looked before it started). */
  eventStartedAt: number
  trackId: number
  /** The confirmed object's box in that picture. */
  detections: Detection[]
  image: RgbImage
}

/** One tracked object as a clip reports it: its best moment in the clip. */
export type ClipDetection = Detection & { at: number; trackId: number }

/** What happened during a clip: the label to announce, each object seen once, and the picture to show. */
export interface ClipClassification {
  label: ObjectLabel | "motion"
  /** One entry per confirmed object moving during the clip: most important label first, then score. */
  detections: ClipDetection[]
  /** The picture of the best object, else the clip's first picture; undefined if none was taken. */
  thumbnail?: RgbImage
}

export interface EventClassifierOptions {
  /** Absent: no object detection, but pictures are still taken for thumbnails. */
  detector?: ObjectDetector
  /** The camera's newest picture and the time it arrived, or undefined when none can be decoded yet. */
  grabFrame: () => Promise<{ image: RgbImage; at: number } | undefined>
  /** Time between two looks while motion goes on (after an object is confirmed or none is pending). Default 1000 ms. */
  intervalMs?: number
  /**
   * The share of time this camera's looks may take on average (decode + inference, wall time): a token
   * bucket that refills at this rate and holds `burstMs`. Keeps the CPU bounded when motion never stops.
   * Default 0.5.
   */
  maxBusyFraction?: number
  /** The bucket's size: how much looking may happen back to back (at an event's start). Default 2000 ms. */
  burstMs?: number
  /** After this many looks in a row found nothing, look only every `idleIntervalMs` (trees in wind). Default 5. */
  idleAfterLooks?: number
  /** Default 2000 ms. */
  idleIntervalMs?: number
  /** Look at the motion region (grown, square), or at the whole picture. Default "motion-region". */
  area?: "motion-region" | "full-frame"
  tracker?: ObjectTrackerOptions
  filters?: DetectionFilters
  /** Called once per object when it is confirmed; its picture is the one the object was first found in. */
  onSighting?: (sighting: ObjectSighting) => void
  /**
   * A picture in which a new object was found: the sighting, if it is confirmed, will show this picture,
   * so its thumbnail can be encoded while the next look confirms it (saves that time on the sighting).
   */
  onCandidatePicture?: (image: RgbImage) => void
  logger: Logger
  /** Default `Date.now`; used only to schedule looks. */
  now?: () => number
}

/**
 * A box is moving when at least this fraction of its pixels changed since the previous look's picture. A
 * walking person changes a third to most of their box; a parked car, none, or the strip a passer-by covers.
 */
const movingFraction = 0.1
/** Two looks are never closer than this (a look takes longer anyway; a frozen clock cannot spin). */
const minLookGapMs = 100
/** A picture to compare with must be at least this much older than the one looked at. */
const minReferenceAgeMs = 250
/** A quiet scene's picture is renewed this often (light changes), one decode each time. */
const referenceEveryMs = 60_000
/** A look for a pending object follows at once only while motion was seen this recently. */
const pendingLookMs = 1000
/** Pixels are kept for the best picture of each such stretch of time (and nothing else), for thumbnails. */
const pictureBucketMs = 10_000

/** Observations older than this are dropped even if no clip claimed them (a clip that failed to record). */
const keepObservationsMs = 10 * 60_000

/**
 * Decides when to look for objects, follows them across pictures, and tells each clip what was in it.
 *
 * Looks happen while motion lasts, on the motion region: right away on the first motion frame, again at
 * once while a new object awaits confirmation, then every `intervalMs` — never two at once per camera,
 * never more than `maxBusyFraction` of the time on average, and only every `idleIntervalMs` after several
 * empty looks in a row. Detections pass the per-label filters, then an {@link ObjectTracker}: an object is
 * reported (`onSighting`) once, when found in enough pictures and moving; stationary objects label nothing.
 * A clip asks `classify(from, to)` — each clip on its own, so a clip that continues a long event is
 * labelled by what moved during it.
 */
export class EventClassifier {
  private readonly observations: Observation[] = []
  private readonly tracker: ObjectTracker
  private readonly filters: DetectionFilters
  private inFlight: Promise<void> | undefined
  private eventStartedAt: number | undefined
  private lastLookAt = Number.NEGATIVE_INFINITY
  private emptyLooks = 0
  private lookedInEvent = false
  private lastMotion: MotionResult | undefined
  /** The picture each unconfirmed object was first found in (for its sighting). */
  private readonly firstPictures = new Map<number, RgbImage>()
  /** For each object followed, the picture of the look before it was first found: how the place looked. */
  private readonly beforePictures = new Map<number, Picture>()
  /** The previous look's picture: what a box is compared with to tell moving from standing. */
  private reference: Picture | undefined
  private referenceAt = Number.NEGATIVE_INFINITY
  private referenceInFlight = false
  private tokensMs: number
  private tokensAt: number
  private readonly intervalMs: number
  private readonly maxBusyFraction: number
  private readonly burstMs: number
  private readonly idleAfterLooks: number
  private readonly idleIntervalMs: number
  private readonly now: () => number

  constructor(private readonly options: EventClassifierOptions) {
    this.intervalMs = options.intervalMs ?? 1000
    this.maxBusyFraction = Math.min(1, Math.max(0.05, options.maxBusyFraction ?? 0.5))
    this.burstMs = options.burstMs ?? 2000
    this.idleAfterLooks = options.idleAfterLooks ?? 5
    this.idleIntervalMs = options.idleIntervalMs ?? 2000
    this.now = options.now ?? Date.now
    this.tracker = new ObjectTracker(options.tracker)
    this.filters = options.filters ?? defaultDetectionFilters
    this.tokensMs = this.burstMs
    this.tokensAt = this.now()
  }

  /** Feed every motion result; starts a look when one is due. */
  onMotion(result: MotionResult): void {
    if (result.started) {
      this.eventStartedAt = result.at
      this.emptyLooks = 0
      this.lookedInEvent = false
    }
    if (result.ended) {
      this.eventStartedAt = undefined
      this.referenceAt = Number.NEGATIVE_INFINITY // the scene as the event left it, once quiet again
    }
    this.lastMotion = result
    this.maybeLook()
  }

  private maybeLook(): void {
    const result = this.lastMotion
    if (!result || this.inFlight) return
    if (!result.motion) {
      if (!result.active && this.options.detector) this.maybeTakeReference()
      return
    }
    // Without a detector, one picture per event is all we need (the thumbnail).
    if (!this.options.detector && (this.eventStartedAt === undefined || this.lookedInEvent)) return
    const now = this.now()
    this.refill(now)
    if (this.tokensMs <= 0) return
    // A new object waits for confirmation: look again at once, so the sighting is not an interval late.
    const pending = this.tracker.active.some(
      (t) => !t.confirmed && !t.stationary && now - t.lastAt < pendingLookMs,
    )
    if (pending && now - result.at > pendingLookMs) return
    const wait = pending
      ? minLookGapMs
      : this.emptyLooks >= this.idleAfterLooks
        ? this.idleIntervalMs
        : this.intervalMs
    if (now - this.lastLookAt < wait) return
    this.lastLookAt = now
    if (this.eventStartedAt !== undefined) this.lookedInEvent = true
    const region = result.region ?? { x: 0, y: 0, width: 1, height: 1 }
    const job = this.look(region).finally(() => {
      if (this.inFlight !== job) return
      this.inFlight = undefined
      // Motion frames keep coming, but a pending object should not wait up to a frame for its next look.
      this.maybeLook()
    })
    this.inFlight = job
  }

  /** Resolves when no look is running. */
  async settled(): Promise<void> {
    while (this.inFlight) await this.inFlight
  }

  /**
   * What moved between `from` and `to` (inclusive, ms), after any running look finished: each confirmed,
   * non-stationary object found in that time once (its best moment in it), the most important label (person,
   * then pet, then vehicle; "motion" if none), and the picture of its best moment.
   */
  async classify(from: number, to: number): Promise<ClipClassification> {
    await this.settled()
    const during = this.observations.filter((o) => o.at >= from && o.at <= to)
    const tracks = new Map<number, Track>(this.tracker.active.map((t) => [t.id, t]))
    const bestOf = new Map<number, ClipDetection>()
    for (const o of during) {
      for (const d of o.detections) {
        const track = tracks.get(d.trackId) ?? this.ended.get(d.trackId)
        if (!track?.confirmed || d.stationary) continue
        const seen = bestOf.get(d.trackId)
        if (!seen || d.score > seen.score) {
          const { label, className, score, box, trackId } = d
          bestOf.set(d.trackId, { label, className, score, box, trackId, at: o.at })
        }
      }
    }
    const detections = [...bestOf.values()]
    // A person matters more than a pet, a pet more than a car: the label goes by that order, then by score.
    detections.sort((a, b) => rank(a.label) - rank(b.label) || b.score - a.score)
    const best = detections[0]
    const pictures = during.filter((o) => o.image)
    const bestPicture = best
      ? (pictures.find((o) => o.at === best.at) ??
        pictures.find((o) => o.detections.some((d) => d.trackId === best.trackId)))
      : undefined
    return {
      label: best?.label ?? "motion",
      detections,
      thumbnail: (bestPicture ?? pictures[0])?.image,
    }
  }

  /** Drops what was seen up to `until` (a clip has used it). */
  forget(until: number): void {
    const keepFrom = this.observations.findIndex((o) => o.at > until)
    this.observations.splice(0, keepFrom === -1 ? this.observations.length : keepFrom)
    for (const [id, track] of this.ended) if (track.lastAt <= until) this.ended.delete(id)
  }

  /** Forgets the tracked objects (the camera restarted: positions may no longer mean the same). */
  resetTracking(): void {
    // A clip still being finished may ask about them.
    for (const t of this.tracker.active) if (t.confirmed) this.ended.set(t.id, t)
    this.tracker.reset()
    this.reference = undefined
    this.beforePictures.clear()
  }

  /** Everything still remembered, oldest first (for tests and status). */
  get remembered(): readonly Observation[] {
    return this.observations
  }

  /** Objects followed now (for tests and status). */
  get tracks(): readonly Track[] {
    return this.tracker.active
  }

  /** Tracks that left the tracker while a clip may still ask about them. */
  private readonly ended = new Map<number, Track>()

  /**
   * While the scene is quiet, keeps a picture of it (at most once a minute): what an object that appears
   * with the next motion is compared with, so one that walks in and stands still is still seen arriving.
   */
  private maybeTakeReference(): void {
    const now = this.now()
    if (this.referenceInFlight || now - this.referenceAt < referenceEveryMs) return
    this.referenceAt = now
    this.referenceInFlight = true
    void this.options
      .grabFrame()
      .then(
        (frame) => {
          if (frame) this.reference = frame
          else this.referenceAt = Number.NEGATIVE_INFINITY // nothing decodable yet: try again
        },
        (error: unknown) => this.options.logger.debug({ err: error }, "no reference picture"),
      )
      .finally(() => (this.referenceInFlight = false))
  }

  private refill(now: number): void {
    this.tokensMs = Math.min(this.burstMs, this.tokensMs + (now - this.tokensAt) * this.maxBusyFraction)
    this.tokensAt = now
  }

  private async look(motionRegion: NormalizedBox): Promise<void> {
    const log = this.options.logger
    const started = this.now()
    try {
      let frame: Awaited<ReturnType<EventClassifierOptions["grabFrame"]>>
      try {
        frame = await this.options.grabFrame()
      } catch (error) {
        log.warn({ err: error }, "could not decode a picture for detection")
        return
      }
      if (!frame) return
      const region =
        this.options.area === "full-frame"
          ? { x: 0, y: 0, width: 1, height: 1 }
          : detectionRegion(motionRegion, frame.image)
      let found: Detection[] = []
      const detector = this.options.detector
      if (detector) {
        const t0 = performance.now()
        try {
          const whole = region.width >= 1 && region.height >= 1
          const raw = await detector.detect(whole ? frame.image : cropImage(frame.image, region))
          found = filterDetections(
            raw.map((d) => ({ ...d, box: boxFromRegion(d.box, region) })),
            this.filters,
          )
        } catch (error) {
          log.warn({ err: error }, "object detection failed; the event keeps its motion label")
        }
        log.debug({ ms: Math.round(performance.now() - t0), found: found.length }, "object detection")
      }
      this.emptyLooks = found.length === 0 ? this.emptyLooks + 1 : 0
      const before = new Map(this.tracker.active.map((t) => [t.id, t]))
      // Moving: enough of the box's pixels differ from the picture before the object was first found (it
      // came, or walked on) — or, for one there from the first look on, from the previous look's picture.
      const change: (number | undefined)[] = []
      const update = this.tracker.update(frame.at, found, (i, track) => {
        const d = found[i]
        const base = (track && this.beforePictures.get(track.id)) ?? this.reference
        // A picture from moments ago (taken as the motion began) shows nothing moved yet: no evidence.
        const usable = base && frame.at - base.at >= minReferenceAgeMs ? base.image : undefined
        change[i] = d ? changedBetween(usable, frame.image, d.box) : undefined
        return (change[i] ?? 1) >= movingFraction
      })
      for (const track of update.assigned) {
        if (track?.hits === 1 && this.reference) this.beforePictures.set(track.id, this.reference)
        if (track?.stationary) this.beforePictures.delete(track.id)
      }
      this.reference = { image: frame.image, at: frame.at }
      if (found.length > 0) {
        log.debug(
          {
            objects: found.map((d, i) => {
              const t = update.assigned[i]
              const changedPart = change[i]?.toFixed(2) ?? "?"
              return `#${t?.id} ${d.className} ${d.score.toFixed(2)} changed ${changedPart} hits ${t?.hits}${t?.confirmed ? " confirmed" : ""}${t?.stationary ? " stationary" : ""}`
            }),
          },
          "tracked",
        )
      }
      const after = new Set(this.tracker.active.map((t) => t.id))
      for (const [id, t] of before) if (!after.has(id) && t.confirmed) this.ended.set(id, t)
      const detections = found.map((d, i) => ({
        ...d,
        trackId: update.assigned[i]?.id ?? 0,
        stationary: update.assigned[i]?.stationary ?? false,
      }))
      this.remember({ at: frame.at, region, detections, image: frame.image })
      const eventStartedAt = this.eventStartedAt ?? frame.at
      let candidates = false
      for (const track of update.assigned) {
        if (!track || track.hits !== 1 || track.stationary || this.firstPictures.has(track.id)) continue
        this.firstPictures.set(track.id, frame.image)
        candidates = true
      }
      for (const id of this.firstPictures.keys()) if (!after.has(id)) this.firstPictures.delete(id)
      for (const id of this.beforePictures.keys()) if (!after.has(id)) this.beforePictures.delete(id)
      if (candidates) this.options.onCandidatePicture?.(frame.image)
      for (const track of [...update.confirmed].sort((a, b) => rank(a.label) - rank(b.label))) {
        const mine = detections.filter((d) => d.trackId === track.id)
        const image = this.firstPictures.get(track.id) ?? frame.image
        this.firstPictures.delete(track.id)
        this.options.onSighting?.({
          label: track.label,
          score: Math.max(...mine.map((d) => d.score)),
          at: frame.at,
          eventStartedAt,
          trackId: track.id,
          detections: mine.map(({ label, className, score, box }) => ({ label, className, score, box })),
          image,
        })
      }
    } finally {
      const finished = this.now()
      this.refill(finished)
      this.tokensMs -= finished - started
    }
  }

  private remember(observation: Observation): void {
    // Keep the pixels of the best picture of each stretch of `pictureBucketMs` (the first one, unless a
    // later one shows something more important), so every clip has its own thumbnail and memory stays
    // bounded while an event goes on for minutes.
    const bucket = Math.floor(observation.at / pictureBucketMs)
    const holder = this.observations.findLast((o) => o.image && Math.floor(o.at / pictureBucketMs) === bucket)
    if (holder) {
      if (importance(observation) > importance(holder)) delete holder.image
      else delete observation.image
    }
    this.observations.push(observation)
    const horizon = observation.at - keepObservationsMs
    while ((this.observations[0]?.at ?? Infinity) < horizon) this.observations.shift()
  }
}

interface Picture {
  image: RgbImage
  at: number
}

function rank(label: ObjectLabel): number {
  return labelPriority.indexOf(label)
}

/** How good a picture is for the thumbnail: its most important label first, then that label's score. */
function importance(observation: Observation): number {
  let best = 0
  for (const d of observation.detections)
    best = Math.max(best, labelPriority.length - rank(d.label) + d.score)
  return best
}
