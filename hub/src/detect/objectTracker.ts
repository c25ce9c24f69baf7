import { intersectionOverUnion } from "./boxes.ts"
import type { Detection, NormalizedBox, ObjectLabel } from "./objectDetector.ts"

export interface ObjectTrackerOptions {
  /** Pictures an object must be found in before it is reported (1 = at once). Default 2. */
  minFrames?: number
  /** A moving object not found again for this long has left. Default 4000 ms. */
  maxGapMs?: number
  /**
   * An object whose box stayed put (see `stillTolerance`) this long is stationary: a parked car, a bin, a
   * person asleep on a bench. It labels nothing and is not reported again until it moves. Default 20 s.
   */
  stationaryMs?: number
  /** How long a stationary object is remembered after it was last seen. Default 1 h. */
  stationaryMemoryMs?: number
  /**
   * A box "stays put" while its centre is within this fraction of its own size of where it came to rest and
   * its size changes by less than that fraction. Default 0.25.
   */
  stillTolerance?: number
}

/** One sighting of a tracked object. */
export interface TrackHit {
  at: number
  box: NormalizedBox
  score: number
  className: string
  /** The object was stationary when this picture was taken. */
  stationary: boolean
}

/** An object followed across pictures. */
export interface Track {
  readonly id: number
  readonly label: ObjectLabel
  /** Pictures it was found in. */
  hits: number
  firstAt: number
  lastAt: number
  /** Its latest box. */
  box: NormalizedBox
  /** Where it came to rest, and since when (a moving object comes to rest at every hit). */
  restBox: NormalizedBox
  restSince: number
  /** It moved at least once since it was first found: it is not something that was always there. */
  moved: boolean
  /** Hits in pictures where its box was moving (enough of its pixels changed). */
  movingHits: number
  /** Whether each of its last `2 × minFrames` hits was moving, oldest first. */
  recentMoving: boolean[]
  /**
   * Reported: moving in `minFrames` of its recent pictures, and either moving in most of its pictures or
   * displaced from where it first stood.
   */
  confirmed: boolean
  stationary: boolean
  /** Its best-scoring hit, for the snapshot. */
  best: TrackHit
  /** Recent hits (at most `maxHistory`), oldest first. */
  history: TrackHit[]
}

/** What one picture changed. */
export interface TrackUpdate {
  /** Objects reported for the first time with this picture. */
  confirmed: Track[]
  /** Each detection's track (same order as the input), or undefined for a detection not followed. */
  assigned: (Track | undefined)[]
}

const maxHistory = 64

/**
 * Follows detections across pictures (greedy association per label by IoU, with a centre-distance fallback
 * for small or fast objects whose boxes do not overlap between two pictures), so that one person walking
 * through is one object, counted once, with its track and best snapshot. Pure: time comes from the
 * callers, nothing is asynchronous.
 *
 * An object is **reported** (`confirmed`) once it was found *moving* (its box's pixels changed, as the
 * caller tells) in `minFrames` recent pictures, and either moving in most of its pictures or displaced from
 * where it first stood: a one-picture ghost never is, and neither is a parked car that people walk past.
 * An object that stays put for `stationaryMs` becomes **stationary**: it labels nothing and is not reported
 * again (if it drives off, the moving car is a new object).
 */
export class ObjectTracker {
  private readonly minFrames: number
  private readonly maxGapMs: number
  private readonly stationaryMs: number
  private readonly stationaryMemoryMs: number
  private readonly stillTolerance: number
  private tracks: Track[] = []
  private nextId = 1

  constructor(options: ObjectTrackerOptions = {}) {
    this.minFrames = Math.max(1, options.minFrames ?? 2)
    this.maxGapMs = options.maxGapMs ?? 4000
    this.stationaryMs = options.stationaryMs ?? 20_000
    this.stationaryMemoryMs = options.stationaryMemoryMs ?? 3600_000
    this.stillTolerance = options.stillTolerance ?? 0.25
  }

  /** Objects currently followed (moving ones seen within `maxGapMs`, stationary ones remembered). */
  get active(): readonly Track[] {
    return this.tracks
  }

