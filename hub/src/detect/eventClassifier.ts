import type { Logger } from "../capture/types.ts"
import { boxFromRegion, cropImage, detectionRegion } from "./boxes.ts"
import type { MotionResult } from "./motionDetector.ts"
import {
  labelPriority,
  type Detection,
  type NormalizedBox,
  type ObjectDetector,
  type ObjectLabel,
  type RgbImage,
} from "./objectDetector.ts"

/** A picture taken during a motion event and what the detector found in it (boxes in whole-frame coordinates). */
export interface Observation {
  /** When the picture reached the hub (ms). */
  at: number
  /** `at` of the motion frame that started the event. */
  eventStartedAt: number
  /** Where detection looked. */
  region: NormalizedBox
  detections: Detection[]
  /** Kept only for the event's first picture and its best one, for the thumbnail. */
  image?: RgbImage
}

/** A labelled moment, reported as soon as an event first shows an object of a given label. */
export interface ObjectSighting {
  label: ObjectLabel
  score: number
  at: number
  eventStartedAt: number
  detections: Detection[]
  image: RgbImage
}

/** What happened during a clip: the label to announce, every detection with its time, and the picture to show. */
export interface ClipClassification {
  label: ObjectLabel | "motion"
  detections: (Detection & { at: number })[]
  /** The picture with the best detection, else the first picture of the motion; undefined if none was taken. */
  thumbnail?: RgbImage
}

export interface EventClassifierOptions {
  /** Absent: no object detection, but pictures are still taken for thumbnails. */
  detector?: ObjectDetector
  /** The camera's newest picture and the time it arrived, or undefined when none can be decoded yet. */
  grabFrame: () => Promise<{ image: RgbImage; at: number } | undefined>
  /** Time between two detections while motion goes on. Default 1000 ms. */
  intervalMs?: number
  /** Detections per motion event at most. Default 5. */
  maxPerEvent?: number
  /** Called the first time an event shows each label. */
  onSighting?: (sighting: ObjectSighting) => void
  logger: Logger
  /** Default `Date.now`; used only to throttle. */
  now?: () => number
}

/** Observations older than this are dropped even if no clip claimed them (a clip that failed to record). */
const keepObservationsMs = 10 * 60_000

/**
 * Decides when to look for objects and remembers what was seen. Detection runs only while motion is
 * active: once when an event starts, then every `intervalMs` while it lasts, up to `maxPerEvent` times,
 * never two at once per camera; each time on the motion region only. Clips ask `classify(from, to)` for what
 * was seen during them.
 */
export class EventClassifier {
  private readonly observations: Observation[] = []
  private inFlight: Promise<void> | undefined
  private eventStartedAt: number | undefined
  private attempts = 0
  private lastAttemptAt = 0
  private sightedLabels = new Set<ObjectLabel>()
  private readonly intervalMs: number
  private readonly maxPerEvent: number
  private readonly now: () => number

  constructor(private readonly options: EventClassifierOptions) {
    this.intervalMs = options.intervalMs ?? 1000
    this.maxPerEvent = options.maxPerEvent ?? 5
    this.now = options.now ?? Date.now
  }

  /** Feed every motion result; starts a detection when one is due. */
  onMotion(result: MotionResult): void {
    if (result.started) {
      this.eventStartedAt = result.at
      this.attempts = 0
      this.lastAttemptAt = 0
      this.sightedLabels = new Set()
    }
    if (!result.active || !result.motion || this.eventStartedAt === undefined) return
    if (this.inFlight || this.attempts >= this.maxPerEvent) return
    // Without a detector, one picture per event is all we need (the thumbnail).
    if (!this.options.detector && this.attempts > 0) return
    const now = this.now()
    if (this.attempts > 0 && now - this.lastAttemptAt < this.intervalMs) return
    this.attempts++
    this.lastAttemptAt = now
    const region = result.region ?? { x: 0, y: 0, width: 1, height: 1 }
    const job = this.look(this.eventStartedAt, region).finally(() => {
      if (this.inFlight === job) this.inFlight = undefined
    })
    this.inFlight = job
  }

