/**
 * The checked-in media framing vectors as a suite that any AES-GCM provider must pass: today's code must
 * produce exactly these bytes and accept them, and refuse them once tampered. The web's provider
 * (WebCrypto) runs it in Node and Chromium; the hub's (node:crypto) runs it in hub/test.
 */
import { describe, expect, it } from "vitest"
import clipVectors from "./vectors/clip-framing.json"
import frameVectors from "./vectors/live-frame.json"
import noticeVector from "./vectors/pairing-notice.json"
import type { AeadProvider } from "../src/aead.ts"
import { decryptClip, encryptClip, importClipKey } from "../src/clipFraming.ts"
import { FrameReceiver, importFrameKey, protectFrame } from "../src/frameFraming.ts"
import { fromHex, toHex } from "../src/bytes.ts"
import { VigilError } from "../src/errors.ts"
import type { ClipId } from "../src/ids.ts"
import { openSealedPairingNotice, sealPairingNotice, type PairingNotice } from "../src/pairingApproval.ts"
import { loadSuite } from "../src/suite.ts"

export function describeFramingVectors(aead: AeadProvider) {
  describe(`clip framing vectors (${aead.name})`, () => {
    for (const v of clipVectors.cases) {
      const keyOf = () => importClipKey(v.clipId as ClipId, fromHex(v.secret), aead)

      it(`${v.name}: encrypts to the vector and decrypts back`, async () => {
        const plaintext = fromHex(v.plaintext)
        expect(plaintext.length).toBe(v.plaintextLength)
        expect(toHex(await encryptClip(await keyOf(), plaintext))).toBe(v.blob)
        expect(toHex(await decryptClip(await keyOf(), fromHex(v.blob)))).toBe(v.plaintext)
      })

      it(`${v.name}: refuses the vector with its last byte flipped`, async () => {
        const blob = fromHex(v.blob)
        blob[blob.length - 1]! ^= 1
        await expect(decryptClip(await keyOf(), blob)).rejects.toBeInstanceOf(VigilError)
      })
    }
  })

  describe(`live frame vectors (${aead.name})`, () => {
    const keyOf = () =>
      importFrameKey(
        frameVectors.key.streamId,
        BigInt(frameVectors.key.epoch),
        fromHex(frameVectors.key.secret),
        aead,
      )

    it("protects each frame to the vector bytes", async () => {
      const fk = await keyOf()
      for (const f of frameVectors.frames) {
        const meta = { seq: BigInt(f.seq), keyframe: f.keyframe, timestampUs: BigInt(f.timestampUs) }
        expect(toHex(await protectFrame(fk, meta, fromHex(f.payload)))).toBe(f.frame)
      }
    })

    it("opens the vector frames in order with their metadata", async () => {
      const rx = new FrameReceiver(await keyOf())
      for (const f of frameVectors.frames) {
        const out = await rx.open(fromHex(f.frame))
        expect(toHex(out.data)).toBe(f.payload)
        expect(out.seq).toBe(BigInt(f.seq))
        expect(out.keyframe).toBe(f.keyframe)
        expect(out.timestampUs).toBe(BigInt(f.timestampUs))
      }
    })

    it("refuses a vector frame with a flipped header bit or payload bit", async () => {
      for (const pos of [12, 40]) {
        const frame = fromHex(frameVectors.frames[0]!.frame)
        frame[pos]! ^= 1
        await expect(new FrameReceiver(await keyOf()).open(frame)).rejects.toBeInstanceOf(VigilError)
      }
    })
  })

  describe(`sealed pairing notice vector (${aead.name})`, () => {
    const v = noticeVector
    const session = (epoch = v.exporter.epoch) => ({
      groupId: fromHex(v.groupId),
      exportSecret: async () => ({ secret: fromHex(v.exporter.secret), epoch: BigInt(epoch) }),
    })
    const open = async (bytes: Uint8Array, epoch?: string) =>
      openSealedPairingNotice(
        bytes,
        session(epoch),
        fromHex(v.hubPublicKey),
        (await loadSuite()).signature,
        aead,
      )

    it("opens the vector to its notice", async () => {
      expect(await open(fromHex(v.sealed))).toEqual(v.notice)
    })

    it("refuses the vector with a flipped byte, or in another epoch", async () => {
      const flipped = fromHex(v.sealed)
      flipped[flipped.length - 1]! ^= 1
      await expect(open(flipped)).rejects.toBeInstanceOf(VigilError)
      await expect(open(fromHex(v.sealed), "43")).rejects.toMatchObject({ code: "EPOCH_MISMATCH" })
    })

    it("seals a notice this provider's peer opens", async () => {
      const suite = await loadSuite()
      const sealed = await sealPairingNotice(
        v.notice as PairingNotice,
        session(),
        fromHex(v.hubSignKey),
        suite.signature,
        aead,
      )
      expect(sealed.length).toBe(fromHex(v.sealed).length)
      expect(await open(sealed)).toEqual(v.notice)
    })
  })
}
