/**
 * The hub's sealed clips and pictures at signal and on its own disk: upload (making room under a full
 * quota), retention at signal, and the local encrypted archive.
 */
import { mkdir, readdir, rename, rm, stat } from "node:fs/promises"
import { join } from "node:path"
import { SignalError, type RelayTransport } from "@vigil/protocol"
import type { Logger } from "../log.ts"
import { describe } from "./describe.ts"
import type { HubLedger } from "./hubLedger.ts"

export interface RelayBlobsOptions {
  dataDir: string
  /** Encrypted clips kept on the hub after upload: at most this many bytes (default 2 GiB) ... */
  localQuotaBytes?: number
  /** ... and no older than this (default 30 days). */
  localRetentionMs?: number
  /** Clips at signal older than this are deleted by the hub (default 30 days). */
  relayRetentionMs?: number
}

export class RelayBlobs {
  /** When the hub last deleted clips past the retention at signal. */
  private relayPrunedAt = 0

  constructor(
    private readonly ledger: HubLedger,
    private readonly client: RelayTransport,
    private readonly log: Logger,
    private readonly opts: RelayBlobsOptions,
  ) {}

  /**
   * Uploads a sealed clip or picture. A full space at signal (413 QUOTA_EXCEEDED) makes room by deleting
   * the hub's oldest blobs there, never by dropping the new one: the newest clip is the one that matters
   * (issue 14 finding 14). Blobs past the retention are deleted at most once an hour, after an upload.
   */
  async upload(blobId: string, bytes: Uint8Array) {
    const spaceId = this.ledger.spaceId
    // The phones it is for: when every one of them has deleted it, signal deletes it (a phone's delete only
    // withdraws its own claim; the hub's retention deletes the rest).
    const phones = this.ledger.doc.phones.map((p) => p.deviceId)
    const recipients = phones.length > 0 ? { recipients: phones } : {}
    try {
      await this.client.putBlob(spaceId, blobId, bytes, recipients)
    } catch (err) {
      if (!(err instanceof SignalError && err.code === "QUOTA_EXCEEDED")) throw err
      await this.deleteAtRelay({ needBytes: bytes.length })
      await this.client.putBlob(spaceId, blobId, bytes, recipients)
    }
    if (Date.now() - this.relayPrunedAt > 3600_000) {
      this.relayPrunedAt = Date.now()
      await this.deleteAtRelay({}).catch((err: unknown) =>
        this.log.warn({ err: describe(err) }, "could not delete old clips at signal"),
      )
    }
  }

  /**
   * Deletes, oldest first, the space's blobs at signal older than the retention, and as many more as it
   * takes to free `needBytes` under the quota. Only the hub may delete for everyone (phones drop their own
   * claim only), so this is what keeps the relay's quota from refusing new clips.
   */
  private async deleteAtRelay(options: { needBytes?: number }) {
    const spaceId = this.ledger.spaceId
    const retentionMs = this.opts.relayRetentionMs ?? 30 * 24 * 3600_000
    let cursor: string | undefined
    let deleted = 0
    let free: number | undefined
    for (let page = 0; page < 100; page++) {
      const listed = await this.client.listBlobs(spaceId, { cursor, limit: 100 })
      free ??= listed.quotaBytes - listed.usedBytes
      for (const blob of listed.blobs) {
        const old = Date.now() - blob.createdAt > retentionMs
        const short = options.needBytes !== undefined && free < options.needBytes
        if (!old && !short) {
          if (deleted > 0) this.log.info({ deleted }, "deleted old clips at signal")
          return
        }
        await this.client.deleteBlob(spaceId, blob.blobId).catch((err: unknown) => {
          if (!(err instanceof SignalError && err.status === 404)) throw err
        })
        free += blob.size
        deleted++
      }
      if (listed.nextCursor === null) break
      cursor = listed.nextCursor
    }
    if (deleted > 0) this.log.info({ deleted }, "deleted old clips at signal")
  }

  /**
   * Uploaded media stays on the hub too (still encrypted), so the relay's retention is not the only copy:
   * kept under a byte quota and a maximum age, oldest removed first.
   */
  async keepLocally(path: string, blobId: string) {
    const dir = join(this.opts.dataDir, "clips")
    await mkdir(dir, { recursive: true })
    await rename(path, join(dir, `${blobId}.vclip`))
    const quota = this.opts.localQuotaBytes ?? 2 * 1024 ** 3
    const maxAge = this.opts.localRetentionMs ?? 30 * 24 * 3600_000
    const files = await Promise.all(
      (await readdir(dir)).map(async (name) => ({ path: join(dir, name), ...(await stat(join(dir, name))) })),
    )
    files.sort((a, b) => a.mtimeMs - b.mtimeMs)
    let total = files.reduce((sum, f) => sum + f.size, 0)
    for (const f of files) {
      if (total <= quota && Date.now() - f.mtimeMs <= maxAge) break
      await rm(f.path, { force: true })
      total -= f.size
    }
  }
}
