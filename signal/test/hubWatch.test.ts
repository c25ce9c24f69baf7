/**
 * Silent-hub alerts (issue 16, signal/src/push/hubWatch.ts): a hub that stops making requests is reported
 * once by Web Push to its space's phones, never to itself or to strangers, and reported back on its next
 * request. Real timers, a 1.5 s threshold.
 */
import { randomBytes } from "node:crypto"
import { afterEach, describe, expect, it, vi } from "vitest"
import type { PushSender, PushSendResult } from "../src/push/pushSender.ts"
import type { PushSubscriptionRecord } from "../src/store/metaStore.ts"
import {
  bearer,
  createSpaceWithMember,
  register,
  startTestRelay,
  type TestDevice,
  type TestRelay,
} from "./harness.ts"

class RecordingSender implements PushSender {
  readonly sent: { endpoint: string; text: string }[] = []
  async send(subscription: PushSubscriptionRecord, payload: Uint8Array): Promise<PushSendResult> {
    this.sent.push({ endpoint: subscription.endpoint, text: Buffer.from(payload).toString("utf8") })
    return { kind: "sent" }
  }
}

let relay: TestRelay | undefined
afterEach(async () => {
  await relay?.close()
  relay = undefined
})

const subscribe = (r: TestRelay, device: TestDevice, id: string) =>
  fetch(`${r.url}/v1/push/subscription`, {
    method: "PUT",
    headers: { ...bearer(device), "content-type": "application/json" },
    body: JSON.stringify({
      endpoint: `https://push.example/send/${id}`,
      keys: {
        p256dh: Buffer.concat([Buffer.from([4]), randomBytes(64)]).toString("base64url"),
        auth: randomBytes(16).toString("base64url"),
      },
    }),
  })

describe("a hub that stops checking in", () => {
  it("is reported silent to its phones once, and back on its next request", async () => {
    const sender = new RecordingSender()
    relay = await startTestRelay({
      push: { sender, publicKey: "B".repeat(87) },
      config: { pushHosts: ["push.example"], hubSilentAlertMs: 1500 },
    })
    const { hub, phone, spaceId } = await createSpaceWithMember(relay)
    const stranger = await register(relay, "phone")
    expect((await subscribe(relay, phone, "phone")).status).toBe(204)
    expect((await subscribe(relay, stranger, "stranger")).status).toBe(204)
    const heardAt = Date.now()
    await fetch(`${relay.url}/v1/mailbox?after=0&wait=0`, { headers: bearer(hub) })

    const notices = () => sender.sent.map((s) => ({ endpoint: s.endpoint, ...JSON.parse(s.text) }))
    await vi.waitFor(() => expect(notices()).toHaveLength(1), { timeout: 10_000, interval: 100 })
    const [silent] = notices()
    expect(silent).toMatchObject({
      endpoint: "https://push.example/send/phone",
      relay: "hub-silent",
      spaceId,
    })
    expect(silent.since).toBeGreaterThanOrEqual(heardAt - 50)
    expect(silent.since).toBeLessThanOrEqual(Date.now() - 1500)

    // Still silent: no second alert.
    await new Promise((r) => setTimeout(r, 2500))
    expect(notices()).toHaveLength(1)

    // The hub's next request: back.
    await fetch(`${relay.url}/v1/mailbox?after=0&wait=0`, { headers: bearer(hub) })
    await vi.waitFor(() => expect(notices()).toHaveLength(2), { timeout: 10_000, interval: 100 })
    expect(notices()[1]).toMatchObject({
      endpoint: "https://push.example/send/phone",
      relay: "hub-back",
      spaceId,
    })
  })

  it("says nothing when push is off or the alert is turned off", async () => {
    const sender = new RecordingSender()
    relay = await startTestRelay({
      push: { sender, publicKey: "B".repeat(87) },
      config: { pushHosts: ["push.example"], hubSilentAlertMs: 0 },
    })
    const { hub, phone } = await createSpaceWithMember(relay)
    expect((await subscribe(relay, phone, "phone")).status).toBe(204)
    await fetch(`${relay.url}/v1/mailbox?after=0&wait=0`, { headers: bearer(hub) })
    await new Promise((r) => setTimeout(r, 2500))
    expect(sender.sent).toEqual([])
  })
})
