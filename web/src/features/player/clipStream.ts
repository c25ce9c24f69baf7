import { ClipDecryptor, concatBytes, CryptoError, sha256, toHex, type ClipKey } from "@vigil/protocol"

const minPush = 16 * 1024

function join(parts: Uint8Array[]): Uint8Array {
  return parts.length === 1 ? parts[0]! : concatBytes(...parts)
}

export interface DecryptStreamOptions {
  /** SHA-256 (hex) the whole ciphertext must have: the blob id the hub signed. Checked at the end. */
  blobId?: string
  /** The hub-signed SHA-256 of each record (`clipRecordHashes`): each record is checked before it is opened. */
  recordHashes?: Uint8Array
  /** Called with the ciphertext bytes received so far, for progress. */
  onBytes?: (received: number) => void
  /**
   * The hub-signed size of the blob: the download stops, with a typed error, as soon as the relay sends
   * more (issue 14, finding 15), so an untrusted relay cannot make the page buffer without end.
   */
  maxBytes?: number
}

/**
 * Verifies and decrypts a clip's records as they download, yielding plaintext one verified record at a
 * time. Nothing is yielded before its AES-GCM tag checked out; records must come in order, for this clip,
 * and end with the final-flagged one (`ClipDecryptor`), so reordering, splicing, tampering and truncation
 * all end the stream with a typed `CryptoError` — after the verified records before the damage.
 */
export async function* decryptClipStream(
  body: ReadableStream<Uint8Array>,
  key: ClipKey,
  options: DecryptStreamOptions = {},
): AsyncGenerator<Uint8Array, void, undefined> {
  const decryptor = new ClipDecryptor(key, options.recordHashes)
  const ciphertext: Uint8Array[] = []
  let pending: Uint8Array[] = []
  let pendingBytes = 0
  let received = 0
  const reader = body.getReader()
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (!done) {
        received += value.length
        if (options.maxBytes !== undefined && received > options.maxBytes) {
          throw new CryptoError("CLIP_NOT_ANNOUNCED", "the relay sent more than the hub-signed size")
        }
        options.onBytes?.(received)
        pending.push(value)
        pendingBytes += value.length
        // Tiny network pieces are pooled first: the decryptor copies what it buffers on every push.
        if (pendingBytes < minPush) continue
      }
      if (pendingBytes > 0) {
        const piece = join(pending)
        pending = []
        pendingBytes = 0
        if (options.blobId !== undefined) ciphertext.push(piece)
        for (const plain of await decryptor.push(piece)) yield plain
      }
      if (done) break
    }
    decryptor.finish()
    if (options.blobId !== undefined && toHex(await sha256(join(ciphertext))) !== options.blobId) {
      throw new CryptoError("CLIP_NOT_ANNOUNCED", "the stored media is not what the hub announced")
    }
  } finally {
    // Stops the download when the consumer gives up or a record fails.
    await reader.cancel().catch(() => undefined)
  }
}
