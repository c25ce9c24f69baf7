/**
 * The hub's outbox: what the ledger saved (mail, blob uploads, grants and revokes at signal) is delivered
 * in order within each lane (outboxLanes.ts), and an entry leaves the outbox only once signal accepted it.
 * A lane that fails waits on its own backoff; the others go on, so one full mailbox stops nobody else.
 */
import { readFile } from "node:fs/promises"
import { SignalError, fromBase64, type RelayTransport } from "@vigil/protocol"
import type { Logger } from "../log.ts"
import { describe } from "./describe.ts"
import type { HubLedger } from "./hubLedger.ts"
import type { OutboxEntry } from "./hubState.ts"
import { laneOf, OutboxLanes, PassBlocks, saveLane } from "./outboxLanes.ts"
import type { RelayBlobs } from "./relayBlobs.ts"

export class HubOutbox {
  private flushing = false
  private flushAgain = false
  private retryTimer: NodeJS.Timeout | undefined
  private stopped = false
  /** Per-device delivery lanes and their backoff (issue 14 finding 3). */
  private readonly lanes = new OutboxLanes()
  /** Resolves when the outbox is empty; tests and shutdown wait on it. */
  private drainedWaiters: { upTo: number; resolve: () => void }[] = []

  constructor(
    private readonly ledger: HubLedger,
    private readonly client: RelayTransport,
    private readonly blobs: RelayBlobs,
    private readonly log: Logger,
    /** Mail a phone's full mailbox refused is dropped ("parked") once queued this long (default 7 days). */
    private readonly parkAfterMs = 7 * 24 * 3600_000,
  ) {}

  get pending(): number {
    return this.ledger.doc.outbox.length
  }

  kick() {
    void this.flush()
  }

  stop() {
    this.stopped = true
    if (this.retryTimer) clearTimeout(this.retryTimer)
  }

  private async flush(): Promise<void> {
    if (this.flushing) {
      this.flushAgain = true
      return
    }
    this.flushing = true
    try {
      let delivered: boolean
      do {
        this.flushAgain = false
        // Another pass after any delivery: a revoke that got through frees its device's held-back mail.
        delivered = await this.deliverPass()
      } while ((this.flushAgain || delivered) && !this.stopped && this.pending > 0)
    } catch (err) {
      // Saving the shortened outbox failed (disk full, say): the entry stays and is delivered again
      // (every entry is idempotent at signal or for the phones). Never an unhandled rejection.
      this.log.error({ err: describe(err) }, "could not save the outbox; retrying")
      if (!this.stopped) this.lanes.failed(saveLane, "signal", Date.now())
    } finally {
      this.flushing = false
    }
    if (this.stopped) return
    this.lanes.prune(this.ledger.doc.outbox)
    this.resolveDrained()
    this.scheduleRetry()
  }

  /** One pass over the outbox: every entry whose lane is free is tried once, in order. True if one left. */
  private async deliverPass(): Promise<boolean> {
    const blocks = new PassBlocks()
    let delivered = false
    for (const entry of [...this.ledger.doc.outbox]) {
      if (this.stopped) return delivered // closing: the entry stays in the saved outbox, goes out next start
      const lane = laneOf(entry)
      // A revoke does not wait out its lane's backoff: a full mailbox must not delay a removal.
      const backingOff = entry.kind !== "revoke" && this.lanes.waiting(lane, Date.now())
      if (blocks.mustWait(entry) || backingOff) {
        blocks.holdBack(entry)
        continue
      }
      const outcome = await this.deliver(entry)
      if (this.stopped) return delivered
      if (outcome.kind === "retry") {
        const stuckFor = Date.now() - (entry.queuedAt ?? Date.now())
        if (!(outcome.stall === "recipient" && entry.kind === "mail" && stuckFor > this.parkAfterMs)) {
          this.lanes.failed(lane, outcome.stall, Date.now())
          blocks.holdBack(entry)
          continue
        }
        // Refused for days: the phone is gone or hostile. It rejoins if it comes back (it missed commits).
        this.log.warn({ to: entry.to, stuckForMs: stuckFor }, "a phone refused its mail for too long; parked")
      } else {
        this.lanes.succeeded(lane)
      }
      await this.ledger.queue.run(() =>
        this.ledger.save((doc) => ({ ...doc, outbox: doc.outbox.filter((e) => e.id !== entry.id) })),
      )
      delivered = true
      this.resolveDrained()
    }
    this.lanes.succeeded(saveLane)
    return delivered
  }

  /** Wakes the next pass when the earliest waiting lane may be tried again. */
  private scheduleRetry() {
    if (this.retryTimer) clearTimeout(this.retryTimer)
    this.retryTimer = undefined
    const at = this.lanes.nextRetryAt()
    if (at === undefined || this.pending === 0) return
    this.retryTimer = setTimeout(
      () => {
        this.retryTimer = undefined
        void this.flush()
      },
      Math.max(0, at - Date.now()),
    )
    this.retryTimer.unref()
  }

  private async deliver(
    entry: OutboxEntry,
  ): Promise<{ kind: "done" } | { kind: "retry"; stall: "recipient" | "signal" }> {
    const spaceId = this.ledger.spaceId
    try {
      switch (entry.kind) {
        case "grant":
          await this.client.addMember(spaceId, entry.deviceId)
          break
        case "revoke":
          await this.client.removeMember(spaceId, entry.deviceId)
          break
        case "blob": {
          let bytes: Uint8Array
          try {
            bytes = await readFile(entry.path)
          } catch (err) {
            this.log.error({ err: describe(err), blobId: entry.blobId }, "encrypted clip missing from disk")
            return { kind: "done" }
          }
          await this.blobs.upload(entry.blobId, bytes)
          await this.blobs.keepLocally(entry.path, entry.blobId)
          break
        }
        case "mail":
          await this.client.sendToMailbox(entry.to, fromBase64(entry.body))
          break
      }
      return { kind: "done" }
    } catch (err) {
      if (err instanceof SignalError && err.status >= 400 && err.status < 500 && err.status !== 429) {
        // Permanent refusal (e.g. the device was removed): keeping it would block everything behind it.
        this.log.warn({ err: describe(err), kind: entry.kind }, "signal refused an outbox entry; dropped")
        return { kind: "done" }
      }
      if (err instanceof SignalError && err.code === "MAILBOX_FULL") {
        this.log.warn(
          { to: entry.kind === "mail" ? entry.to : undefined },
          "a phone's mailbox is full; its mail waits",
        )
        return { kind: "retry", stall: "recipient" }
      }
      this.log.warn({ err: describe(err), kind: entry.kind }, "signal unreachable; will retry")
      return { kind: "retry", stall: "signal" }
    }
  }

  /**
   * Resolves once everything queued so far has been delivered, except mail waiting for a phone whose
   * mailbox is full: that phone's trouble must not hold up the others (the push after a clip, say).
   */
  drained(): Promise<void> {
    const upTo = this.ledger.doc.nextOutboxId - 1
    if (this.isDrained(upTo)) return Promise.resolve()
    return new Promise((resolve) => this.drainedWaiters.push({ upTo, resolve }))
  }

  private isDrained(upTo: number): boolean {
    return this.ledger.doc.outbox.every(
      (e) => e.id > upTo || (e.kind === "mail" && this.lanes.stalledByRecipient(laneOf(e))),
    )
  }

  private resolveDrained() {
    this.drainedWaiters = this.drainedWaiters.filter((w) => {
      if (!this.isDrained(w.upTo)) return true
      w.resolve()
      return false
    })
  }
}
