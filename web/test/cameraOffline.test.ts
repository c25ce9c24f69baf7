/**
 * Offline alerts on the phone (issue 16), with a real hub space on the in-memory relay: the hub's
 * camera-status message puts "Porch offline since …" above the timeline, survives the app being reopened,
 * and goes away when the hub says the camera is back; the push notification says the same.
 */
import "fake-indexeddb/auto"
import { mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { pino } from "pino"
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest"
import { HubSpace } from "@vigil/hub"
import { MemoryRelay, decodeInvite, type CameraId, type SpaceId } from "@vigil/protocol"
import { hubNewsLines } from "../src/features/events/hubNews.ts"
import { cameraNotification } from "../src/features/notifications/pushNotification.ts"
import { PhoneSpace } from "../src/space/phoneSpace.ts"
import { LocalStore } from "../src/store/db.ts"
import { timeText } from "../src/ui/format.ts"

let relay: MemoryRelay
let dataDir: string
let hub: HubSpace
const cleanup: (() => unknown)[] = []
const options = { relay: (_url: string, token?: string) => relay.transport({ token }) }

beforeEach(async () => {
  relay = new MemoryRelay()
  dataDir = await mkdtemp(join(tmpdir(), "vigil-web-offline-"))
  hub = await HubSpace.open({
    dataDir,
    signalUrl: "http://relay.invalid",
    relay: (token) => relay.transport({ token }),
    hubName: "Home",
    logger: pino({ level: "silent" }),
    cameras: [{ id: "porch", name: "Porch" }],
  })
})
afterEach(async () => {
  for (const done of cleanup.splice(0).reverse()) await done()
  await hub.close()
  await rm(dataDir, { recursive: true, force: true })
})

const status = (state: "offline" | "online", since: number) => ({
  cameraId: "porch" as CameraId,
  cameraName: "Porch",
  state,
  since,
})

describe("a camera offline, on the phone", () => {
  it("shows above the timeline until the hub says the camera is back, across a reopen", async () => {
    const store = await LocalStore.open("camera-offline")
    cleanup.push(() => store.close())
    const codes: string[] = []
    const paired = new Promise<void>(
      (resolve) => void hub.createInvite(() => resolve()).then((i) => codes.push(i.code)),
    )
    await vi.waitFor(() => expect(codes).toHaveLength(1))
    const phone = await PhoneSpace.pair(store, decodeInvite(codes[0]!), () => {}, options)
    cleanup.push(() => phone.stop())
    void phone.run()
    await paired
    await vi.waitFor(() => expect(phone.status.kind).toBe("paired"), { timeout: 10_000 })
    expect(phone.hubNews().offline).toEqual([])

    const since = Date.now() - 6 * 60_000
    await hub.deliverCameraStatus(status("offline", since))
    await vi.waitFor(() => expect(phone.hubNews().offline).toHaveLength(1), { timeout: 10_000 })
    expect(hubNewsLines(phone.hubNews(), "Home")).toEqual([
      `Porch offline since ${timeText(since)}: no video reaches the hub.`,
    ])
    // No announcement was skipped: the status counts in the same numbering.
    expect(phone.hubNews().missing).toBe(0)

    phone.stop()
    await phone.settled()
    const reopened = (await PhoneSpace.load(store, () => {}, options))!
    cleanup.push(() => reopened.stop())
    expect(reopened.hubNews().offline).toEqual([{ cameraId: "porch", name: "Porch", since }])
    void reopened.run()
    await hub.deliverCameraStatus(status("online", Date.now()))
    await vi.waitFor(() => expect(reopened.hubNews().offline).toEqual([]), { timeout: 10_000 })
    expect(hubNewsLines(reopened.hubNews(), "Home")).toEqual([])
  })

  it("the push notification names the camera and the time, one per camera", () => {
    const notice = {
      kind: "camera-status" as const,
      spaceId: "ab".repeat(16) as SpaceId,
      cameraId: "porch" as CameraId,
      cameraName: "Porch",
      since: Date.now() - 60_000,
    }
    const off = cameraNotification({ ...notice, state: "offline" })
    const on = cameraNotification({ ...notice, state: "online" })
    expect(off).toMatchObject({ title: "Porch offline", options: { tag: "camera-porch" } })
    expect(off.options.body).toBe(`No video since ${timeText(notice.since)}`)
    expect(on).toMatchObject({ title: "Porch is back", options: { tag: "camera-porch" } })
  })
})
