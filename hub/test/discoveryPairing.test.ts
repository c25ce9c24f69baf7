/**
 * Pairing by discovery and the Devices requests, hub side, on the in-memory relay (protocol/src/memoryRelay.ts,
 * held to signal's behaviour by its contract suite): the hub commits
 * only after both confirmations, goes back to its saved epoch on any refusal, and refuses forged or
 * unsolicited confirmations and forged, replayed or foreign device requests.
 */
import { mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Writable } from "node:stream"
import { pino } from "pino"
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest"
import {
  MemoryRelay,
  createPendingJoin,
  encodeDiscoveryRoomMessage,
  pendingSignatureKeys,
} from "@vigil/protocol"
import { HubSpace, type DiscoveryRequest } from "../src/space/hubSpace.ts"
import { rawPhone as makeRawPhone } from "./support/rawPhone.ts"

let relay: MemoryRelay
let dataDir: string
let hub: HubSpace
let logs: string[]

beforeEach(async () => {
  relay = new MemoryRelay()
  dataDir = await mkdtemp(join(tmpdir(), "vigil-discovery-"))
  logs = []
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      logs.push(...chunk.toString().split("\n").filter(Boolean))
      done()
    },
  })
  hub = await HubSpace.open({
    dataDir,
    signalUrl: "http://relay.invalid",
    relay: (token) => relay.transport({ token }),
    hubName: "Porch",
    logger: pino({ level: "info" }, sink),
  })
})
afterEach(async () => {
  await hub.close()
  await rm(dataDir, { recursive: true, force: true })
})

const logCount = (msg: string) => logs.filter((l) => l.includes(`"msg":"${msg}"`)).length

/** A phone made of protocol parts only, so the test can also misbehave (hub/test/support/rawPhone.ts). */
const rawPhone = (name: string) =>
  makeRawPhone(
    { relay: (token) => relay.transport({ token }), hubDeviceId: () => hub.deviceId, hubName: "Porch" },
    name,
  )

/** The hub's answers, decided by the test; `asked` resolves with each request the hub shows. */
function hubConsole() {
  const asked: DiscoveryRequest[] = []
  let answer: (yes: boolean) => void = () => {}
  const refused: string[] = []
  return {
    asked,
    refused,
    answer: (yes: boolean) => answer(yes),
    confirm: (request: DiscoveryRequest, signal: AbortSignal) =>
      new Promise<boolean>((resolve) => {
        asked.push(request)
        answer = resolve
        signal.addEventListener("abort", () => resolve(false), { once: true })
      }),
    onRefused: (_r: unknown, reason: string) => void refused.push(reason),
  }
}

