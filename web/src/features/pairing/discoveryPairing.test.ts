/**
 * The phone's side of pairing by discovery with a real hub, on the in-memory relay (protocol/src/memoryRelay.ts): nothing is kept until both
 * people confirmed; a refusal or a cancel leaves the phone's store empty and the hub at its epoch.
 */
import "fake-indexeddb/auto"
import { mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { pino } from "pino"
import { afterEach, beforeEach, expect, it, vi } from "vitest"
import { HubSpace } from "@vigil/hub"
import { MemoryRelay, toBase64 } from "@vigil/protocol"
import { PhoneSpace } from "../../space/phoneSpace.ts"
import { LocalStore } from "../../store/db.ts"
import { DiscoveryPairing } from "./discoveryPairing.ts"

type DiscoveryRequest = Parameters<Parameters<HubSpace["startDiscovery"]>[0]["confirm"]>[0]

let relay: MemoryRelay
const relayUrl = "http://relay.invalid"
const transports = { relay: (_url: string, token?: string) => relay.transport({ token }) }
let dataDir: string
let hub: HubSpace
let asked: DiscoveryRequest[]
let refused: string[]
let answer: (yes: boolean) => void

beforeEach(async () => {
  relay = new MemoryRelay()
  dataDir = await mkdtemp(join(tmpdir(), "vigil-web-discovery-"))
  hub = await HubSpace.open({
    dataDir,
    signalUrl: relayUrl,
    relay: (token) => relay.transport({ token }),
    hubName: "Garden",
    logger: pino({ level: "silent" }),
  })
  asked = []
  refused = []
  hub.startDiscovery({
    confirm: (request, signal) =>
      new Promise((resolve) => {
        asked.push(request)
        answer = resolve
        signal.addEventListener("abort", () => resolve(false), { once: true })
      }),
    onRefused: (_r, reason) => void refused.push(reason),
  })
})
afterEach(async () => {
  await hub.close()
  await rm(dataDir, { recursive: true, force: true })
})

let storeCount = 0
async function phone() {
  const store = await LocalStore.open(`discovery-${storeCount++}`)
  const pairing = new DiscoveryPairing(relayUrl, store, () => {}, transports)
  await vi.waitFor(
    async () => {
      await pairing.search()
      const s = pairing.state
      if (s.kind !== "searching" || !s.hubs?.length) throw new Error("not listed yet")
    },
    { timeout: 10_000, interval: 200 },
  )
  const s = pairing.state
  if (s.kind !== "searching") throw new Error("unexpected state")
  expect(s.hubs!.map((h) => h.name)).toEqual(["Garden"])
  const done = pairing.choose(s.hubs![0]!, "Kitchen tablet")
  await vi.waitFor(() => expect(pairing.state.kind).toBe("code"), { timeout: 10_000 })
  return { store, pairing, done }
}

const code = (p: DiscoveryPairing) => (p.state.kind === "code" ? p.state.code : undefined)

it("keeps the pairing only after both confirmed, then loads as a paired space with the hub's key", async () => {
  const { store, pairing, done } = await phone()
  await vi.waitFor(() => expect(asked).toHaveLength(1))
  expect(asked[0]).toMatchObject({ deviceName: "Kitchen tablet", code: code(pairing) })
  answer(true)
  expect(await store.get("device")).toBeUndefined() // the hub said yes, but this phone's user did not yet
  pairing.confirm()
  await done
  expect(pairing.state.kind).toBe("paired")
  const space = await store.get("space")
  expect(space).toMatchObject({ spaceId: hub.spaceId, hubName: "Garden", hubDeviceId: hub.deviceId })
  const loaded = await PhoneSpace.load(store, () => {}, transports)
  expect(loaded?.status.kind).toBe("paired")
  expect(hub.phones).toMatchObject([{ name: "Kitchen tablet" }])
  // The key the phone pinned is the hub's own (the one an invite would carry).
  expect(space!.hubKey).toBe(toBase64((await hub.createInvite()).invite.hubKey))
  expect(loaded!.devices()).toMatchObject([{ self: true }])
})

it("a refusal at the hub leaves nothing on the phone", async () => {
  const epoch = hub.epoch
  const { store, pairing, done } = await phone()
  pairing.confirm()
  await vi.waitFor(() => expect(asked).toHaveLength(1))
  answer(false)
  await done
  expect(pairing.state).toMatchObject({ kind: "refused" })
  for (const key of ["device", "space", "group", "pending"] as const)
    expect(await store.get(key)).toBeUndefined()
  expect(hub.epoch).toBe(epoch)
  expect(hub.phones).toEqual([])
})

it("cancelling on the phone refuses at the hub too", async () => {
  const epoch = hub.epoch
  const { store, pairing } = await phone()
  await vi.waitFor(() => expect(asked).toHaveLength(1))
  await pairing.cancel()
  await vi.waitFor(() => expect(refused).toEqual(["cancelled on the phone"]))
  expect(pairing.state).toMatchObject({ kind: "refused" })
  expect(await store.get("device")).toBeUndefined()
  expect(hub.epoch).toBe(epoch)
})
