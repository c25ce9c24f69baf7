import { afterEach, beforeEach, describe, expect, it } from "vitest"
import {
  bearer,
  createSpaceWithMember,
  expectError,
  octets,
  startTestRelay,
  type TestDevice,
  type TestRelay,
} from "./harness.ts"

interface WireMessage {
  seq: number
  from: string
  sentAt: number
  body: string
}

let relay: TestRelay
beforeEach(async () => {
  relay = await startTestRelay({ config: { maxMessageBytes: 1024 } })
})
afterEach(async () => {
  await relay.close()
})

async function send(from: TestDevice, to: TestDevice, body: Uint8Array): Promise<Response> {
  return fetch(`${relay.url}/v1/devices/${to.deviceId}/mailbox`, {
    method: "POST",
    headers: octets(from),
    body,
  })
}

async function read(device: TestDevice, query = "", init: RequestInit = {}): Promise<WireMessage[]> {
  const res = await fetch(`${relay.url}/v1/mailbox${query}`, { ...init, headers: bearer(device) })
  expect(res.status).toBe(200)
  return ((await res.json()) as { messages: WireMessage[] }).messages
}

async function ack(device: TestDevice, upTo: number): Promise<void> {
  const res = await fetch(`${relay.url}/v1/mailbox/ack`, {
    method: "POST",
    headers: { ...bearer(device), "content-type": "application/json" },
    body: JSON.stringify({ upTo }),
  })
  expect(res.status).toBe(204)
}

async function waitUntil(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !condition(); i++) await new Promise((r) => setTimeout(r, 5))
  expect(condition()).toBe(true)
}

describe("mailbox", () => {
  it("delivers messages in order with increasing seq, base64 bodies, sender and time", async () => {
    const { hub, phone } = await createSpaceWithMember(relay)
    const seqs: number[] = []
    for (const n of [1, 2, 3]) {
      const res = await send(hub, phone, new Uint8Array([n, n, n]))
      expect(res.status).toBe(201)
      seqs.push(((await res.json()) as { seq: number }).seq)
    }
    expect(seqs).toEqual([1, 2, 3])
    // The other direction works too, with its own sequence.
    expect(await (await send(phone, hub, new Uint8Array([9]))).json()).toEqual({ seq: 1 })

    const messages = await read(phone)
    expect(messages.map((m) => m.seq)).toEqual([1, 2, 3])
    expect(messages.map((m) => Buffer.from(m.body, "base64").toString("hex"))).toEqual([
      "010101",
      "020202",
      "030303",
    ])
    expect(messages.every((m) => m.from === hub.deviceId && Number.isInteger(m.sentAt))).toBe(true)
    expect((await read(phone, "?after=2")).map((m) => m.seq)).toEqual([3])
  })

  it("deletes acknowledged messages and never reuses a seq", async () => {
    const { hub, phone } = await createSpaceWithMember(relay)
    for (const n of [1, 2, 3]) await send(hub, phone, new Uint8Array([n]))
    await ack(phone, 2)
    expect((await read(phone)).map((m) => m.seq)).toEqual([3])
    await ack(phone, 3)
    expect(await read(phone)).toEqual([])
    expect(await (await send(hub, phone, new Uint8Array([4]))).json()).toEqual({ seq: 4 })
  })

  it("wakes a long poll when a message arrives", async () => {
    const { hub, phone } = await createSpaceWithMember(relay)
    const started = Date.now()
    const polling = read(phone, "?after=0&wait=20000")
    await waitUntil(() => relay.notifier.listenerCount === 1)
    expect((await send(hub, phone, new Uint8Array([42]))).status).toBe(201)
    const messages = await polling
    expect(messages.map((m) => m.body)).toEqual([Buffer.from([42]).toString("base64")])
    expect(Date.now() - started).toBeLessThan(10_000)
    expect(relay.notifier.listenerCount).toBe(0)
  })

  it("ends an idle long poll empty after the wait", async () => {
    const { phone } = await createSpaceWithMember(relay)
    const started = Date.now()
    expect(await read(phone, "?wait=200")).toEqual([])
    expect(Date.now() - started).toBeGreaterThanOrEqual(190)
    expect(relay.notifier.listenerCount).toBe(0)
  })

  it("removes the listener when the polling client disconnects", async () => {
    const { phone } = await createSpaceWithMember(relay)
    const controller = new AbortController()
    const polling = fetch(`${relay.url}/v1/mailbox?wait=20000`, {
      headers: bearer(phone),
      signal: controller.signal,
    })
    await waitUntil(() => relay.notifier.listenerCount === 1)
    controller.abort()
    await expect(polling).rejects.toThrow()
    await waitUntil(() => relay.notifier.listenerCount === 0)
  })

  it("caps message size and rejects empty messages", async () => {
    const { hub, phone } = await createSpaceWithMember(relay)
    await expectError(await send(hub, phone, new Uint8Array(1025)), 413, "TOO_LARGE")
    expect((await send(hub, phone, new Uint8Array(1024))).status).toBe(201)
    await expectError(await send(hub, phone, new Uint8Array(0)), 400, "VALIDATION")
  })

  it("validates the ack body", async () => {
    const { phone } = await createSpaceWithMember(relay)
    for (const body of ["{}", '{"upTo":-1}', '{"upTo":1.5}', '{"upTo":"3"}', "[]"]) {
      const res = await fetch(`${relay.url}/v1/mailbox/ack`, {
        method: "POST",
        headers: { ...bearer(phone), "content-type": "application/json" },
        body,
      })
      await expectError(res, 400, "VALIDATION")
    }
  })
})

describe("mailbox limits", () => {
  it("answers 429 MAILBOX_FULL past maxMailboxMessages", async () => {
    const small = await startTestRelay({ config: { maxMailboxMessages: 2 } })
    try {
      const { hub, phone } = await createSpaceWithMember(small)
      const post = () =>
        fetch(`${small.url}/v1/devices/${phone.deviceId}/mailbox`, {
          method: "POST",
          headers: octets(hub),
          body: new Uint8Array([1]),
        })
      expect((await post()).status).toBe(201)
      expect((await post()).status).toBe(201)
      await expectError(await post(), 429, "MAILBOX_FULL")
    } finally {
      await small.close()
    }
  })
})