describe("pairing by discovery, hub side", () => {
  it("commits only after both confirmations; a refusal at the hub leaves it as it was", async () => {
    const c = hubConsole()
    const discovery = hub.startDiscovery({ confirm: c.confirm, onRefused: c.onRefused })
    const epoch = hub.epoch

    // Refused at the hub: the phone hears so, the hub stays at its epoch, signal stops serving the phone.
    const refusedPhone = await rawPhone("Nope")
    const code1 = await refusedPhone.join()
    await vi.waitFor(() => expect(c.asked).toHaveLength(1))
    expect(c.asked[0]).toMatchObject({ deviceId: refusedPhone.deviceId, deviceName: "Nope", code: code1 })
    await refusedPhone.confirm(code1)
    c.answer(false)
    expect(await refusedPhone.result()).toMatchObject({ accepted: false, to: refusedPhone.deviceId })
    await vi.waitFor(() => expect(c.refused).toEqual(["refused at the hub"]))
    expect(hub.epoch).toBe(epoch)
    expect(hub.phones).toEqual([])
    await expect(refusedPhone.client.sendToMailbox(hub.deviceId, new Uint8Array([1]))).rejects.toMatchObject({
      status: 403,
    })

    // Confirmed on both sides: the phone is added, under its name, in the next epoch.
    const phone = await rawPhone("Anna's phone")
    const code2 = await phone.join()
    await vi.waitFor(() => expect(c.asked).toHaveLength(2))
    expect(c.asked[1]!.code).toBe(code2)
    c.answer(true)
    await phone.confirm(code2)
    expect(await phone.result()).toMatchObject({
      accepted: true,
      to: phone.deviceId,
      epoch: String(epoch + 1n),
    })
    expect(hub.phones).toMatchObject([{ deviceId: phone.deviceId, name: "Anna's phone" }])
    expect(hub.epoch).toBe(epoch + 1n)
    discovery.stop()
  })

  it("a confirmation forged by another device, or for another code, does not pair", async () => {
    const c = hubConsole()
    hub.startDiscovery({ confirm: c.confirm, onRefused: c.onRefused, confirmTimeoutMs: 4000 })
    const epoch = hub.epoch
    const phone = await rawPhone("Victim")
    const code = await phone.join()
    await vi.waitFor(() => expect(c.asked).toHaveLength(1))
    c.answer(true)

    // A neighbour posts a confirmation in the phone's name (signal says who posted it), then its own.
    const neighbour = await rawPhone("Neighbour")
    const inName = encodeDiscoveryRoomMessage({
      kind: "confirm",
      deviceId: phone.deviceId,
      sealed: new Uint8Array(64),
    })
    await neighbour.client.postToRoom(phone.roomId, inName)
    const own = encodeDiscoveryRoomMessage({
      kind: "confirm",
      deviceId: neighbour.deviceId,
      sealed: new Uint8Array(64),
    })
    await neighbour.client.postToRoom(phone.roomId, own)
    // The phone itself confirms another code than the hub's.
    await phone.confirm(code === "000000" ? "000001" : "000000")

    expect(await phone.result()).toMatchObject({ accepted: false })
    expect(c.refused).toEqual(["no confirmation in time"])
    expect(hub.epoch).toBe(epoch)
    expect(hub.phones).toEqual([])
    expect(logCount("refused a message in the pairing room")).toBe(1)
    expect(logCount("pairing message for no pending request")).toBe(1)
    expect(logCount("refused a pairing confirmation")).toBe(1)
  })

  it("shows no code until the phone reveals the nonce it committed to; another nonce ends the pairing", async () => {
    const c = hubConsole()
    hub.startDiscovery({ confirm: c.confirm, onRefused: c.onRefused })
    const epoch = hub.epoch
    // A relay in the middle that learned the hub's epoch would need to pick the nonce after the fact.
    const phone = await rawPhone("Grinder")
    await phone.join(new Uint8Array(32).fill(7))
    expect(await phone.result()).toMatchObject({ accepted: false })
    await vi.waitFor(() => expect(c.refused).toEqual(["the phone's nonce did not match its request"]))
    expect(c.asked).toEqual([])
    expect(hub.epoch).toBe(epoch)
    expect(hub.phones).toEqual([])
    expect(logCount("refused a pairing nonce")).toBe(1)
  })
})

