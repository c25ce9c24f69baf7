/**
 * The service worker's push handling with real parts: a real hub space posts its push through a real relay
 * (with a recording push sender in place of a push service), and the worker's code opens it with the MLS
 * state a real PhoneSpace saved in IndexedDB (fake-indexeddb in Node).
 */
import "fake-indexeddb/auto"
import { mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { pino } from "pino"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import { HubSpace } from "@vigil/hub"
import { SignalClient, decodeInvite, fromUtf8, randomBytes, type CameraId } from "@vigil/protocol"
import { startTestRelay, type PushSender } from "@vigil/signal"
import { PhoneSpace } from "../../space/phoneSpace.ts"
import { LocalStore } from "../../store/db.ts"
import { timeText } from "../../ui/format.ts"
import { notificationForHomes, notificationForPush } from "./pushNotification.ts"

const logger = pino({ level: "silent" })

async function until<T>(probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await probe()
    if (value !== undefined && value !== false) return value
    if (Date.now() > deadline) throw new Error("condition not met in time")
    await new Promise((r) => setTimeout(r, 50))
  }
}

/** Stands in for the push service: keeps the text of every push, as a service worker would receive it. */
class RecordingSender implements PushSender {
  readonly texts: string[] = []
  async send(_subscription: unknown, payload: Uint8Array) {
    this.texts.push(fromUtf8(payload))
    return { kind: "sent" as const }
  }
}

const thumbnailBytes = randomBytes(3000)

const clip = (startedAt: number) => ({
  mp4: randomBytes(50_000),
  cameraId: "front-door" as CameraId,
  cameraName: "Front door",
  label: "person" as const,
  startedAt,
  endedAt: startedAt + 5000,
  thumbnail: thumbnailBytes,
})