  /**
   * Feeds the detections of one picture taken at `at`. `moving`: whether detection i's box was moving (its
   * pixels changed), as a list or asked once its track is known (undefined for a new object); absent means
   * unknown, taken as moving.
   */
  update(
    at: number,
    detections: readonly Detection[],
    moving?: readonly boolean[] | ((index: number, track: Track | undefined) => boolean),
  ): TrackUpdate {
    this.expire(at)
    const assigned: (Track | undefined)[] = detections.map(() => undefined)
    const pairs: { track: Track; index: number; cost: number }[] = []
    detections.forEach((d, index) => {
      for (const track of this.tracks) {
        if (track.label !== d.label) continue
        const cost = this.matchCost(track, d.box, at)
        if (cost !== undefined) pairs.push({ track, index, cost })
      }
    })
    pairs.sort((a, b) => a.cost - b.cost)
    const used = new Set<Track>()
    for (const { track, index } of pairs) {
      if (used.has(track) || assigned[index]) continue
      used.add(track)
      assigned[index] = track
    }
    const confirmed: Track[] = []
    detections.forEach((d, index) => {
      const known = assigned[index]
      const isMoving = (typeof moving === "function" ? moving(index, known) : moving?.[index]) ?? true
      const track = known ?? this.start(d, at)
      if (known) this.extend(track, d, at)
      assigned[index] = track
      if (isMoving) track.movingHits++
      track.recentMoving.push(isMoving)
      if (track.recentMoving.length > 2 * this.minFrames) track.recentMoving.shift()
    })
    for (const track of new Set(assigned)) {
      if (!track || track.confirmed || track.stationary) continue
      // Seen moving in enough recent pictures, and either in most of them or it went somewhere: a parked car
      // that a passer-by crosses now and then is moving in a few of its pictures only, and stays put.
      const recent = track.recentMoving.filter(Boolean).length
      if (recent >= this.minFrames && (track.moved || track.movingHits * 2 >= track.hits)) {
        track.confirmed = true
        confirmed.push(track)
      }
    }
    return { confirmed, assigned }
  }

  /** Forgets everything (a camera restarted, so positions may no longer mean the same). */
  reset(): void {
    this.tracks = []
  }

  private start(d: Detection, at: number): Track {
    const hit: TrackHit = { at, box: d.box, score: d.score, className: d.className, stationary: false }
    const track: Track = {
      id: this.nextId++,
      label: d.label,
      hits: 1,
      firstAt: at,
      lastAt: at,
      box: d.box,
      restBox: d.box,
      restSince: at,
      moved: false,
      movingHits: 0,
      recentMoving: [],
      confirmed: false,
      stationary: false,
      best: hit,
      history: [hit],
    }
    this.tracks.push(track)
    return track
  }

  private extend(track: Track, d: Detection, at: number): void {
    track.hits++
    track.lastAt = at
    track.box = d.box
    // A stationary object stays stationary: matched only where it stands (IoU ≥ 0.5), a box that shifts a
    // little there is a person passing in front, not the car leaving (that starts a new track).
    if (!track.stationary && this.displaced(track.restBox, d.box)) {
      // It moved: it rests (for now) where it is.
      track.moved = true
      track.restBox = d.box
      track.restSince = at
    } else if (at - track.restSince >= this.stationaryMs) {
      track.stationary = true
    }
    const hit: TrackHit = {
      at,
      box: d.box,
      score: d.score,
      className: d.className,
      stationary: track.stationary,
    }
    if (d.score > track.best.score) track.best = hit
    track.history.push(hit)
    if (track.history.length > maxHistory) track.history.shift()
  }

  /** Lower is a better match; undefined: not the same object. */
  private matchCost(track: Track, box: NormalizedBox, at: number): number | undefined {
    const iou = intersectionOverUnion(track.box, box)
    // A stationary object is matched only where it stands, so a person walking past a parked car never
    // takes over its track.
    if (track.stationary) return iou >= 0.5 ? 1 - iou : undefined
    if (iou >= 0.15) return 1 - iou
    // Boxes that do not overlap (small, fast, or a picture missed): same object if the centre moved less
    // than about its own size per second, and the size is similar.
    const size = Math.max(track.box.width, track.box.height, box.width, box.height)
    const distance = Math.hypot(centreX(box) - centreX(track.box), centreY(box) - centreY(track.box))
    const seconds = Math.max(0.5, (at - track.lastAt) / 1000)
    const ratio = (box.width * box.height) / Math.max(1e-9, track.box.width * track.box.height)
    if (ratio > 4 || ratio < 0.25) return undefined
    const reach = distance / (size * seconds * 1.5)
    return reach <= 1 ? 1 + reach : undefined
  }

  private displaced(rest: NormalizedBox, box: NormalizedBox): boolean {
    const t = this.stillTolerance
    const dx = Math.abs(centreX(box) - centreX(rest)) / Math.max(1e-9, rest.width)
    const dy = Math.abs(centreY(box) - centreY(rest)) / Math.max(1e-9, rest.height)
    const dw = Math.abs(box.width - rest.width) / Math.max(1e-9, rest.width)
    const dh = Math.abs(box.height - rest.height) / Math.max(1e-9, rest.height)
    // Size alone changes when a passer-by covers part of a parked car; only a doubling counts as moving.
    return dx > t || dy > t || Math.max(dw, dh) > 1
  }

  private expire(now: number): void {
    // An object that never went anywhere may just have been outside the motion region for a while: keep
    // it long enough to find it again where it stands, and to see that it is stationary.
    this.tracks = this.tracks.filter((t) =>
      t.stationary
        ? now - t.lastAt <= this.stationaryMemoryMs
        : now - t.lastAt <= (t.moved ? this.maxGapMs : Math.max(this.maxGapMs, this.stationaryMs * 3)),
    )
  }
}

const centreX = (b: NormalizedBox) => b.x + b.width / 2
const centreY = (b: NormalizedBox) => b.y + b.height / 2
