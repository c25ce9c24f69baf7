/**
 * Writes the media framing test vectors from fixed inputs: `npx tsx protocol/test/vectors/generate.ts`.
 * Run it only when the wire format changes on purpose (and change docs/03-wire-format.md with it); the
 * tests check that today's code still produces and accepts exactly these bytes.
 */
import { writeFileSync } from "node:fs"
import { encryptClip, importClipKey } from "../../src/clipFraming.ts"
import { importFrameKey, protectFrame } from "../../src/frameFraming.ts"
import { fromHex, toHex } from "../../src/bytes.ts"
import type { ClipId } from "../../src/ids.ts"

/** Deterministic filler: byte i = (i * 31 + seed) mod 251. */
const filler = (length: number, seed: number) => Uint8Array.from({ length }, (_, i) => (i * 31 + seed) % 251)
const hex = (n: number, seed: number) => toHex(filler(n, seed))

const clipCases = [
  { name: "empty clip", clipId: hex(16, 1), secret: hex(28, 2), plaintextLength: 0, seed: 3 },
  { name: "one short chunk", clipId: hex(16, 4), secret: hex(28, 5), plaintextLength: 100, seed: 6 },
  { name: "two chunks, the last short", clipId: hex(16, 7), secret: hex(28, 8), plaintextLength: 65536 + 10, seed: 9 },
]

const clips = []
for (const c of clipCases) {
  const key = await importClipKey(c.clipId as ClipId, fromHex(c.secret))
  const plaintext = filler(c.plaintextLength, c.seed)
  clips.push({ ...c, plaintext: toHex(plaintext), blob: toHex(await encryptClip(key, plaintext)) })
}

const frameKeyInput = { streamId: 3, epoch: "17", secret: hex(28, 10) }
const fk = await importFrameKey(frameKeyInput.streamId, BigInt(frameKeyInput.epoch), fromHex(frameKeyInput.secret))
const frames = []
for (const [seq, keyframe, length] of [
  [0, true, 40],
  [1, false, 7],
  [5, false, 300],
] as const) {
  const payload = filler(length, seq + 20)
  const timestampUs = 1_763_000_000_000_000n + BigInt(seq) * 66_666n
  frames.push({
    seq: String(seq),
    keyframe,
    timestampUs: String(timestampUs),
    payload: toHex(payload),
    frame: toHex(await protectFrame(fk, { seq: BigInt(seq), keyframe, timestampUs }, payload)),
  })
}

const dir = new URL("./", import.meta.url)
writeFileSync(new URL("clip-framing.json", dir), JSON.stringify({ version: 1, cases: clips }, null, 2) + "\n")
writeFileSync(
  new URL("live-frame.json", dir),
  JSON.stringify({ version: 1, key: frameKeyInput, frames }, null, 2) + "\n",
)
