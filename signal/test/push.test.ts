import { randomBytes } from "node:crypto"
import { afterEach, describe, expect, it } from "vitest"
import type { PushSender, PushSendResult } from "../src/push/pushSender.ts"
import type { PushSubscriptionRecord } from "../src/store/metaStore.ts"
import {
  bearer,
  createSpaceWithMember,
  expectError,
  register,
  startTestRelay,
  type TestDevice,
  type TestRelay,
  enroll,
} from "./harness.ts"

/** Records what would have been pushed; answers with the status queued for each endpoint. */
class FakePushSender implements PushSender {
  readonly sent: { endpoint: string; payload: Uint8Array; ttlSeconds: number; urgency: string }[] = []
  readonly answers = new Map<string, PushSendResult>()
  async send(
    subscription: PushSubscriptionRecord,
    payload: Uint8Array,
    options: { ttlSeconds: number; urgency: string },
  ): Promise<PushSendResult> {
    this.sent.push({ endpoint: subscription.endpoint, payload, ...options })
    return this.answers.get(subscription.endpoint) ?? { kind: "sent" }
  }
}

const publicKey = "B".repeat(87)
/** The operator enables push by naming the services; a fictitious one stands in here. */
const pushConfig = { pushHosts: ["push.example"] }
let relay: TestRelay | undefined
afterEach(async () => {
  await relay?.close()
  relay = undefined
})

const subscription = (id: string) => ({
  endpoint: `https://push.example/send/${id}`,
  expirationTime: null,
  keys: {
    p256dh: Buffer.concat([Buffer.from([4]), randomBytes(64)]).toString("base64url"),
    auth: randomBytes(16).toString("base64url"),
  },
})

function subscribe(r: TestRelay, device: TestDevice, body: unknown): Promise<Response> {
  return fetch(`${r.url}/v1/push/subscription`, {
    method: "PUT",
    headers: { ...bearer(device), "content-type": "application/json" },
    body: JSON.stringify(body),
  })
}

function push(r: TestRelay, spaceId: string, device: TestDevice, body: unknown): Promise<Response> {
  return fetch(`${r.url}/v1/spaces/${spaceId}/push`, {
    method: "POST",
    headers: { ...bearer(device), "content-type": "application/json" },
    body: JSON.stringify(body),
  })
}

