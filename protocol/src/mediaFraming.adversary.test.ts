/**
 * An active attacker who controls the relay (or the network) tampers with stored clips and live frames.
 * Every manipulation must be rejected with a typed error, and nothing unauthenticated may come out.
 */
import { describe, expect, it } from "vitest"
import { concatBytes, randomBytes, toHex } from "./bytes.ts"
import { ClipDecryptor, clipHeaderLength, decryptClip, encryptClip, importClipKey } from "./clipFraming.ts"
import { VigilError } from "./errors.ts"
import { FrameReceiver, frameHeaderLength, importFrameKey, protectFrame } from "./frameFraming.ts"
import type { ClipId } from "./ids.ts"

const chunk = 64 * 1024
const newClipId = () => toHex(randomBytes(16)) as ClipId
const clipKeyFor = (clipId: ClipId, secret = randomBytes(28)) => importClipKey(clipId, secret)

/** Splits an encrypted clip into its records (header + ciphertext). */
function records(blob: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = []
  let offset = 0
  while (offset < blob.length) {
    const len = new DataView(blob.buffer, blob.byteOffset + offset + 24, 4).getUint32(0)
    out.push(blob.slice(offset, offset + clipHeaderLength + len))
    offset += clipHeaderLength + len
  }
  return out
}

async function expectRejected(p: Promise<unknown>, code?: string) {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(err, "the manipulation was accepted").toBeInstanceOf(VigilError)
  if (code) expect((err as VigilError).code).toBe(code)
}

describe("clip framing under attack", () => {
  it("round-trips clips of every size class, including empty and exact chunk multiples", async () => {
    for (const size of [0, 1, chunk - 1, chunk, chunk + 1, 3 * chunk, 200_003]) {
      const key = await clipKeyFor(newClipId())
      const clip = randomBytes(size)
      expect(await decryptClip(key, await encryptClip(key, clip))).toEqual(clip)
    }
  })

  it("rejects a flipped bit anywhere: header, ciphertext or tag", async () => {
    const key = await clipKeyFor(newClipId())
    const blob = await encryptClip(key, randomBytes(2 * chunk + 100))
    // Every header byte of the first record, and a sample of positions through the rest.
    const positions = [...Array(clipHeaderLength).keys(), 40, 1000, chunk, chunk + 60, blob.length - 1]
    for (const pos of positions) {
      const tampered = blob.slice()
      tampered[pos]! ^= 0x01
      await expectRejected(decryptClip(key, tampered))
    }
  })

  it("rejects truncation at a chunk boundary and mid-chunk", async () => {
    const key = await clipKeyFor(newClipId())
    const blob = await encryptClip(key, randomBytes(3 * chunk))
    const recs = records(blob)
    await expectRejected(decryptClip(key, concatBytes(...recs.slice(0, 2))), "CLIP_TRUNCATED")
    await expectRejected(decryptClip(key, blob.subarray(0, blob.length - 7)), "CLIP_TRUNCATED")
    await expectRejected(decryptClip(key, new Uint8Array(0)), "CLIP_TRUNCATED")
  })

  it("rejects reordered, duplicated and dropped chunks", async () => {
    const key = await clipKeyFor(newClipId())
    const recs = records(await encryptClip(key, randomBytes(3 * chunk)))
    const [a, b, c] = recs as [Uint8Array, Uint8Array, Uint8Array]
    await expectRejected(decryptClip(key, concatBytes(b, a, c)), "CLIP_REORDERED")
    await expectRejected(decryptClip(key, concatBytes(a, a, b, c)), "CLIP_REORDERED")
    await expectRejected(decryptClip(key, concatBytes(a, c)), "CLIP_REORDERED")
    await expectRejected(decryptClip(key, concatBytes(a, b, c, c)), "CLIP_REORDERED")
  })

  it("rejects chunks spliced in from another clip, even under the same key material", async () => {
    const secret = randomBytes(28)
    const idA = newClipId()
    const idB = newClipId()
    const keyA = await clipKeyFor(idA, secret)
    const keyB = await clipKeyFor(idB, secret)
    const recsA = records(await encryptClip(keyA, randomBytes(2 * chunk)))
    const recsB = records(await encryptClip(keyB, randomBytes(2 * chunk)))
    await expectRejected(decryptClip(keyA, concatBytes(recsA[0]!, recsB[1]!)), "CLIP_WRONG_CLIP")
    // Rewriting the clip id in the header to match does not help: the header is authenticated data.
    const forged = recsB[1]!.slice()
    forged.set(recsA[0]!.subarray(4, 20), 4)
    await expectRejected(decryptClip(keyA, concatBytes(recsA[0]!, forged)), "CLIP_TAMPERED")
  })

  it("rejects a whole clip replayed under another clip's key", async () => {
    const blob = await encryptClip(await clipKeyFor(newClipId()), randomBytes(1000))
    await expectRejected(decryptClip(await clipKeyFor(newClipId()), blob), "CLIP_WRONG_CLIP")
  })

  it("never releases a chunk before its tag verified, and nothing after a failure", async () => {
    const key = await clipKeyFor(newClipId())
    const blob = await encryptClip(key, randomBytes(2 * chunk))
    const tampered = blob.slice()
    tampered[blob.length - 3]! ^= 0x80
    const d = new ClipDecryptor(key)
    const first = await d.push(tampered.subarray(0, clipHeaderLength + chunk + 16 + 10))
    expect(first).toHaveLength(1) // the first chunk is whole and authentic
    await expectRejected(d.push(tampered.subarray(clipHeaderLength + chunk + 16 + 10)), "CLIP_TAMPERED")
  })

  it("rejects oversized length fields without allocating them", async () => {
    const key = await clipKeyFor(newClipId())
    const blob = await encryptClip(key, randomBytes(100))
    const forged = blob.slice()
    new DataView(forged.buffer).setUint32(24, 0xffffffff)
    await expectRejected(decryptClip(key, forged), "CLIP_TAMPERED")
  })
})

