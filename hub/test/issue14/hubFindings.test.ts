/**
 * Issue 14 ("Security review findings"), the hub's half, on the in-memory relay (protocol/src/memoryRelay.ts,
 * held to signal's behaviour by its contract suite; the relay's own findings run against signal itself in
 * signal/test/issue14): one describe per
 * finding.
 */
import { mkdtemp, rm, stat } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Writable } from "node:stream"
import { setTimeout as sleep } from "node:timers/promises"
import { pino } from "pino"
import { afterEach, describe, expect, it, vi } from "vitest"
import {
  MemoryRelay,
  SpaceSession,
  createPendingJoin,
  defaultSuiteName,
  encodeDiscoveryRoomMessage,
  loadSuite,
  mlsWireformat,
  newPairingNonce,
  randomBytes,
  signLiveRequest,
  toHex,
  type CameraId,
  type DeviceId,
  type RelayLimits,
} from "@vigil/protocol"
import { startControlServer } from "../../src/commands/controlSocket.ts"
import { runPhonesCommand } from "../../src/commands/phones.ts"
import { HubSpace, type DiscoveryRequest, type HubSpaceOptions } from "../../src/space/hubSpace.ts"
import { rawPhone as makeRawPhone, type RawPhone } from "../support/rawPhone.ts"

let relay: MemoryRelay | undefined
let dataDir: string | undefined
let hub: HubSpace | undefined
let logs: string[] = []

afterEach(async () => {
  await hub?.close()
  if (dataDir) await rm(dataDir, { recursive: true, force: true })
  hub = relay = dataDir = undefined
})

const memory = { signalUrl: "http://relay.invalid", relay: (token?: string) => relay!.transport({ token }) }

async function setup(
  config: { config?: Partial<RelayLimits>; now?: () => number },
  options: Partial<HubSpaceOptions> = {},
) {
  relay = new MemoryRelay({ limits: config.config, now: config.now })
  dataDir = await mkdtemp(join(tmpdir(), "vigil-issue14-"))
  logs = []
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      logs.push(...chunk.toString().split("\n").filter(Boolean))
      done()
    },
  })
  hub = await HubSpace.open({
    dataDir,
    ...memory,
    hubName: "Home",
    logger: pino({ level: "info" }, sink),
    ...options,
  })
  return { relay, hub, dataDir }
}

const logCount = (msg: string) => logs.filter((l) => l.includes(`"msg":"${msg}"`)).length

async function pairPhones(names: string[]): Promise<RawPhone[]> {
  const h = hub!
  const asked: DiscoveryRequest[] = []
  let yes: (v: boolean) => void = () => {}
  const discovery = h.startDiscovery({
    confirm: (request) =>
      new Promise<boolean>((resolve) => {
        asked.push(request)
        yes = resolve
      }),
  })
  const phones: RawPhone[] = []
  for (const name of names) {
    const phone = await makeRawPhone(
      { relay: memory.relay, hubDeviceId: () => h.deviceId, hubName: "Home" },
      name,
    )
    await phone.pair(
      () => asked.length,
      () => yes(true),
    )
    phones.push(phone)
  }
  discovery.stop()
  return phones
}

const clip = (n: number) => ({
  mp4: new Uint8Array([0, 0, 0, 8, 102, 116, 121, 112, n]),
  cameraId: "front-door" as CameraId,
  cameraName: "Front door",
  label: "motion" as const,
  startedAt: Date.now(),
  endedAt: Date.now() + 1000,
})

/** Reads the phone's mailbox and acknowledges it all (nothing is in flight: the caller drained the hub). */
async function readAndAck(phone: RawPhone) {
  await phone.follow()
  await phone.client.ackMailbox(Number.MAX_SAFE_INTEGER)
}