describe("web push", () => {
  it("hands out the VAPID key and pushes the opaque payload to the space's subscribed phones", async () => {
    const sender = new FakePushSender()
    relay = await startTestRelay({ push: { sender, publicKey }, config: pushConfig })
    const { hub, phone, spaceId } = await createSpaceWithMember(relay)
    const other = await register(relay, "phone")
    await enroll(relay, hub, spaceId, other)
    const stranger = await register(relay, "phone")

    expect(await (await fetch(`${relay.url}/v1/push/vapid-public-key`)).json()).toEqual({ publicKey })
    for (const [device, id] of [
      [phone, "phone"],
      [other, "other"],
      [stranger, "stranger"],
    ] as const) {
      expect((await subscribe(relay, device, subscription(id))).status).toBe(204)
    }

    const payload = randomBytes(3072)
    const res = await push(relay, spaceId, hub, { payload: payload.toString("base64"), ttlSeconds: 60 })
    expect(await res.json()).toEqual({ sent: 2, removed: 0, failed: 0 })
    expect(sender.sent.map((s) => s.endpoint.split("/").at(-1)).sort()).toEqual(["other", "phone"])
    expect(Buffer.from(sender.sent[0]!.payload).equals(payload)).toBe(true)
    expect(sender.sent[0]).toMatchObject({ ttlSeconds: 60, urgency: "high" })

    sender.sent.length = 0
    const targeted = await push(relay, spaceId, hub, {
      payload: "AQ==",
      to: [phone.deviceId, stranger.deviceId],
    })
    expect(await targeted.json()).toEqual({ sent: 1, removed: 0, failed: 0 })
    expect(sender.sent.map((s) => s.endpoint.split("/").at(-1))).toEqual(["phone"])
  })

  it("removes subscriptions the push service reports gone (404, 410)", async () => {
    const sender = new FakePushSender()
    relay = await startTestRelay({ push: { sender, publicKey }, config: pushConfig })
    const { hub, phone, spaceId } = await createSpaceWithMember(relay)
    const other = await register(relay, "phone")
    const third = await register(relay, "phone")
    for (const d of [other, third]) {
      await enroll(relay, hub, spaceId, d)
    }
    await subscribe(relay, phone, subscription("gone"))
    await subscribe(relay, other, subscription("flaky"))
    await subscribe(relay, third, subscription("fine"))
    sender.answers.set("https://push.example/send/gone", { kind: "gone" })
    sender.answers.set("https://push.example/send/flaky", { kind: "failed", statusCode: 500 })

    expect(await (await push(relay, spaceId, hub, { payload: "AQ==" })).json()).toEqual({
      sent: 1,
      removed: 1,
      failed: 1,
    })
    expect(await relay.store.listPushSubscriptions([phone.deviceId as never])).toEqual([])
    expect(await relay.store.listPushSubscriptions([other.deviceId as never])).toHaveLength(1)
    sender.sent.length = 0
    expect(await (await push(relay, spaceId, hub, { payload: "AQ==" })).json()).toEqual({
      sent: 1,
      removed: 0,
      failed: 1,
    })
    const metrics = await (await fetch(`${relay.url}/metrics`)).text()
    expect(metrics).toContain('signal_push_total{result="gone"} 1')
  })

  it("validates subscriptions and push requests, and lets only the owner push", async () => {
    relay = await startTestRelay({ push: { sender: new FakePushSender(), publicKey }, config: pushConfig })
    const { hub, phone, spaceId } = await createSpaceWithMember(relay)
    const outsider = await register(relay, "hub")
    const good = subscription("x")
    for (const bad of [
      { ...good, endpoint: "https://127.0.0.1/internal" },
      { ...good, endpoint: "http://push.example/send/x" },
      { ...good, keys: { ...good.keys, p256dh: "AAAA" } },
      { ...good, keys: { auth: good.keys.auth } },
      { endpoint: 5 },
    ]) {
      await expectError(await subscribe(relay, phone, bad), 400, "VALIDATION")
    }
    expect(
      (await fetch(`${relay.url}/v1/push/subscription`, { method: "DELETE", headers: bearer(phone) })).status,
    ).toBe(204)

    await expectError(await push(relay, spaceId, phone, { payload: "AQ==" }), 403, "FORBIDDEN")
    await expectError(await push(relay, spaceId, outsider, { payload: "AQ==" }), 404, "NOT_FOUND")
    await expectError(
      await push(relay, spaceId, hub, { payload: randomBytes(3073).toString("base64") }),
      413,
      "TOO_LARGE",
    )
    await expectError(await push(relay, spaceId, hub, { payload: "" }), 400, "VALIDATION")
    await expectError(await push(relay, spaceId, hub, { payload: "AQ==", urgency: "now" }), 400, "VALIDATION")
    await expectError(await push(relay, spaceId, hub, { payload: "AQ==", ttlSeconds: -1 }), 400, "VALIDATION")
  })

  it("answers 404 when the relay runs without push", async () => {
    relay = await startTestRelay()
    const phone = await register(relay, "phone")
    await expectError(await fetch(`${relay.url}/v1/push/vapid-public-key`), 404, "NOT_FOUND")
    await expectError(await subscribe(relay, phone, subscription("x")), 404, "NOT_FOUND")
  })

  it("stays off with a sender but no push services named by the operator (the default)", async () => {
    relay = await startTestRelay({ push: { sender: new FakePushSender(), publicKey } })
    const phone = await register(relay, "phone")
    await expectError(await fetch(`${relay.url}/v1/push/vapid-public-key`), 404, "NOT_FOUND")
    await expectError(await subscribe(relay, phone, subscription("x")), 404, "NOT_FOUND")
  })
})
