import type { AppContext } from "../http/context.ts"
import type { BlobId } from "../ids.ts"

/** Why a blob's bytes were deleted. */
export type BlobReleaseReason = "acknowledged" | "retention" | "owner" | "member" | "orphan" | "quota"

/**
 * Deletes the bytes of a blob that no space references any more. Runs under the blob's lock, so an
 * upload of the same bytes in the meantime either finished first (and its reference keeps the file)
 * or starts after (and writes the file anew). Returns whether the file was deleted.
 */
export async function deleteBlobIfUnreferenced(
  ctx: AppContext,
  blobId: BlobId,
  reason: BlobReleaseReason,
): Promise<boolean> {
  return ctx.blobLock.run(blobId, async () => {
    if (await ctx.store.isBlobReferenced(blobId)) return false
    await ctx.blobs.delete(blobId)
    ctx.metrics.blobsDeleted.inc({ reason })
    ctx.logger.debug({ blobId, reason }, "blob deleted")
    return true
  })
}

export interface SweepResult {
  /** Space references dropped (retention expired, or every recipient acknowledged). */
  releasedRefs: number
  /** Blob files deleted. */
  deletedBlobs: number
  /** Blob files that had no reference at all (left by a crash between write and record). */
  orphans: number
  /** Mailbox messages deleted unread after `mailboxTtlMs`. */
  expiredMessages: number
}

const batch = 500

/**
 * One pass of housekeeping: blobs past retention or acknowledged by all their recipients, orphaned
 * blob files, expired pairing rooms and announcements, idle rate-limit buckets. Idempotent; the app
 * runs it on an interval and tests call it with an injected clock.
 */
export async function sweep(ctx: AppContext): Promise<SweepResult> {
  const now = ctx.now()
  const result: SweepResult = { releasedRefs: 0, deletedBlobs: 0, orphans: 0, expiredMessages: 0 }
  const candidates = new Set<BlobId>()
  for (;;) {
    const released = await ctx.store.releaseBlobRefs(now - ctx.config.retentionMs, batch)
    result.releasedRefs += released.length
    for (const ref of released) candidates.add(ref.blobId)
    if (released.length < batch) break
  }
  for (const blobId of candidates) {
    if (await deleteBlobIfUnreferenced(ctx, blobId, "retention")) result.deletedBlobs++
  }
  for await (const blobId of ctx.blobs.list()) {
    // A blob being uploaded right now holds its lock and is recorded before it is released.
    if (candidates.has(blobId) || ctx.blobLock.isBusy(blobId)) continue
    if (await deleteBlobIfUnreferenced(ctx, blobId, "orphan")) {
      result.deletedBlobs++
      result.orphans++
    }
  }
  // A mailbox nobody reads (a lost phone) must not hold the relay's disk, nor its sender's outbox, forever.
  result.expiredMessages = await ctx.store.expireMailbox(now - ctx.config.mailboxTtlMs)
  await ctx.store.purgeRooms(now, ctx.config.roomTombstoneMs)
  ctx.announcements.purge(now)
  ctx.addressLimiter.prune()
  ctx.deviceLimiter.prune()
  ctx.registrationLimiter.prune()
  ctx.pushLimiter.prune()
  if (result.deletedBlobs > 0 || result.releasedRefs > 0 || result.expiredMessages > 0)
    ctx.logger.info({ ...result }, "sweep")
  return result
}