describe("issue 14 finding 3: one full mailbox does not stop the hub's outbox", () => {
  it("phone B fills its mailbox; A still gets every clip, and B's removal takes effect at signal", async () => {
    const { hub: h } = await setup({ config: { maxMailboxMessages: 10 } })
    const [a, b] = await pairPhones(["A", "B"])
    await readAndAck(a!)
    // B never reads again: its 10 slots fill within a few clips (a commit and an announcement each).
    for (let n = 0; n < 8; n++) {
      await h.deliverClip(clip(n))
      await h.drained() // resolves although B's mail waits
      await readAndAck(a!)
    }
    expect(a!.messages.filter((m) => m.kind === "clip")).toHaveLength(8)
    expect(h.pendingOutbox).toBeGreaterThan(0) // B's mail, waiting
    expect(logCount("a phone's mailbox is full; its mail waits")).toBeGreaterThan(0)

    // B is removed: the revoke goes ahead of B's own stuck mail, so signal stops serving B at once.
    await b!.client.sendToMailbox(h.deviceId, new Uint8Array([1])) // B is still a member here
    await h.removePhone(b!.deviceId)
    await vi.waitFor(
      () =>
        expect(b!.client.sendToMailbox(h.deviceId, new Uint8Array([1]))).rejects.toMatchObject({
          status: 403,
        }),
      { timeout: 3000, interval: 100 },
    )
    // And the rest of B's mail is dropped (signal refuses it now): the outbox empties.
    await vi.waitFor(() => expect(h.pendingOutbox).toBe(0), { timeout: 5000, interval: 100 })
    await h.deliverClip(clip(9))
    await h.drained()
    await readAndAck(a!)
    expect(a!.messages.filter((m) => m.kind === "clip")).toHaveLength(9)
  }, 60_000)

  it("parks mail a phone refused for longer than outboxParkAfterMs", async () => {
    const { hub: h } = await setup({ config: { maxMailboxMessages: 6 } }, { outboxParkAfterMs: 1 })
    const [a] = await pairPhones(["A", "B"])
    await readAndAck(a!)
    for (let n = 0; n < 4; n++) {
      await h.deliverClip(clip(n))
      await h.drained()
      await readAndAck(a!)
    }
    await vi.waitFor(() => expect(h.pendingOutbox).toBe(0), { timeout: 10_000, interval: 100 })
    expect(logCount("a phone refused its mail for too long; parked")).toBeGreaterThan(0)
  }, 60_000)
})

describe("issue 14 finding 14: the hub deletes its clips at signal", () => {
  it("makes room under a full quota by deleting its oldest clips, never dropping the newest", async () => {
    // Each sealed test clip is 53 bytes; the quota holds two.
    const { hub: h } = await setup({ config: { spaceQuotaBytes: 120 } })
    const [a] = await pairPhones(["A"])
    await readAndAck(a!)
    for (let n = 0; n < 6; n++) {
      await h.deliverClip(clip(n))
      await h.drained()
    }
    const client = a!.client
    const { blobs, usedBytes } = await client.listBlobs(h.spaceId)
    expect(usedBytes).toBeLessThanOrEqual(120)
    await readAndAck(a!)
    const clips = a!.messages.filter((m) => m.kind === "clip")
    expect(clips).toHaveLength(6)
    // The newest clip is at signal, readable.
    const newest = clips.at(-1)!
    if (newest.kind !== "clip") throw new Error("not a clip")
    expect(blobs.map((b) => b.blobId)).toContain(newest.blobId)
    expect(logCount("signal refused an outbox entry; dropped")).toBe(0)
    expect(logCount("deleted old clips at signal")).toBeGreaterThan(0)
  }, 60_000)

  it("deletes clips at signal past its retention", async () => {
    let offsetMs = -2 * 24 * 3600_000
    const { hub: h } = await setup({ now: () => Date.now() + offsetMs }, { relayRetentionMs: 24 * 3600_000 })
    const [a] = await pairPhones(["A"])
    const client = a!.client
    // Uploaded "two days ago" by the relay's clock: the hub's first prune deletes it.
    await h.deliverClip(clip(1))
    await h.drained()
    expect((await client.listBlobs(h.spaceId)).blobs).toEqual([])
    expect(logCount("deleted old clips at signal")).toBe(1)
    offsetMs = 0
    await h.deliverClip(clip(2))
    await h.drained()
    expect((await client.listBlobs(h.spaceId)).blobs).toHaveLength(1)
  }, 60_000)
})

