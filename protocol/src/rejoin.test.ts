import { describe, expect, it } from "vitest"
import { randomBytes, toHex } from "./bytes.ts"
import type { DeviceId, SpaceId } from "./ids.ts"
import { createRejoinRequest, isRejoinRequest, openRejoinRequest } from "./rejoin.ts"
import { loadSuite } from "./suite.ts"

const deviceId = toHex(randomBytes(16)) as DeviceId
const spaceId = toHex(randomBytes(16)) as SpaceId

describe("rejoin requests", () => {
  it("verify only under the device's pinned key, fresh, and not replayed", async () => {
    const { signature } = await loadSuite()
    const phone = await signature.keygen()
    const other = await signature.keygen()
    const now = 1_800_000_000_000
    const request = { deviceId, spaceId, keyPackage: randomBytes(300), issuedAt: now }
    const bytes = await createRejoinRequest(request, phone.signKey, signature)
    expect(isRejoinRequest(bytes)).toBe(true)

    const opened = await openRejoinRequest(bytes, () => phone.publicKey, signature, { now })
    expect(opened).toEqual(request)

    await expect(openRejoinRequest(bytes, () => other.publicKey, signature, { now })).rejects.toMatchObject({
      code: "SIGNATURE_INVALID",
    })
    await expect(openRejoinRequest(bytes, () => undefined, signature, { now })).rejects.toMatchObject({
      code: "NOT_A_MEMBER",
    })
    await expect(
      openRejoinRequest(bytes, () => phone.publicKey, signature, { now: now + 11 * 60_000 }),
    ).rejects.toMatchObject({ code: "REQUEST_STALE" })
    await expect(
      openRejoinRequest(bytes, () => phone.publicKey, signature, { now, notBefore: now }),
    ).rejects.toMatchObject({ code: "REQUEST_REPLAYED" })
    // Swapping in another key package breaks the signature.
    const swapped = JSON.parse(new TextDecoder().decode(bytes)) as Record<string, unknown>
    swapped.kp = "AAAA"
    await expect(
      openRejoinRequest(new TextEncoder().encode(JSON.stringify(swapped)), () => phone.publicKey, signature, {
        now,
      }),
    ).rejects.toMatchObject({ code: "SIGNATURE_INVALID" })
    await expect(
      openRejoinRequest(new TextEncoder().encode("{"), () => phone.publicKey, signature, { now }),
    ).rejects.toMatchObject({
      code: "CODEC_INVALID",
    })
  })
})
