import type { OutboxEntry } from "./hubState.ts"

/**
 * The hub's outbox is one ordered list, saved with the state, but it is delivered as independent lanes
 * (issue 14 finding 3): everything for one device is one lane, kept in order; blob uploads are another.
 * A phone whose mailbox is full (lost for months, or filling it on purpose) then holds up only its own
 * mail, never another phone's clip, and never its own removal.
 *
 * What waits for what, for an entry E behind an undelivered entry P:
 * - same device (mail, grant, revoke of one device): E waits, except a revoke, which goes ahead of the
 *   device's mail that signal refused: a removal must take effect at signal even when the removed
 *   phone's mailbox is full;
 * - P a blob, E a mail: E waits (an announcement must not arrive before the clip it names);
 * - blobs wait for earlier blobs (their order is the clips' order).
 */
export type Lane = string

/** Not an entry's lane: saving the outbox failed, and the whole outbox waits for the retry. */
export const saveLane: Lane = "save"

export function laneOf(entry: OutboxEntry): Lane {
  switch (entry.kind) {
    case "mail":
      return `device:${entry.to}`
    case "grant":
    case "revoke":
      return `device:${entry.deviceId}`
    case "blob":
      return "blobs"
  }
}

/** Why a lane is waiting: the recipient refused (its mailbox is full) or signal could not be reached. */
export type LaneStall = "recipient" | "signal"

interface LaneState {
  retryAt: number
  delayMs: number
  stall: LaneStall
}

const firstDelayMs = 500
const maxDelayMs = 30_000

/** Per-lane backoff: a lane that failed is retried on its own schedule, the others go on. */
export class OutboxLanes {
  readonly #lanes = new Map<Lane, LaneState>()

  /** The lane failed now: it waits (doubling, up to 30 s) before its next try. */
  failed(lane: Lane, stall: LaneStall, now: number): void {
    const previous = this.#lanes.get(lane)
    const delayMs = previous ? Math.min(previous.delayMs * 2, maxDelayMs) : firstDelayMs
    this.#lanes.set(lane, { retryAt: now + delayMs, delayMs, stall })
  }

  /** An entry of the lane got through: it is healthy again. */
  succeeded(lane: Lane): void {
    this.#lanes.delete(lane)
  }

  /** True while the lane waits for its retry time. */
  waiting(lane: Lane, now: number): boolean {
    const state = this.#lanes.get(lane)
    return state !== undefined && state.retryAt > now
  }

  /** True when the lane's last failure was the recipient's (a full mailbox), not signal's. */
  stalledByRecipient(lane: Lane): boolean {
    return this.#lanes.get(lane)?.stall === "recipient"
  }

  /** When the earliest waiting lane may be tried again; undefined when none waits. */
  nextRetryAt(): number | undefined {
    let next: number | undefined
    for (const state of this.#lanes.values())
      if (next === undefined || state.retryAt < next) next = state.retryAt
    return next
  }

  /** Forgets lanes with no entry left (a removed phone's, say). */
  prune(outbox: readonly OutboxEntry[]): void {
    const live = new Set(outbox.map(laneOf))
    for (const lane of this.#lanes.keys()) if (!live.has(lane) && lane !== saveLane) this.#lanes.delete(lane)
  }
}

/**
 * Tracks, during one delivery pass in outbox order, which entries must wait for an earlier one that did
 * not get through (the rules above). Pure bookkeeping; the caller delivers.
 */
export class PassBlocks {
  /** Lanes with an undelivered entry, and whether only mail of the device is undelivered there. */
  readonly #blocked = new Map<Lane, "mail" | "other">()
  #blobPending = false

  /** Whether `entry` must wait for something earlier in this pass. */
  mustWait(entry: OutboxEntry): boolean {
    const lane = this.#blocked.get(laneOf(entry))
    if (entry.kind === "revoke") return lane === "other"
    if (entry.kind === "mail" && this.#blobPending) return true
    return lane !== undefined
  }

  /** `entry` stays in the outbox (not delivered, or waiting): later entries that depend on it wait. */
  holdBack(entry: OutboxEntry): void {
    const lane = laneOf(entry)
    if (entry.kind === "blob") this.#blobPending = true
    const kind = entry.kind === "mail" ? "mail" : "other"
    if (this.#blocked.get(lane) !== "other") this.#blocked.set(lane, kind)
  }
}

/**
 * Mail queued for one device past `maxPerDevice`: the oldest ones, to drop so the saved state (rewritten
 * on every change) stays bounded while a phone is away. Grants and revokes are never dropped.
 */
export function excessMail(outbox: readonly OutboxEntry[], maxPerDevice: number): Set<number> {
  const perDevice = new Map<string, number[]>()
  for (const e of outbox) {
    if (e.kind !== "mail") continue
    const list = perDevice.get(e.to) ?? []
    list.push(e.id)
    perDevice.set(e.to, list)
  }
  const drop = new Set<number>()
  for (const ids of perDevice.values()) {
    for (const id of ids.slice(0, Math.max(0, ids.length - maxPerDevice))) drop.add(id)
  }
  return drop
}