describe("issue 14 finding 10: hub-inbox junk costs no state write; live offers are rate-limited", () => {
  it("refuses 40 junk messages without rewriting state.json, and answers at most 6 live offers of a burst", async () => {
    const { hub: h, dataDir: dir } = await setup({})
    const [a] = await pairPhones(["A"])
    await h.drained()
    // A burst of genuine, signed live offers: the hub acts on a few, drops the rest (each would be a commit).
    const asked: string[] = []
    h.onLiveRequest((request) => asked.push(request.kind))
    const session = a!.session!
    const { signature } = await loadSuite(defaultSuiteName)
    for (let i = 0; i < 20; i++) {
      const signed = await signLiveRequest(
        {
          kind: "live-offer",
          sessionId: toHex(randomBytes(16)),
          deviceId: a!.deviceId as DeviceId,
          sdp: "v=0",
          issuedAt: Date.now(),
        },
        session.groupId,
        a!.signKey,
        signature,
      )
      await a!.client.sendToMailbox(h.deviceId, await session.seal(signed))
    }
    await vi.waitFor(
      () => expect(logCount("a phone asks for live view too often; request dropped")).toBe(14),
      {
        timeout: 20_000,
        interval: 100,
      },
    )
    expect(asked).toHaveLength(6)
    await h.drained()
    const statePath = join(dir, "state.json")
    const before = await stat(statePath)
    for (let i = 0; i < 40; i++) await a!.client.sendToMailbox(h.deviceId, randomBytes(100 + i))
    await vi.waitFor(
      () => expect(logCount("refused a message in the hub mailbox")).toBeGreaterThanOrEqual(40),
      {
        timeout: 20_000,
        interval: 100,
      },
    )
    const after = await stat(statePath)
    expect(after.ino).toBe(before.ino) // written atomically by rename: a write would change the inode
    expect(after.mtimeMs).toBe(before.mtimeMs)

    // The inbox's own limit (30 at once) dropped some junk before any decryption.
    expect(logs.some((l) => l.includes("sends the hub too much"))).toBe(true)
  }, 60_000)
})

describe("issue 14 finding 6: hub phones list|remove", () => {
  it("lists and removes a phone through the running hub's control socket, and without a running hub", async () => {
    const { hub: h, dataDir: dir } = await setup({})
    const [a, b] = await pairPhones(["Anna", "Ben"])
    const control = await startControlServer(dir, {
      status: () => {
        throw new Error("not used")
      },
      invite: () => Promise.reject(new Error("not used")),
      phones: () => h.phones,
      removePhone: (deviceId) => h.removePhone(deviceId as DeviceId),
      setRole: (deviceId, role) => h.setRole(deviceId as DeviceId, role),
      openDiscovery: () => {},
      nextDiscoveryEvents: () => Promise.reject(new Error("not used")),
      answerDiscovery: () => false,
    })
    const openSpace = () => Promise.reject(new Error("a hub is running: the socket must be used"))
    try {
      const listed = await runPhonesCommand(["list"], { dataDir: dir, openSpace })
      expect(listed.code).toBe(0)
      expect(listed.out.join("\n")).toMatch(new RegExp(`${a!.deviceId}\\s+Anna\\s+owner`))
      expect(listed.out.join("\n")).toMatch(new RegExp(`${b!.deviceId}\\s+Ben\\s+member`))
      expect(listed.out.join("\n")).toContain(b!.deviceId)
      expect((await runPhonesCommand(["remove", "zz"], { dataDir: dir, openSpace })).code).toBe(1)
      expect((await runPhonesCommand(["remove"], { dataDir: dir, openSpace })).code).toBe(2)

      const removed = await runPhonesCommand(["remove", b!.deviceId.slice(0, 10)], {
        dataDir: dir,
        openSpace,
      })
      expect(removed).toMatchObject({ code: 0, out: [`Removed ${b!.deviceId}. It can decrypt nothing new.`] })
      expect(h.phones.map((p) => p.deviceId)).toEqual([a!.deviceId])
      await h.drained()
      await expect(b!.client.sendToMailbox(h.deviceId, new Uint8Array([1]))).rejects.toMatchObject({
        status: 403,
      })
      // The other phone gets the roster without B, as when a phone asks for the removal.
      await vi.waitFor(
        async () => {
          await a!.follow()
          expect(a!.rosters.at(-1)?.devices.map((d) => d.deviceId)).toEqual([a!.deviceId])
        },
        { timeout: 10_000, interval: 100 },
      )
    } finally {
      control.close()
    }

    // No hub running: the command opens the space itself.
    const hubId = h.deviceId
    await h.close()
    hub = undefined
    const openOffline = () =>
      HubSpace.open({
        dataDir: dir,
        ...memory,
        hubName: "Home",
        logger: pino({ level: "silent" }),
      })
    const offline = { dataDir: dir, openSpace: openOffline }
    expect((await runPhonesCommand(["list"], offline)).out.join("\n")).toContain(a!.deviceId)
    expect((await runPhonesCommand(["remove", a!.deviceId], offline)).code).toBe(0)
    expect((await runPhonesCommand(["list"], offline)).out).toEqual(["No phone is paired."])
    await expect(a!.client.sendToMailbox(hubId, new Uint8Array([1]))).rejects.toMatchObject({ status: 403 })
  }, 60_000)
})