describe("device requests from phones", () => {
  it("removes a phone at a paired phone's signed request; refuses forged, replayed and foreign ones", async () => {
    const c = hubConsole()
    hub.startDiscovery({ confirm: c.confirm })
    const a = await rawPhone("A")
    const codeA = await a.join()
    await vi.waitFor(() => expect(c.asked).toHaveLength(1))
    c.answer(true)
    await a.confirm(codeA)
    await a.result()
    const b = await rawPhone("B")
    const codeB = await b.join()
    await vi.waitFor(() => expect(c.asked).toHaveLength(2))
    c.answer(true)
    await b.confirm(codeB)
    await b.result()
    await a.follow() // A learns of B's add
    expect(hub.phones.map((p) => p.deviceId)).toEqual([a.deviceId, b.deviceId])
    // The live service listens here to end a removed phone's live view at once.
    const removedPhones: string[] = []
    hub.onPhoneRemoved((id) => removedPhones.push(id))

    const refusedBefore = logCount("refused a message in the hub mailbox")
    const now = Date.now()
    // Forged: B's key, A's name. Foreign sender: B's request naming A. Stale: two minutes old.
    await a.sendDeviceRequest(
      { kind: "device-remove", deviceId: a.deviceId, target: b.deviceId, issuedAt: now },
      b.signKey,
    )
    await b.sendDeviceRequest({
      kind: "device-remove",
      deviceId: a.deviceId,
      target: b.deviceId,
      issuedAt: now,
    })
    await a.sendDeviceRequest({
      kind: "device-remove",
      deviceId: a.deviceId,
      target: b.deviceId,
      issuedAt: now - 120_000,
    })
    // Not a member: a phone the hub never paired cannot even reach the hub's mailbox.
    const stranger = await rawPhone("Stranger")
    await expect(stranger.client.sendToMailbox(hub.deviceId, new Uint8Array([1]))).rejects.toMatchObject({
      status: 403,
    })
    await vi.waitFor(() => expect(logCount("refused a message in the hub mailbox")).toBe(refusedBefore + 3), {
      timeout: 15_000,
    })
    expect(hub.phones).toHaveLength(2)

    // The real request: B is removed in a new epoch. Its replay (same issuedAt) is refused.
    const epoch = hub.epoch
    const request = {
      kind: "device-remove",
      deviceId: a.deviceId,
      target: b.deviceId,
      issuedAt: now + 1,
    } as const
    await a.sendDeviceRequest(request)
    await vi.waitFor(() => expect(hub.phones.map((p) => p.deviceId)).toEqual([a.deviceId]), {
      timeout: 15_000,
    })
    expect(hub.epoch).toBe(epoch + 1n)
    expect(removedPhones).toEqual([b.deviceId])
    await a.follow()
    await a.sendDeviceRequest(request)
    await vi.waitFor(() => expect(logCount("refused a message in the hub mailbox")).toBe(refusedBefore + 4), {
      timeout: 15_000,
    })
    expect(logs.filter((l) => l.includes("device request replayed"))).toHaveLength(1)
    // A removal of a phone that is not paired (any more) changes nothing.
    await a.sendDeviceRequest({ ...request, issuedAt: now + 2 })
    await vi.waitFor(() => expect(logCount("refused a device request")).toBe(1), { timeout: 15_000 })
    expect(hub.epoch).toBe(epoch + 1n)
  })
})

describe("approval from a paired phone", () => {
  it("a paired phone's signed approval stands for the hub's yes; forged or mismatched ones do not", async () => {
    const c = hubConsole()
    const approvals: string[] = []
    hub.startDiscovery({ confirm: c.confirm, onApproval: (_r, by) => void approvals.push(by) })
    const a = await rawPhone("A")
    const codeA = await a.join()
    await vi.waitFor(() => expect(c.asked).toHaveLength(1))
    c.answer(true)
    await a.confirm(codeA)
    await a.result()

    // B asks; the hub's terminal never answers. A gets a hub-signed notice with B's name and code.
    const b = await rawPhone("B")
    const codeB = await b.join()
    await vi.waitFor(async () => {
      await a.follow()
      expect(a.notices).toHaveLength(1)
    })
    const notice = a.notices[0]!
    expect(notice).toMatchObject({ deviceId: b.deviceId, deviceName: "B", code: codeB })
    const groupId = a.session!.groupId

    // Forged: a device the hub never paired; B approving itself; A approving another code; A's name, B's key.
    const stranger = await rawPhone("Stranger")
    const strangerKeys = pendingSignatureKeys(
      await createPendingJoin({ role: "phone", deviceId: stranger.deviceId }),
    )
    await stranger.approve(notice.roomId, b.deviceId, codeB, groupId, strangerKeys.signKey)
    await b.approve(notice.roomId, b.deviceId, codeB, groupId)
    await a.approve(notice.roomId, b.deviceId, codeB === "000000" ? "000001" : "000000", groupId)
    await a.approve(notice.roomId, b.deviceId, codeB, groupId, b.signKey)
    await vi.waitFor(() => expect(logCount("refused a pairing approval")).toBe(4))
    expect(hub.phones).toHaveLength(1)

    // The real approval, then B's own confirmation: B is paired without a word at the hub's terminal.
    await a.approve(notice.roomId, b.deviceId, codeB, groupId)
    await b.confirm(codeB)
    expect(await b.result()).toMatchObject({ accepted: true })
    expect(approvals).toEqual([a.deviceId])
    expect(hub.phones.map((p) => p.name)).toEqual(["A", "B"])
  })
})
