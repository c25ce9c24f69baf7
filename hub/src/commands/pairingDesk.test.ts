import { describe, expect, it } from "vitest"
import type { DeviceId } from "@vigil/protocol"
import type { DiscoveryRequest } from "../space/hubSpace.ts"
import { PairingDesk } from "./pairingDesk.ts"

const request: DiscoveryRequest = {
  deviceId: "ab".repeat(16) as DeviceId,
  deviceName: "Phone A",
  code: "123456",
} as DiscoveryRequest

describe("PairingDesk", () => {
  it("hands the open question to a client attached later, and takes its answer", async () => {
    const desk = new PairingDesk(() => {}, undefined)
    const answered = desk.confirm(request, new AbortController().signal)
    const first = await desk.next(-1, 0)
    expect(first.events).toEqual([
      { kind: "question", id: expect.any(String), deviceName: "Phone A", code: "123456" },
    ])
    const id = (first.events[0] as { id: string }).id
    expect(desk.answer("not-the-id", true)).toBe(false)
    expect(desk.answer(id, true)).toBe(true)
    await expect(answered).resolves.toBe(true)
    // A second answer to the same question is refused: the first one won.
    expect(desk.answer(id, false)).toBe(false)
    const later = await desk.next(first.cursor, 0)
    expect(later.events).toEqual([{ kind: "answered", id, accepted: true, by: "by hub pair" }])
  })

  it("resolves no when the request ends unanswered, and wakes a waiting client", async () => {
    const desk = new PairingDesk(() => {}, undefined)
    const { cursor } = await desk.next(-1, 0)
    const waiting = desk.next(cursor, 5000)
    const abort = new AbortController()
    const answered = desk.confirm(request, abort.signal)
    expect((await waiting).events[0]).toMatchObject({ kind: "question", code: "123456" })
    abort.abort()
    await expect(answered).resolves.toBe(false)
  })
})
