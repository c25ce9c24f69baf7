/**
 * The phone's real code (PhoneSpace + LocalStore over IndexedDB) against a real hub space and a real signal
 * relay on 127.0.0.1: pairing, a clip delivered and decrypted, restart of both sides, and removal.
 */
import "fake-indexeddb/auto"
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { pino } from "pino"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import { HubSpace } from "@vigil/hub"
import {
  SignalClient,
  clipHeaderLength,
  decodeInvite,
  randomBytes,
  type CameraId,
  type DeviceId,
  type SupportedSuite,
} from "@vigil/protocol"
import { startTestRelay } from "@vigil/signal"
import { decryptClipStream } from "../src/features/player/clipStream.ts"
import { PhoneSpace } from "../src/space/phoneSpace.ts"
import { LocalStore } from "../src/store/db.ts"

const logger = pino({ level: "silent" })

async function until<T>(probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await probe()
    if (value !== undefined && value !== false) return value
    if (Date.now() > deadline) throw new Error("condition not met in time")
    await new Promise((r) => setTimeout(r, 50))
  }
}

const fakeMp4 = () => randomBytes(200_000)

describe("phone ↔ hub through signal", () => {
  let relay: Awaited<ReturnType<typeof startTestRelay>>
  let hubDir: string
  const cleanup: (() => unknown)[] = []

  beforeEach(async () => {
    relay = await startTestRelay()
    hubDir = await mkdtemp(join(tmpdir(), "vigil-hub-"))
  })
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c()
    await relay.close()
    await rm(hubDir, { recursive: true, force: true })
  })

  async function openHub(
    options: { rotateIntervalMs?: number; suite?: SupportedSuite; localQuotaBytes?: number } = {},
  ) {
    const hub = await HubSpace.open({
      dataDir: hubDir,
      signalUrl: relay.url,
      hubName: "Home",
      logger,
      ...options,
    })
    cleanup.push(() => hub.close())
    return hub
  }

  async function pairPhone(hub: HubSpace, dbName: string, options?: { keyRefreshMs?: number }) {
    const store = await LocalStore.open(dbName)
    cleanup.push(() => store.close())
    const paired = new Promise<void>(
      (resolve) => void hub.createInvite(() => resolve()).then((i) => invites.push(i.code)),
    )
    const invites: string[] = []
    await until(() => invites[0])
    const phone = await PhoneSpace.pair(store, decodeInvite(invites[0]!), () => {}, options)
    cleanup.push(() => phone.stop())
    void phone.run()
    await paired
    await until(() => phone.status.kind === "paired")
    // The roster the hub sends after pairing, processed and saved: tests compare saved state from here.
    await until(() => phone.devices().some((d) => d.self && d.role !== undefined))
    await phone.settled()
    return { phone, store }
  }

  const clip = (mp4: Uint8Array) => ({
    mp4,
    cameraId: "front-door" as CameraId,
    cameraName: "Front door",
    label: "motion" as const,
    startedAt: Date.now() - 5000,
    endedAt: Date.now(),
  })

  it("pairs, delivers an encrypted clip, and the phone decrypts exactly what the hub recorded", async () => {
    const hub = await openHub()
    const { phone, store } = await pairPhone(hub, "phone-a")
    const mp4 = fakeMp4()
    const delivered = await hub.deliverClip(clip(mp4))
    expect(delivered).toBeDefined()
    await hub.drained()
    const [event] = await until(async () => {
      const events = await store.listEvents()
      return events.length ? events : undefined
    })
    expect(event).toMatchObject({ clipId: delivered!.clipId, cameraName: "Front door", label: "motion" })
    expect(await phone.loadClip(event!)).toEqual(mp4)
    expect(phone.problems).toEqual([])
  })

  it("survives a restart of hub and phone: state comes back from disk and IndexedDB", async () => {
    const hub = await openHub()
    const { phone } = await pairPhone(hub, "phone-b")
    phone.stop()
    await hub.close()

    const hub2 = await openHub()
    expect(hub2.phones).toHaveLength(1)
    const store2 = await LocalStore.open("phone-b")
    cleanup.push(() => store2.close())
    const phone2 = await PhoneSpace.load(store2, () => {})
    expect(phone2?.status.kind).toBe("paired")
    cleanup.push(() => phone2!.stop())
    void phone2!.run()
    const mp4 = fakeMp4()
    await hub2.deliverClip(clip(mp4))
    const [event] = await until(async () => {
      const events = await store2.listEvents()
      return events.length ? events : undefined
    })
    expect(await phone2!.loadClip(event!)).toEqual(mp4)
  })

  it("a removed phone learns it was removed and receives no later clip", async () => {
    const hub = await openHub()
    const a = await pairPhone(hub, "phone-c")
    const b = await pairPhone(hub, "phone-d")
    await hub.removePhone(b.phone.deviceId as DeviceId)
    await until(() => b.phone.status.kind === "removed")
    await hub.deliverClip(clip(fakeMp4()))
    await hub.drained()
    await until(async () => ((await a.store.listEvents()).length === 1 ? true : undefined))
    expect(await b.store.listEvents()).toEqual([])
  })

  it("a blob with one byte changed at the relay is refused, whole or streamed, and nothing is kept", async () => {
    const hub = await openHub()
    const { phone, store } = await pairPhone(hub, "phone-e")
    const mp4 = fakeMp4()
    await hub.deliverClip(clip(mp4))
    const [event] = await until(async () => {
      const events = await store.listEvents()
      return events.length ? events : undefined
    })
    expect(await phone.loadClip(event!)).toEqual(mp4)

    // The relay (or whoever has its disk) flips one bit of the stored ciphertext, inside the first record.
    const blobPath = join(relay.dir, "blobs", event!.blobId.slice(0, 2), event!.blobId)
    const stored = await readFile(blobPath)
    stored[clipHeaderLength + 100]! ^= 0x01
    await writeFile(blobPath, stored)

    // Whole download: the blob is no longer the one whose SHA-256 the hub signed.
    await expect(phone.loadClip(event!)).rejects.toMatchObject({ code: "CLIP_NOT_ANNOUNCED" })
    // Streamed as the player does: the first record already differs from the hub-signed record list, so
    // not one byte of video comes out.
    const source = await phone.clipSource(event!)
    expect(source.recordHashes).toBeDefined()
    const response = await fetch(source.url, { headers: source.headers })
    const played: Uint8Array[] = []
    const options = { blobId: source.blobId, maxBytes: source.size, recordHashes: source.recordHashes! }
    const streaming = (async () => {
      for await (const piece of decryptClipStream(response.body!, source.key, options)) played.push(piece)
    })()
    await expect(streaming).rejects.toMatchObject({ code: "CLIP_NOT_ANNOUNCED" })
    expect(played).toEqual([])
    // Nothing changed on the phone: the one event, as announced, and no message problems.
    expect(await store.listEvents()).toEqual([event])
    expect(phone.problems).toEqual([])
  })

  async function firstEventAfter(store: LocalStore, known: Set<string>) {
    return until(async () => (await store.listEvents()).find((e) => !known.has(e.clipId)))
  }

  it("a phone that missed a commit rejoins without a new pairing and decrypts the next clip", async () => {
    const hub = await openHub()
    const { phone, store } = await pairPhone(hub, "phone-f")
    phone.stop()
    // The relay (or a long absence) loses a clip's commit: its messages are acknowledged unread.
    await hub.deliverClip(clip(fakeMp4()))
    await hub.drained()
    const device = (await store.get("device"))!
    const raw = new SignalClient({ baseUrl: relay.url, token: device.token })
    const lost = await raw.fetchMailbox(0)
    expect(lost.length).toBeGreaterThan(0)
    await raw.ackMailbox(lost.at(-1)!.seq)
    await store.commit({ put: { space: { ...(await store.get("space"))!, after: lost.at(-1)!.seq } } })

    // Messages it cannot place are held, and only when nothing authenticated follows them (here at once)
    // does the phone ask to be let back in (issue 14, finding 2).
    const back = await PhoneSpace.load(store, () => {}, { stuckAfterMs: 0 })
    cleanup.push(() => back!.stop())
    void back!.run()
    await hub.deliverClip(clip(fakeMp4())) // its commit is from an epoch the phone never reached
    await until(() => back!.status.kind === "repairing")
    await until(() => back!.status.kind === "paired")
    expect(back!.problems.join("\n")).toContain("EPOCH_AHEAD")

    const known = new Set((await store.listEvents()).map((e) => e.clipId))
    const mp4 = fakeMp4()
    await hub.deliverClip(clip(mp4))
    expect(await back!.loadClip(await firstEventAfter(store, known))).toEqual(mp4)
    expect(hub.phones).toHaveLength(1)
  })

  it("a phone whose saved group state is corrupt rejoins and keeps receiving clips", async () => {
    const hub = await openHub()
    const { phone, store } = await pairPhone(hub, "phone-g")
    phone.stop()
    await store.commit({ put: { group: "AAAAAAAA" } })

    const back = await PhoneSpace.load(store, () => {})
    expect(back!.status.kind).toBe("repairing")
    cleanup.push(() => back!.stop())
    void back!.run()
    await until(() => back!.status.kind === "paired")
    const mp4 = fakeMp4()
    await hub.deliverClip(clip(mp4))
    expect(await back!.loadClip(await firstEventAfter(store, new Set()))).toEqual(mp4)
  })

  it("a phone refreshes its leaf keys on schedule without missing a clip", async () => {
    const hub = await openHub()
    const epochAtPairing = hub.epoch
    const { phone, store } = await pairPhone(hub, "phone-h", { keyRefreshMs: 0 })
    // Nothing but the phone's refresh request can move the hub to a new epoch here.
    await until(() => hub.epoch > epochAtPairing)
    await until(async () => ((await store.get("pending")) === undefined ? true : undefined))
    expect(phone.status.kind).toBe("paired")
    const mp4 = fakeMp4()
    await hub.deliverClip(clip(mp4))
    expect(await phone.loadClip(await firstEventAfter(store, new Set()))).toEqual(mp4)
    expect(phone.problems).toEqual([])
  })

  it("a quiet hub still commits a fresh epoch on schedule, and phones follow", async () => {
    const hub = await openHub({ rotateIntervalMs: 150 })
    const { phone, store } = await pairPhone(hub, "phone-i")
    const start = hub.epoch
    await until(() => hub.epoch >= start + 3n)
    const mp4 = fakeMp4()
    await hub.deliverClip(clip(mp4))
    expect(await phone.loadClip(await firstEventAfter(store, new Set()))).toEqual(mp4)
    expect(phone.problems).toEqual([])
  })

  it("a space on the post-quantum X-Wing suite pairs, rotates and delivers like suite 1", async () => {
    const hub = await openHub({ suite: "MLS_256_XWING_AES256GCM_SHA512_Ed25519" })
    const { phone, store } = await pairPhone(hub, "phone-xwing")
    const mp4 = fakeMp4()
    await hub.deliverClip(clip(mp4))
    expect(await phone.loadClip(await firstEventAfter(store, new Set()))).toEqual(mp4)
    expect((await store.get("space"))?.suite).toBe("MLS_256_XWING_AES256GCM_SHA512_Ed25519")
  })

  it("a sighting arrives first with its picture; the clip then replaces it with thumbnail and detections", async () => {
    const hub = await openHub()
    const { phone, store } = await pairPhone(hub, "phone-sighting")
    const motionStartedAt = Date.now() - 3000
    const picture = randomBytes(20_000)
    await hub.deliverSighting({
      cameraId: "front-door" as CameraId,
      cameraName: "Front door",
      label: "person",
      score: 0.91,
      at: motionStartedAt + 600,
      motionStartedAt,
      thumbnail: picture,
    })
    const early = await firstEventAfter(store, new Set())
    expect(early).toMatchObject({ pending: true, label: "person", cameraName: "Front door" })
    expect(await phone.loadThumbnail(early)).toEqual(picture)
    await expect(phone.loadClip(early)).rejects.toBeDefined()

    const mp4 = fakeMp4()
    const box = { x: 0.1, y: 0.2, width: 0.3, height: 0.5 }
    await hub.deliverClip({
      ...clip(mp4),
      label: "person",
      motionStartedAt,
      thumbnail: picture,
      detections: [{ label: "person", className: "person", score: 0.91, box, at: motionStartedAt + 600 }],
    })
    const done = await until(async () => {
      const events = await store.listEvents()
      return events.length === 1 && !events[0]!.pending ? events[0] : undefined
    })
    expect(done.detections).toEqual([
      { label: "person", className: "person", score: 0.91, box, at: motionStartedAt + 600 },
    ])
    expect(await phone.loadThumbnail(done)).toEqual(picture)
    expect(await phone.loadClip(done)).toEqual(mp4)
  })

  it("the hub keeps uploaded clips locally, encrypted, under its quota", async () => {
    const hub = await openHub({ localQuotaBytes: 450_000 })
    await pairPhone(hub, "phone-quota")
    for (let i = 0; i < 4; i++) await hub.deliverClip(clip(fakeMp4()))
    await hub.drained()
    const { readdir, stat, readFile } = await import("node:fs/promises")
    const dir = join(hubDir, "clips")
    const files = await readdir(dir)
    const sizes = await Promise.all(files.map(async (f) => (await stat(join(dir, f))).size))
    expect(files.length).toBeGreaterThan(0)
    expect(files.length).toBeLessThan(4)
    expect(sizes.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(450_000)
    const first = await readFile(join(dir, files[0]!))
    expect(first[0]).toBe(0x56) // a clip record, not an MP4
  })
})
