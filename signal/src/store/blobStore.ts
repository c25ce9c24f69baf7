import type { Readable } from "node:stream"
import type { BlobId } from "../ids.ts"

/** Inclusive byte range, as in HTTP `Range: bytes=start-end`. */
export interface ByteRange {
  start: number
  end: number
}

/**
 * Content-addressed storage of ciphertext blobs: a blob's id is the SHA-256 of its bytes. The store
 * knows nothing of spaces; which space may read which blob lives in the MetaStore.
 */
export interface BlobStore {
  /**
   * Streams `body` into the store. Resolves only once the bytes are durable. Rejects with ApiError
   * TOO_LARGE past `maxBytes` and HASH_MISMATCH when the SHA-256 of the bytes is not `blobId`; in both
   * cases nothing is kept. Storing a blob that exists already is fine.
   */
  put(
    blobId: BlobId,
    body: AsyncIterable<Uint8Array>,
    options: { maxBytes: number },
  ): Promise<{ size: number }>
  /** Size of a stored blob, undefined when absent. */
  stat(blobId: BlobId): Promise<{ size: number } | undefined>
  /** Streams a stored blob, or the inclusive `range` of it. Rejects with ENOENT-like errors when absent. */
  read(blobId: BlobId, range?: ByteRange): Promise<Readable>
  /** Deletes a stored blob durably; deleting an absent one is fine. */
  delete(blobId: BlobId): Promise<void>
  /** Every stored blob id (for the orphan sweep); order unspecified. */
  list(): AsyncIterable<BlobId>
}
