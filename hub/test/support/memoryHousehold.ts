/**
 * A hub's space on the in-memory relay with phones made of protocol parts (rawPhone.ts), for tests of what
 * phones ask of their hub (renames, roles, removals). The hub's log is kept for assertions.
 */
import { mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Writable } from "node:stream"
import { pino } from "pino"
import { vi } from "vitest"
import { MemoryRelay, type DeviceRoster, type MemoryRelayOptions } from "@vigil/protocol"
import { HubSpace, type DiscoveryRequest } from "../../src/space/hubSpace.ts"
import { rawPhone, type RawPhone } from "./rawPhone.ts"

export interface MemoryHousehold {
  relay: MemoryRelay
  dataDir: string
  /** The hub under test (replaced by `reopen`). */
  hub: HubSpace
  logs: string[]
  /** How many log lines carry exactly this message. */
  logCount(msg: string): number
  /** Closes the hub and opens it again from its saved state. */
  reopen(): Promise<HubSpace>
  /** Pairs phones by discovery, the hub's terminal saying yes to each, in order; all are up to date after. */
  pairPhones(names: readonly string[]): Promise<RawPhone[]>
  /** A phone that is not paired yet. */
  phone(name: string): Promise<RawPhone>
  close(): Promise<void>
}

export async function memoryHousehold(
  cameras: readonly { id: string; name: string }[] = [],
  relayOptions: MemoryRelayOptions = {},
): Promise<MemoryHousehold> {
  const relay = new MemoryRelay(relayOptions)
  const dataDir = await mkdtemp(join(tmpdir(), "vigil-household-"))
  const logs: string[] = []
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      logs.push(...chunk.toString().split("\n").filter(Boolean))
      done()
    },
  })
  const open = () =>
    HubSpace.open({
      dataDir,
      signalUrl: "http://relay.invalid",
      relay: (token) => relay.transport({ token }),
      hubName: "Home",
      logger: pino({ level: "info" }, sink),
      cameras,
    })
  const household: MemoryHousehold = {
    relay,
    dataDir,
    hub: await open(),
    logs,
    logCount: (msg) => logs.filter((l) => l.includes(`"msg":"${msg}"`)).length,
    async reopen() {
      await household.hub.close()
      household.hub = await open()
      return household.hub
    },
    phone: (name) =>
      rawPhone(
        {
          relay: (token) => relay.transport({ token }),
          hubDeviceId: () => household.hub.deviceId,
          hubName: "Home",
        },
        name,
      ),
    async pairPhones(names) {
      const asked: DiscoveryRequest[] = []
      let yes: (v: boolean) => void = () => {}
      const discovery = household.hub.startDiscovery({
        confirm: (request) =>
          new Promise<boolean>((resolve) => {
            asked.push(request)
            yes = resolve
          }),
      })
      const phones: RawPhone[] = []
      try {
        for (const name of names) {
          const p = await household.phone(name)
          await p.pair(
            () => asked.length,
            () => yes(true),
          )
          phones.push(p)
        }
      } finally {
        discovery.stop()
      }
      for (const p of phones) await p.follow()
      return phones
    },
    async close() {
      await household.hub.close()
      await rm(dataDir, { recursive: true, force: true })
    },
  }
  return household
}

/** Waits until `phone` holds a roster (after the first `since`) that satisfies `check`; returns it. */
export async function rosterWhere(
  phone: RawPhone,
  check: (r: DeviceRoster) => boolean,
  since = 0,
): Promise<DeviceRoster> {
  let found: DeviceRoster | undefined
  await vi.waitFor(
    async () => {
      await phone.follow()
      found = phone.rosters.slice(since).findLast(check)
      if (!found) throw new Error("no such roster yet")
    },
    { timeout: 15_000, interval: 100 },
  )
  return found!
}
