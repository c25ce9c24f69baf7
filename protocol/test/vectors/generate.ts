/**
 * Writes the media framing and sealed pairing notice test vectors from fixed inputs: `npx tsx protocol/test/vectors/generate.ts`.
 * Run it only when the wire format changes on purpose (and change docs/03-wire-format.md with it); the
 * tests check that today's code still produces and accepts exactly these bytes.
 */
import { writeFileSync } from "node:fs"
import { encryptClip, importClipKey } from "../../src/clipFraming.ts"
import { importFrameKey, protectFrame } from "../../src/frameFraming.ts"
import { fromHex, toHex } from "../../src/bytes.ts"
import type { ClipId, DeviceId, SpaceId } from "../../src/ids.ts"
import { sealPairingNotice, type PairingNotice } from "../../src/pairingApproval.ts"
import { loadSuite } from "../../src/suite.ts"

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

// A sealed pairing notice (docs/03-wire-format.md §4.1). Its nonce is random and the hub's key pair is made
// once here, so this vector checks opening (and refusing) exact bytes; sealing is checked by round trip.
const suite = await loadSuite()
const hubKeys = await suite.signature.keygen()
const groupId = filler(16, 30)
const notice: PairingNotice = {
  kind: "pairing-pending",
  spaceId: toHex(groupId) as SpaceId,
  roomId: hex(32, 31),
  deviceId: hex(16, 32) as DeviceId,
  deviceName: "Anna's phone",
  code: "493817",
  expiresAt: 1_763_000_060_000,
}
const exporter = { epoch: "42", secret: hex(16, 33) }
const session = {
  groupId,
  exportSecret: async () => ({ secret: fromHex(exporter.secret), epoch: BigInt(exporter.epoch) }),
}
writeFileSync(
  new URL("pairing-notice.json", dir),
  JSON.stringify(
    {
      version: 1,
      groupId: toHex(groupId),
      exporter,
      hubPublicKey: toHex(hubKeys.publicKey),
      hubSignKey: toHex(hubKeys.signKey),
      notice,
      sealed: toHex(await sealPairingNotice(notice, session, hubKeys.signKey, suite.signature)),
    },
    null,
    2,
  ) + "\n",
)
