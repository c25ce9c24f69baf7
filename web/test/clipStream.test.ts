import { describe, expect, it } from "vitest"
import {
  clipChunkSize,
  clipHeaderLength,
  clipRecordHashes,
  concatBytes,
  encryptClip,
  importClipKey,
  randomBytes,
  sha256,
  toHex,
  type ClipId,
  type ClipKey,
} from "@vigil/protocol"
import { decryptClipStream } from "../src/features/player/clipStream.ts"

const recordLength = clipHeaderLength + clipChunkSize + 16

/** A body that delivers `bytes` in pieces of the given sizes (cycled), as a network would. */
function bodyOf(bytes: Uint8Array, sizes: number[]): ReadableStream<Uint8Array> & { cancelled: boolean } {
  let at = 0
  let i = 0
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (at >= bytes.length) return controller.close()
      const n = sizes[i++ % sizes.length]!
      controller.enqueue(bytes.slice(at, at + n))
      at += n
    },
    cancel() {
      out.cancelled = true
    },
  })
  const out = Object.assign(stream, { cancelled: false })
  return out
}

async function collect(
  stream: AsyncIterable<Uint8Array>,
): Promise<{ chunks: Uint8Array[]; error?: unknown }> {
  const chunks: Uint8Array[] = []
  try {
    for await (const c of stream) chunks.push(c)
    return { chunks }
  } catch (error) {
    return { chunks, error }
  }
}

async function fixture(size = clipChunkSize * 3 + 1234) {
  const clipId = toHex(randomBytes(16)) as ClipId
  const key: ClipKey = await importClipKey(clipId, randomBytes(28))
  const plain = randomBytes(size)
  const blob = await encryptClip(key, plain)
  return { key, plain, blob, blobId: toHex(await sha256(blob)) }
}

describe("decryptClipStream", () => {
  it("yields the plaintext record by record, whatever the network's piece sizes", async () => {
    const { key, plain, blob, blobId } = await fixture()
    for (const sizes of [[1], [7, 1000, 65_536], [blob.length]]) {
      const seen: number[] = []
      const { chunks, error } = await collect(
        decryptClipStream(bodyOf(blob, sizes), key, { blobId, onBytes: (n) => seen.push(n) }),
      )
      expect(error).toBeUndefined()
      expect(chunks).toHaveLength(4)
      expect(concatBytes(...chunks)).toEqual(plain)
      expect(seen.at(-1)).toBe(blob.length)
    }
  }, 60_000)

  it("yields each record only after it verified: the first record comes before the rest arrived", async () => {
    const { key, blob } = await fixture()
    const it = decryptClipStream(bodyOf(blob, [recordLength, recordLength, blob.length]), key)
    const first = await it.next()
    expect(first.value).toHaveLength(clipChunkSize)
    await it.return()
  })

  it("fails a truncated clip, at a record boundary or inside a record", async () => {
    const { key, blob } = await fixture()
    for (const cut of [recordLength * 2, recordLength * 2 + 100, blob.length - 1]) {
      const { chunks, error } = await collect(decryptClipStream(bodyOf(blob.slice(0, cut), [4096]), key))
      expect(error).toMatchObject({ code: "CLIP_TRUNCATED" })
      expect(chunks).toHaveLength(Math.floor(cut / recordLength))
    }
  })

  it("fails reordered records without yielding the moved one", async () => {
    const { key, blob } = await fixture()
    const r = (i: number) => blob.slice(i * recordLength, (i + 1) * recordLength)
    const swapped = concatBytes(r(0), r(2), r(1), blob.slice(3 * recordLength))
    const { chunks, error } = await collect(decryptClipStream(bodyOf(swapped, [5000]), key))
    expect(error).toMatchObject({ code: "CLIP_REORDERED" })
    expect(chunks).toHaveLength(1)
  })

  it("stops at a tampered record: the records before it, never it or anything after", async () => {
    const { key, blob } = await fixture()
    const tampered = blob.slice()
    tampered[recordLength * 2 + clipHeaderLength + 10]! ^= 0x01
    const body = bodyOf(tampered, [3000])
    const { chunks, error } = await collect(decryptClipStream(body, key))
    expect(error).toMatchObject({ code: "CLIP_TAMPERED" })
    expect(chunks).toHaveLength(2)
    // The download is cancelled instead of read to the end.
    expect(body.cancelled).toBe(true)
  })

  it("fails a first record that was altered: nothing at all is yielded", async () => {
    const { key, blob } = await fixture()
    const tampered = blob.slice()
    tampered[clipHeaderLength + 1]! ^= 0x80
    const { chunks, error } = await collect(decryptClipStream(bodyOf(tampered, [blob.length]), key))
    expect(error).toMatchObject({ code: "CLIP_TAMPERED" })
    expect(chunks).toHaveLength(0)
  })

  it("with the hub's record list, yields no record a member forged with the shared clip key", async () => {
    const { key, plain, blob } = await fixture()
    const recordHashes = (await clipRecordHashes(blob))!
    expect(recordHashes).toHaveLength(4 * 32)
    // The hub's own clip streams whole.
    const ok = await collect(decryptClipStream(bodyOf(blob, [5000]), key, { recordHashes }))
    expect(ok.error).toBeUndefined()
    expect(concatBytes(...ok.chunks)).toEqual(plain)

    // A member (it holds the clip key) seals other video of its own under the same key and clip id: every
    // record verifies under AES-GCM, so without the list the forged first records would play.
    const forgedPlain = plain.slice()
    forgedPlain.fill(7, clipChunkSize, clipChunkSize * 2)
    const forged = await encryptClip(key, forgedPlain)
    const unchecked = await collect(decryptClipStream(bodyOf(forged, [5000]), key))
    expect(unchecked.error).toBeUndefined()
    const checked = await collect(decryptClipStream(bodyOf(forged, [5000]), key, { recordHashes }))
    expect(checked.error).toMatchObject({ code: "CLIP_NOT_ANNOUNCED" })
    expect(checked.chunks).toHaveLength(1) // record 0 is the hub's; record 1 never comes out

    // A list that ends early (the clip was cut to fewer records, or a record was added) fails too.
    const short = recordHashes.subarray(0, 3 * 32)
    const cut = await collect(decryptClipStream(bodyOf(blob, [5000]), key, { recordHashes: short }))
    expect(cut.error).toMatchObject({ code: "CLIP_NOT_ANNOUNCED" })
    expect(cut.chunks).toHaveLength(2)
  })

  it("fails a well-formed clip that is not the announced blob, after the last record", async () => {
    const { key, blob } = await fixture()
    const { error } = await collect(
      decryptClipStream(bodyOf(blob, [blob.length]), key, { blobId: "00".repeat(32) }),
    )
    expect(error).toMatchObject({ code: "CLIP_NOT_ANNOUNCED" })
  })
})