  /** Resolves when no detection is running. */
  async settled(): Promise<void> {
    while (this.inFlight) await this.inFlight
  }

  /**
   * What was seen between `from` and `to` (inclusive, ms), after any running detection finished. The label
   * is the most important one seen (person, then pet, then vehicle), or "motion"; detections come in that
   * order, best score first within a label.
   */
  async classify(from: number, to: number): Promise<ClipClassification> {
    await this.settled()
    const during = this.observations.filter((o) => o.at >= from && o.at <= to)
    const detections = during.flatMap((o) => o.detections.map((d) => ({ ...d, at: o.at })))
    // A person matters more than a pet, a pet more than a car: the label goes by that order, then by score.
    detections.sort((a, b) => rank(a.label) - rank(b.label) || b.score - a.score)
    const best = detections[0]
    const bestPicture = best ? during.find((o) => o.at === best.at && o.image) : undefined
    return {
      label: best?.label ?? "motion",
      detections,
      thumbnail: (bestPicture ?? during.find((o) => o.image))?.image,
    }
  }

  /** Drops what was seen up to `until` (a clip has used it). */
  forget(until: number): void {
    const keepFrom = this.observations.findIndex((o) => o.at > until)
    this.observations.splice(0, keepFrom === -1 ? this.observations.length : keepFrom)
  }

  /** Everything still remembered, oldest first (for tests and status). */
  get remembered(): readonly Observation[] {
    return this.observations
  }

  private async look(eventStartedAt: number, motionRegion: NormalizedBox): Promise<void> {
    const log = this.options.logger
    let frame: Awaited<ReturnType<EventClassifierOptions["grabFrame"]>>
    try {
      frame = await this.options.grabFrame()
    } catch (error) {
      log.warn({ err: error }, "could not decode a picture for detection")
      return
    }
    if (!frame) return
    const region = detectionRegion(motionRegion, frame.image)
    let detections: Detection[] = []
    const detector = this.options.detector
    if (detector) {
      const started = performance.now()
      try {
        const found = await detector.detect(cropImage(frame.image, region))
        detections = found.map((d) => ({ ...d, box: boxFromRegion(d.box, region) }))
      } catch (error) {
        log.warn({ err: error }, "object detection failed; the event keeps its motion label")
      }
      log.debug(
        {
          ms: Math.round(performance.now() - started),
          found: detections.map((d) => `${d.className} ${d.score.toFixed(2)}`),
        },
        "object detection",
      )
    }
    this.remember({ at: frame.at, eventStartedAt, region, detections, image: frame.image })
    for (const d of [...detections].sort((a, b) => rank(a.label) - rank(b.label))) {
      if (this.sightedLabels.has(d.label) || eventStartedAt !== this.eventStartedAt) continue
      this.sightedLabels.add(d.label)
      this.options.onSighting?.({
        label: d.label,
        score: d.score,
        at: frame.at,
        eventStartedAt,
        detections,
        image: frame.image,
      })
    }
  }

  private remember(observation: Observation): void {
    const sameEvent = this.observations.filter((o) => o.eventStartedAt === observation.eventStartedAt)
    const first = sameEvent[0]
    const bestScore = importance
    const holder = sameEvent.slice(1).find((o) => o.image)
    if (first) {
      // Keep the first picture, and the best one after it; let go of the others' pixels.
      if (bestScore(observation) > Math.max(bestScore(first), holder ? bestScore(holder) : 0)) {
        if (holder) delete holder.image
      } else {
        delete observation.image
      }
    }
    this.observations.push(observation)
    const horizon = observation.at - keepObservationsMs
    while ((this.observations[0]?.at ?? Infinity) < horizon) this.observations.shift()
  }
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