describe("push notification in the service worker", () => {
  let relay: Awaited<ReturnType<typeof startTestRelay>>
  let sender: RecordingSender
  let hubDir: string
  const cleanup: (() => unknown)[] = []

  beforeEach(async () => {
    sender = new RecordingSender()
    relay = await startTestRelay({
      push: { sender, publicKey: "B".repeat(87) },
      config: { pushHosts: ["push.example"] },
    })
    hubDir = await mkdtemp(join(tmpdir(), "vigil-hub-"))
  })
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c()
    await relay.close()
    await rm(hubDir, { recursive: true, force: true })
  })

  /** A hub and one phone, paired and subscribed to push. */
  async function setup(dbName: string, hubName = "Home", dataDir = hubDir) {
    const hub = await HubSpace.open({ dataDir, signalUrl: relay.url, hubName, logger })
    cleanup.push(() => hub.close())
    const store = await LocalStore.open(dbName)
    cleanup.push(() => store.close())
    const invites: string[] = []
    const paired = new Promise<void>(
      (resolve) => void hub.createInvite(() => resolve()).then((i) => invites.push(i.code)),
    )
    await until(() => invites[0])
    const phone = await PhoneSpace.pair(store, decodeInvite(invites[0]!), () => {})
    cleanup.push(() => phone.stop())
    void phone.run()
    await paired
    await until(() => phone.status.kind === "paired")
    const device = (await store.get("device"))!
    await new SignalClient({ baseUrl: device.signalUrl, token: device.token }).setPushSubscription({
      endpoint: "https://push.example/send/1",
      expirationTime: null,
      keys: {
        p256dh: Buffer.concat([Buffer.from([4]), randomBytes(64)]).toString("base64url"),
        auth: Buffer.from(randomBytes(16)).toString("base64url"),
      },
    })
    const open = () => LocalStore.open(dbName)
    return { hub, phone, store, open }
  }

  it("shows label, camera, time and the decrypted picture when the phone is in the clip's epoch", async () => {
    const { hub, store, open } = await setup("push-a")
    const startedAt = Date.now() - 60_000
    await hub.deliverClip(clip(startedAt))
    const text = await until(() => sender.texts[0])
    const [event] = await until(async () =>
      (await store.listEvents()).length ? store.listEvents() : undefined,
    )

    const shown = await notificationForPush(text, open)

    expect(shown.title).toBe("Person — Front door")
    expect(shown.options.body).toBe(timeText(startedAt))
    expect(shown.options.tag).toBe(`clip-${event!.clipId}`)
    expect(shown.options.data).toEqual({ url: `/#clip=${event!.clipId}`, clipId: event!.clipId })
    expect(shown.options.icon).toBe(
      `data:image/jpeg;base64,${Buffer.from(thumbnailBytes).toString("base64")}`,
    )
  })

  it("catches up from the mailbox when the app was closed, without writing the phone's state", async () => {
    const { hub, phone, store, open } = await setup("push-b")
    // The app is closed: nobody reads the mailbox (after the roster that followed pairing was saved).
    await until(() => phone.devices()[0]?.role)
    phone.stop()
    await phone.settled()
    const [groupBefore, spaceBefore] = await Promise.all([store.get("group"), store.get("space")])
    await hub.deliverClip(clip(Date.now()))
    await hub.drained()
    const text = await until(() => sender.texts[0])

    const shown = await notificationForPush(text, open)

    expect(shown.title).toBe("Person — Front door")
    expect(shown.options.icon).toMatch(/^data:image\/jpeg;base64,/)
    // Nothing saved or acknowledged: the app, opened later, meets the same messages from the same state.
    expect(await store.get("group")).toBe(groupBefore)
    expect(await store.get("space")).toEqual(spaceBefore)
    const reopened = await PhoneSpace.load(store, () => {})
    cleanup.push(() => reopened!.stop())
    void reopened!.run()
    const [event] = await until(async () =>
      (await store.listEvents()).length ? store.listEvents() : undefined,
    )
    expect(shown.options.tag).toBe(`clip-${event!.clipId}`)
    expect(reopened!.problems).toEqual([])
  })

  it("on a phone with two homes, the home whose state opens the push shows it, named", async () => {
    const house = await setup("homes-house", "House")
    const cabinDir = await mkdtemp(join(tmpdir(), "vigil-hub-cabin-"))
    cleanup.push(() => rm(cabinDir, { recursive: true, force: true }))
    const cabin = await setup("homes-cabin", "Cabin", cabinDir)
    await cabin.hub.deliverClip(clip(Date.now()))
    const text = await until(() => sender.texts[0])
    const both = [house.open, cabin.open]

    const shown = await notificationForHomes(text, both)
    expect(shown.title).toBe("Person — Front door · Cabin")
    // One home alone: no name added; the other home alone: the generic text under its name.
    expect((await notificationForHomes(text, [cabin.open])).title).toBe("Person — Front door")
    expect(await notificationForHomes(text, [house.open])).toMatchObject({ title: "Motion — House" })
  })

  it("shows the relay's word that the hub went silent, and that it is back, for this home only", async () => {
    const { hub, open } = await setup("push-d")
    const since = Date.now() - 20 * 60_000
    const notice = (relay: string, spaceId: string) => JSON.stringify({ relay, spaceId, since })

    const silent = await notificationForPush(notice("hub-silent", hub.spaceId), open)
    expect(silent).toMatchObject({
      title: "Home: no contact with the hub",
      options: { tag: `hub-${hub.spaceId}`, timestamp: since },
    })
    expect(silent.options.body).toBe(
      `The relay has not heard from the hub since ${timeText(since)}. It may be off or offline.`,
    )
    const back = await notificationForPush(notice("hub-back", hub.spaceId), open)
    expect(back).toMatchObject({ title: "Home: the hub is back", options: { tag: `hub-${hub.spaceId}` } })

    // Another home's notice, or a malformed one, names nothing.
    const generic = { title: "Motion — Home", options: { tag: "vigil-event" } }
    expect(await notificationForPush(notice("hub-silent", "ab".repeat(16)), open)).toMatchObject(generic)
    expect(await notificationForPush(notice("hub-exploded", hub.spaceId), open)).toMatchObject(generic)
    expect(await notificationForPush("{not json", open)).toMatchObject(generic)
  })

  it("shows only the generic text for a tampered payload or an epoch the phone has left", async () => {
    const { hub, store, open } = await setup("push-c")
    await hub.deliverClip(clip(Date.now()))
    const first = await until(() => sender.texts[0])
    const bytes = Buffer.from(first, "base64url")
    bytes[30]! ^= 0x80
    const generic = { title: "Motion — Home", options: { tag: "vigil-event", data: { url: "/" } } }

    expect(await notificationForPush(bytes.toString("base64url"), open)).toMatchObject(generic)
    expect(await notificationForPush("not a payload", open)).toMatchObject(generic)

    // A second clip moves the phone to a later epoch; the first clip's key is gone, by design.
    await hub.deliverClip(clip(Date.now()))
    await until(() => sender.texts[1])
    await until(async () => ((await store.listEvents()).length === 2 ? true : undefined))
    expect(await notificationForPush(first, open)).toMatchObject(generic)
    expect((await notificationForPush(sender.texts[1]!, open)).title).toBe("Person — Front door")
  })
})