describe("issue 14 finding 9: a neighbour learns nothing of the household before the codes match", () => {
  it("a join from the same address gets a Welcome into a throwaway group of two; clips flow while it waits", async () => {
    const { hub: h, relay: r } = await setup({})
    const [anna] = await pairPhones(["Anna"])
    await h.rotate()
    let asked = 0
    const discovery = h.startDiscovery({
      // Never answered: the pairing stays waiting for the person at the hub.
      confirm: (_request, signal) =>
        new Promise<boolean>((resolve) => {
          asked++
          signal.addEventListener("abort", () => resolve(false), { once: true })
        }),
      confirmTimeoutMs: 8000,
    })
    try {
      // The neighbour: protocol parts only, as anyone behind the household's public address could write.
      const device = await r.transport().registerDevice("phone")
      const client = r.transport({ token: device.token })
      let roomId = ""
      await vi.waitFor(
        async () => {
          const a = (await client.listPairingAnnouncements())[0]
          if (!a) throw new Error("not announced yet")
          roomId = a.roomId
        },
        { timeout: 10_000, interval: 100 },
      )
      const deviceId = device.deviceId as DeviceId
      const pending = await createPendingJoin({ role: "phone", deviceId })
      const { nonce, commitment } = await newPairingNonce()
      const join = {
        kind: "join" as const,
        deviceId,
        deviceName: "Neighbour",
        keyPackage: pending.keyPackage,
        commitment,
      }
      await client.postToRoom(roomId, encodeDiscoveryRoomMessage(join))
      let welcome: Uint8Array | undefined
      await vi.waitFor(
        async () => {
          welcome = (await client.fetchMailbox(0, 0)).find(
            (m) => mlsWireformat(m.body) === "mls_welcome",
          )?.body
          if (!welcome) throw new Error("no Welcome yet")
        },
        { timeout: 10_000, interval: 100 },
      )
      const seen = await SpaceSession.join({
        welcome: welcome!,
        pending,
        trust: () => true,
        persist: async () => {},
      })
      const ids = seen.members().map((m) => m.identity.deviceId)
      expect(ids).toHaveLength(2)
      expect(ids).not.toContain(anna!.deviceId)
      expect(toHex(seen.groupId)).not.toBe(h.spaceId)
      expect(seen.epoch).toBe(1n)
      expect(h.epoch).toBeGreaterThan(1n)

      // It reveals its nonce: the hub asks its person; meanwhile the household's clips still go out.
      await client.postToRoom(roomId, encodeDiscoveryRoomMessage({ kind: "reveal", deviceId, nonce }))
      await vi.waitFor(() => expect(asked).toBe(1), { timeout: 10_000 })
      const delivered = await Promise.race([
        h.deliverClip(clip(1)).then(() => "delivered"),
        sleep(4000).then(() => "held"),
      ])
      expect(delivered).toBe("delivered")
      expect(h.phones.map((p) => p.deviceId)).toEqual([anna!.deviceId])
    } finally {
      discovery.stop()
    }
  }, 60_000)
})
