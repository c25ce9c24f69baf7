/**
 * Clip encryption: a clip is cut into chunks, each sealed with AES-128-GCM under a key exported from the
 * MLS epoch in which the hub announced the clip (RFC 9420 §8.5 exporter, label `vigil clip v1`, context =
 * clip id). The header of every chunk is its associated data, so a chunk moved to another clip (splice),
 * another position (reorder), repeated (replay) or a clip cut short (truncation) fails to verify.
 *
 * Record layout (all integers big-endian), see docs/03-wire-format.md:
 *
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +---------------+---------------+---------------+---------------+
 * |  magic 0x56   |  version = 1  |  flags (F=1)  |  reserved = 0 |
 * +---------------+---------------+---------------+---------------+
 * |                                                               |
 * +                      clip id (16 bytes)                       +
 * |                                                               |
 * +---------------------------------------------------------------+
 * |                       chunk index (u32)                       |
 * +---------------------------------------------------------------+
 * |                    ciphertext length (u32)                    |
 * +---------------------------------------------------------------+
 * |          ciphertext (plaintext length + 16-byte tag)          |
 * +---------------------------------------------------------------+
 *
 * F marks the last chunk. Nonce = salt XOR (chunk index as a 96-bit big-endian integer).
 */
import {
  counterNonce,
  importMediaSecret,
  mediaSecretLength,
  type AeadProvider,
  type MediaKey,
} from "./aead.ts"
import { concatBytes, equalBytes, fromHex, sha256 } from "./bytes.ts"
import { CodecError, CryptoError } from "./errors.ts"
import type { ClipId } from "./ids.ts"

export const clipExporterLabel = "vigil clip v1"
/** Bytes taken from the exporter: 16 for the AES-128 key, 12 for the nonce salt. */
export const clipSecretLength = mediaSecretLength
export const clipChunkSize = 64 * 1024
export const clipHeaderLength = 28
const magic = 0x56
const version = 1
const flagFinal = 0x01
const tagLength = 16

export interface ClipKey extends MediaKey {
  clipId: ClipId
}

/** Imports the exported secret as an AES-128-GCM key (non-extractable under WebCrypto). */
export async function importClipKey(
  clipId: ClipId,
  secret: Uint8Array,
  aead?: AeadProvider,
): Promise<ClipKey> {
  return { clipId, ...(await importMediaSecret(secret, aead)) }
}

const nonceFor = (salt: Uint8Array, index: number) => counterNonce(salt, BigInt(index))

function encodeHeader(clipId: Uint8Array, index: number, final: boolean, ctLength: number): Uint8Array {
  const h = new Uint8Array(clipHeaderLength)
  const view = new DataView(h.buffer)
  h[0] = magic
  h[1] = version
  h[2] = final ? flagFinal : 0
  h.set(clipId, 4)
  view.setUint32(20, index)
  view.setUint32(24, ctLength)
  return h
}

/** Encrypts a whole clip into the record stream stored at signal. */
export async function encryptClip(clipKey: ClipKey, plaintext: Uint8Array): Promise<Uint8Array> {
  const clipId = fromHex(clipKey.clipId)
  const records: Uint8Array[] = []
  const chunkCount = Math.max(1, Math.ceil(plaintext.length / clipChunkSize))
  for (let index = 0; index < chunkCount; index++) {
    const chunk = plaintext.subarray(index * clipChunkSize, (index + 1) * clipChunkSize)
    const final = index === chunkCount - 1
    const header = encodeHeader(clipId, index, final, chunk.length + tagLength)
    records.push(header, await clipKey.key.seal(nonceFor(clipKey.salt, index), header, chunk))
  }
  return concatBytes(...records)
}

/** Bytes of one record's hash in a clip's record hash list. */
export const recordHashLength = 32
/** Most records a clip's announcement lists hashes for (2048 × 64 KiB = 128 MiB of video). */
export const maxListedRecords = 2048

/**
 * The hub's list of its records: SHA-256 of each record (header and ciphertext), concatenated in order.
 * Every member holds the clip key and could seal records of its own; the hub signs this list in the
 * announcement, so a phone that plays a clip as it downloads shows only records the hub made, each one
 * checked before it is decrypted (the blob's own hash can only be checked at the end). Undefined when the
 * clip has more than `maxListedRecords` records.
 */
