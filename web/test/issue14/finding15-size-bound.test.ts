import "fake-indexeddb/auto"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import {
  concatBytes,
  encryptClip,
  importClipKey,
  randomBytes,
  sha256,
  toHex,
  type ClipId,
} from "@vigil/protocol"
import { decryptClipStream } from "../../src/features/player/clipStream.ts"
import { clipOf, startHarness, until, type Harness } from "./harness.ts"

/** A relay's body: the real blob, then as much more as it likes, counting what the page pulled. */
function endlessAfter(blob: Uint8Array, piece = 16 * 1024) {
  let at = 0
  const counter = { pulled: 0 }
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      const chunk = at < blob.length ? blob.slice(at, at + piece) : randomBytes(piece)
      at += chunk.length
      counter.pulled += chunk.length
      if (counter.pulled > 64 * 1024 * 1024) return controller.close() // old code would get here
      controller.enqueue(chunk)
    },
  })
  return { stream, counter }
}

describe("issue 14 finding 15: downloads stop at the hub-signed size", () => {
  // The player's stream was already cut short by its record checks (junk fails the next record); the size
  // is checked first now, on every read, whatever the bytes are.
  it("the streaming player stops at the signed size, on the read that passes it", async () => {
    const clipId = toHex(randomBytes(16)) as ClipId
    const key = await importClipKey(clipId, randomBytes(28))
    const blob = await encryptClip(key, randomBytes(100_000))
    const { stream, counter } = endlessAfter(concatBytes(blob, randomBytes(10)))
    const out: Uint8Array[] = []
    const run = async () => {
      for await (const p of decryptClipStream(stream, key, {
        blobId: toHex(await sha256(blob)),
        maxBytes: blob.length,
      }))
        out.push(p)
    }
    await expect(run()).rejects.toMatchObject({
      code: "CLIP_NOT_ANNOUNCED",
      message: expect.stringContaining("hub-signed size"),
    })
    expect(counter.pulled).toBeLessThanOrEqual(blob.length + 2 * 16 * 1024)
  })

  describe("the phone's whole-blob downloads (thumbnails, clips)", () => {
    let h: Harness
    beforeEach(async () => void (h = await startHarness()))
    afterEach(() => h.close())

    it("a clip or picture larger than the hub said is refused, not read to the end", async () => {
      const hub = await h.openHub()
      const { phone, store } = await h.pairPhone(hub, "f15-bound")
      const mp4 = randomBytes(300_000)
      const picture = randomBytes(30_000)
      await hub.deliverClip({ ...clipOf("person", mp4), thumbnail: picture })
      const [event] = await until(async () => {
        const list = await store.listEvents()
        return list.length ? list : undefined
      })
      // As signed, both load.
      expect(await phone.loadClip(event!)).toEqual(mp4)
      expect(await phone.loadThumbnail(event!)).toEqual(picture)
      // The relay serving more than the signed size looks, from the phone, like a smaller signed size.
      await expect(phone.loadClip({ ...event!, size: 1000 })).rejects.toMatchObject({
        code: "RELAY_BAD_RESPONSE",
      })
      await expect(
        phone.loadThumbnail({ ...event!, thumbnail: { ...event!.thumbnail!, size: 1000 } }),
      ).rejects.toMatchObject({ code: "RELAY_BAD_RESPONSE" })
    })
  })
})
