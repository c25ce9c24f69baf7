import "fake-indexeddb/auto"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import { decodeMlsMessage } from "ts-mls"
import { SignalClient, randomBytes } from "@vigil/protocol"
import { hubNewsLines } from "../../src/features/events/hubNews.ts"
import { clipOf, startHarness, until, type Harness } from "./harness.ts"

const isApplication = (body: Uint8Array) => {
  const [msg] = decodeMlsMessage(body, 0) ?? []
  return msg?.wireformat === "mls_private_message" && msg.privateMessage.contentType === "application"
}

describe("issue 14 finding 5: the phone notices withheld announcements and a silent hub", () => {
  let h: Harness
  beforeEach(async () => void (h = await startHarness()))
  afterEach(() => h.close())

  it("a clip announcement the relay drops shows as one missing event; the others arrive", async () => {
    const hub = await h.openHub()
    const { phone, store } = await h.pairPhone(hub, "f05-gap")
    await hub.deliverClip(clipOf("motion"))
    await until(async () => ((await store.listEvents()).length === 1 ? true : undefined))
    expect(phone.hubNews().missing).toBe(0)
    phone.stop()

    await hub.deliverClip(clipOf("person")) // the relay will drop this one's announcement
    await hub.drained()
    const device = (await store.get("device"))!
    const space = (await store.get("space"))!
    const raw = new SignalClient({ baseUrl: h.relay.url, token: device.token })
    const queued = await raw.fetchMailbox(space.after)
    await raw.ackMailbox(queued.at(-1)!.seq)
    const dropped = queued.filter((m) => isApplication(m.body))
    expect(dropped).toHaveLength(1)
    for (const m of queued)
      if (!isApplication(m.body)) await h.mailAsRelay(device.deviceId, space.hubDeviceId, m.body)
    await hub.deliverClip(clipOf("motion"))
    await hub.drained()

    const back = await h.reopen(store)
    await until(async () => ((await store.listEvents()).length === 2 ? true : undefined))
    await until(() => (back.hubNews().missing === 1 ? true : undefined))
    expect((await store.listEvents()).map((e) => e.label).sort()).toEqual(["motion", "motion"])
    expect(hubNewsLines(back.hubNews(), back.hubName)).toEqual([
      "1 event from Home did not arrive: it was lost or held back on the way.",
    ])
    // Dismissed, the notice goes; the count is saved with the space.
    await back.dismissMissing()
    expect(back.hubNews().missing).toBe(0)
    expect((await store.get("space"))?.missedAnnouncements).toBe(0)
  })

  it("no authenticated message for longer than silentAfterMs: the phone says the hub is silent", async () => {
    const hub = await h.openHub()
    const { phone } = await h.pairPhone(hub, "f05-silent")
    expect(phone.hubNews().silentSince).toBeUndefined()
    const later = Date.now() + 3 * 3600_000
    const news = phone.hubNews(later)
    expect(news.silentSince).toBeDefined()
    expect(hubNewsLines(news, "Home", later)[0]).toMatch(/^No news from Home for (3|2) hours\. /)
    await hub.deliverClip(clipOf("motion", randomBytes(1000)))
    await until(() => (phone.hubNews().silentSince === undefined ? true : undefined))
  })
})