export async function clipRecordHashes(blob: Uint8Array): Promise<Uint8Array | undefined> {
  const hashes: Uint8Array[] = []
  let offset = 0
  while (offset < blob.length) {
    if (hashes.length === maxListedRecords) return undefined
    const length = new DataView(blob.buffer, blob.byteOffset + offset, clipHeaderLength).getUint32(24)
    const end = offset + clipHeaderLength + length
    hashes.push(await sha256(blob.subarray(offset, end)))
    offset = end
  }
  return concatBytes(...hashes)
}

/**
 * Incremental decryptor: feed it bytes as they download, get verified plaintext chunks back in order.
 * Nothing is returned before its tag verified — and, given the hub's `recordHashes`, before the record
 * matched the hub's list; `finish()` fails unless the final chunk was seen.
 */
export class ClipDecryptor {
  private buffered: Uint8Array = new Uint8Array(0)
  private nextIndex = 0
  private done = false
  private readonly clipId: Uint8Array

  constructor(
    private readonly clipKey: ClipKey,
    private readonly recordHashes?: Uint8Array,
  ) {
    this.clipId = fromHex(clipKey.clipId)
    if (recordHashes && (recordHashes.length === 0 || recordHashes.length % recordHashLength !== 0)) {
      throw new CodecError("record hash list has a wrong size")
    }
  }

  async push(bytes: Uint8Array): Promise<Uint8Array[]> {
    this.buffered = this.buffered.length ? concatBytes(this.buffered, bytes) : bytes
    const out: Uint8Array[] = []
    while (this.buffered.length >= clipHeaderLength) {
      if (this.done) throw new CryptoError("CLIP_REORDERED", "data after the final chunk")
      const header = this.buffered.subarray(0, clipHeaderLength)
      const view = new DataView(header.buffer, header.byteOffset, header.byteLength)
      const ctLength = view.getUint32(24)
      if (
        header[0] !== magic ||
        header[1] !== version ||
        header[3] !== 0 ||
        (header[2]! & ~flagFinal) !== 0
      ) {
        throw new CryptoError("CLIP_TAMPERED", "chunk header is not a clip record")
      }
      if (ctLength < tagLength || ctLength > clipChunkSize + tagLength) {
        throw new CryptoError("CLIP_TAMPERED", "chunk length out of range")
      }
      if (this.buffered.length < clipHeaderLength + ctLength) break
      const index = view.getUint32(20)
      const final = (header[2]! & flagFinal) !== 0
      // Header fields are also authenticated as associated data; checking them first gives a precise error.
      if (!header.subarray(4, 20).every((b, i) => b === this.clipId[i])) {
        throw new CryptoError("CLIP_WRONG_CLIP", "chunk belongs to another clip")
      }
      if (index !== this.nextIndex) {
        throw new CryptoError("CLIP_REORDERED", `chunk ${index} where ${this.nextIndex} was expected`)
      }
      const ct = this.buffered.subarray(clipHeaderLength, clipHeaderLength + ctLength)
      if (this.recordHashes) {
        const listed = this.recordHashes.subarray(index * recordHashLength, (index + 1) * recordHashLength)
        const lastListed = (index + 1) * recordHashLength === this.recordHashes.length
        const actual = await sha256(this.buffered.subarray(0, clipHeaderLength + ctLength))
        if (listed.length !== recordHashLength || !equalBytes(listed, actual) || final !== lastListed) {
          throw new CryptoError("CLIP_NOT_ANNOUNCED", `chunk ${index} is not the one the hub announced`)
        }
      }
      try {
        out.push(await this.clipKey.key.open(nonceFor(this.clipKey.salt, index), header, ct))
      } catch (cause) {
        throw new CryptoError("CLIP_TAMPERED", `chunk ${index} failed authentication`, { cause })
      }
      this.buffered = this.buffered.subarray(clipHeaderLength + ctLength)
      this.nextIndex++
      if (final) this.done = true
    }
    return out
  }

  /** Call once all bytes were pushed: a clip without its final chunk was truncated. */
  finish(): void {
    if (!this.done) throw new CryptoError("CLIP_TRUNCATED", "clip ended before its final chunk")
    if (this.buffered.length > 0) throw new CryptoError("CLIP_REORDERED", "data after the final chunk")
  }
}

/** Decrypts a whole clip; throws a typed `CryptoError` on any tampering. */
export async function decryptClip(
  clipKey: ClipKey,
  blob: Uint8Array,
  recordHashes?: Uint8Array,
): Promise<Uint8Array> {
  const d = new ClipDecryptor(clipKey, recordHashes)
  const chunks = await d.push(blob)
  d.finish()
  return concatBytes(...chunks)
}