describe("live frame framing under attack", () => {
  const setup = async () => {
    const secret = randomBytes(28)
    const sender = await importFrameKey(7, 42n, secret)
    const receiverKey = await importFrameKey(7, 42n, secret)
    const frames = await Promise.all(
      [0n, 1n, 2n, 3n].map((seq) =>
        protectFrame(
          sender,
          { seq, keyframe: seq === 0n, timestampUs: 1_700_000_000_000_000n + seq },
          randomBytes(5000),
        ),
      ),
    )
    return { sender, receiverKey, frames }
  }

  it("accepts frames in order, tolerates drops, and returns header metadata", async () => {
    const { receiverKey, frames } = await setup()
    const rx = new FrameReceiver(receiverKey)
    expect(await rx.open(frames[0]!)).toMatchObject({ seq: 0n, keyframe: true })
    expect(await rx.open(frames[2]!)).toMatchObject({ seq: 2n, keyframe: false })
    expect(await rx.open(frames[3]!)).toMatchObject({ seq: 3n, timestampUs: 1_700_000_000_000_003n })
  })

  it("rejects replayed and reordered frames", async () => {
    const { receiverKey, frames } = await setup()
    const rx = new FrameReceiver(receiverKey)
    await rx.open(frames[0]!)
    await rx.open(frames[2]!)
    await expectRejected(rx.open(frames[2]!), "FRAME_REPLAYED")
    await expectRejected(rx.open(frames[1]!), "FRAME_REPLAYED")
  })

  it("rejects a flipped bit in any header field, the payload or the tag", async () => {
    const { receiverKey, frames } = await setup()
    for (const pos of [
      2,
      4,
      8,
      15,
      16,
      23,
      24,
      31,
      frameHeaderLength,
      frameHeaderLength + 2500,
      frames[1]!.length - 1,
    ]) {
      const rx = new FrameReceiver(receiverKey)
      const tampered = frames[1]!.slice()
      tampered[pos]! ^= 0x01
      await expectRejected(rx.open(tampered))
    }
  })

  it("a forged frame cannot push the replay window ahead", async () => {
    const { receiverKey, frames } = await setup()
    const rx = new FrameReceiver(receiverKey)
    const forged = frames[1]!.slice()
    new DataView(forged.buffer).setBigUint64(16, 1_000_000n) // claims a far-future sequence number
    await expectRejected(rx.open(forged), "FRAME_TAMPERED")
    expect((await rx.open(frames[1]!)).seq).toBe(1n)
  })

  it("rejects frames of another stream or epoch, and truncated frames", async () => {
    const { sender, frames } = await setup()
    const secret = randomBytes(28)
    const other = await importFrameKey(8, 42n, secret)
    const otherFrame = await protectFrame(
      other,
      { seq: 0n, keyframe: true, timestampUs: 0n },
      randomBytes(10),
    )
    const rx = new FrameReceiver(await importFrameKey(7, 42n, secret))
    await expectRejected(rx.open(otherFrame), "FRAME_WRONG_STREAM")
    const rxEpoch = new FrameReceiver(await importFrameKey(7, 43n, randomBytes(28)))
    await expectRejected(rxEpoch.open(frames[0]!), "FRAME_WRONG_STREAM")
    await expectRejected(new FrameReceiver(sender).open(frames[0]!.subarray(0, 40)))
    await expectRejected(new FrameReceiver(sender).open(new Uint8Array(3)), "CODEC_INVALID")
  })
})
