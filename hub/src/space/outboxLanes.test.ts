import { describe, expect, it } from "vitest"
import type { OutboxEntry } from "./hubState.ts"
import { excessMail, OutboxLanes, PassBlocks } from "./outboxLanes.ts"

const b = "b".repeat(32)
const c = "c".repeat(32)
const mail = (id: number, to: string): OutboxEntry => ({ id, kind: "mail", to, body: "AA==" })
const blob = (id: number): OutboxEntry => ({ id, kind: "blob", blobId: "f".repeat(64), path: "/x" })

describe("issue 14 finding 3: outbox lanes", () => {
  it("holds back only the stuck device's later mail, lets its revoke through, and mail waits for blobs", () => {
    const blocks = new PassBlocks()
    blocks.holdBack(mail(1, b)) // B's mailbox is full
    expect(blocks.mustWait(mail(2, b))).toBe(true)
    expect(blocks.mustWait(mail(3, c))).toBe(false)
    expect(blocks.mustWait({ id: 4, kind: "revoke", deviceId: b })).toBe(false)
    blocks.holdBack({ id: 5, kind: "grant", deviceId: c })
    expect(blocks.mustWait({ id: 6, kind: "revoke", deviceId: c })).toBe(true)
    blocks.holdBack(blob(7))
    expect(blocks.mustWait(mail(8, "d".repeat(32)))).toBe(true)
    expect(blocks.mustWait(blob(9))).toBe(true)
  })

  it("backs off per lane, doubling to 30 s", () => {
    const lanes = new OutboxLanes()
    lanes.failed("device:b", "recipient", 0)
    expect(lanes.waiting("device:b", 499)).toBe(true)
    expect(lanes.waiting("device:c", 0)).toBe(false)
    expect(lanes.stalledByRecipient("device:b")).toBe(true)
    for (let i = 0; i < 20; i++) lanes.failed("device:b", "recipient", 0)
    expect(lanes.nextRetryAt()).toBe(30_000)
    lanes.succeeded("device:b")
    expect(lanes.nextRetryAt()).toBeUndefined()
  })

  it("finds the oldest mail past the per-device cap", () => {
    const outbox = [
      mail(1, b),
      mail(2, c),
      mail(3, b),
      mail(4, b),
      { id: 5, kind: "revoke", deviceId: b } as const,
    ]
    expect([...excessMail(outbox, 2)]).toEqual([1])
  })
})
