/**
 * Offline alerts (issue 16), hub side on the in-memory relay: a camera reported offline reaches every phone
 * as a hub-signed message numbered with the announcements and as a push only the phones can read; the same
 * state twice is sent once; the hub remembers across a restart that it must still say the camera is back.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest"
import { decodePushText, exportPushSecret, fromUtf8, openPushPayload, type CameraId } from "@vigil/protocol"
import { memoryHousehold, type MemoryHousehold } from "./support/memoryHousehold.ts"
import type { RawPhone } from "./support/rawPhone.ts"

let home: MemoryHousehold
beforeEach(async () => {
  home = await memoryHousehold([{ id: "porch", name: "Porch" }], { webPush: true })
})
afterEach(() => home.close())

const status = (state: "offline" | "online", since: number) => ({
  cameraId: "porch" as CameraId,
  cameraName: "Porch",
  state,
  since,
})

async function cameraMessages(phone: RawPhone, count: number) {
  await vi.waitFor(
    async () => {
      await phone.follow()
      expect(phone.messages.filter((m) => m.kind === "camera-status")).toHaveLength(count)
    },
    { timeout: 15_000, interval: 100 },
  )
  return phone.messages.filter((m) => m.kind === "camera-status")
}

describe("offline alerts from the hub", () => {
  it("tells every phone once, by message and by push, and says when the camera is back after a restart", async () => {
    const [a, b] = await home.pairPhones(["A", "B"])
    const since = Date.now() - 300_000
    expect(await home.hub.deliverCameraStatus(status("offline", since))).toBe(true)
    expect(await home.hub.deliverCameraStatus(status("offline", since + 5000))).toBe(false)
    await home.hub.drained()
    for (const phone of [a!, b!]) {
      const [message] = await cameraMessages(phone, 1)
      expect(message).toMatchObject({ kind: "camera-status", cameraId: "porch", state: "offline", since })
      expect(message!.kind === "camera-status" && message!.seq).toBeGreaterThan(0)
    }

    // The push opens only with the phones' epoch key and says the same.
    await vi.waitFor(() => expect(home.relay.pushes).toHaveLength(1), { timeout: 15_000 })
    const payload = decodePushText(fromUtf8(home.relay.pushes[0]!.payload))
    const session = a!.session!
    const notice = await openPushPayload(payload, {
      secret: (await exportPushSecret(session)).secret,
      groupId: session.groupId,
      hubKey: session.members().find((m) => m.identity.role === "hub")!.signaturePublicKey,
      signature: session.signature,
    })
    expect(notice).toMatchObject({ kind: "camera-status", cameraName: "Porch", state: "offline", since })

    // After a restart the hub still knows the phones think the camera is offline.
    await home.reopen()
    expect(home.hub.offlineCameras).toEqual({ porch: since })
    expect(await home.hub.deliverCameraStatus(status("offline", since))).toBe(false)
    expect(await home.hub.deliverCameraStatus(status("online", Date.now()))).toBe(true)
    await home.hub.drained()
    const [, back] = await cameraMessages(a!, 2)
    expect(back).toMatchObject({ state: "online" })
    expect(home.hub.offlineCameras).toEqual({})
  })
})
