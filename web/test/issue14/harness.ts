/**
 * Arrange helpers for the issue 14 phone tests: a real signal relay on 127.0.0.1, a real hub space, and the
 * phone's real code over fake-indexeddb — the same set-up as web/test/phoneSpace.test.ts.
 */
import "fake-indexeddb/auto"
import { mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { pino } from "pino"
import { HubSpace } from "@vigil/hub"
import { decodeInvite, randomBytes, type CameraId } from "@vigil/protocol"
import { SqliteMetaStore, startTestRelay, type DeviceId } from "@vigil/signal"
import { PhoneSpace, type PhoneSpaceOptions } from "../../src/space/phoneSpace.ts"
import { LocalStore } from "../../src/store/db.ts"

const logger = pino({ level: "silent" })

export async function until<T>(
  probe: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await probe()
    if (value !== undefined && value !== false) return value
    if (Date.now() > deadline) throw new Error("condition not met in time")
    await new Promise((r) => setTimeout(r, 50))
  }
}

export const clipOf = (label: "motion" | "person" = "person", mp4 = randomBytes(50_000)) => ({
  mp4,
  cameraId: "front-door" as CameraId,
  cameraName: "Front door",
  label,
  startedAt: Date.now() - 5000,
  endedAt: Date.now(),
})

export interface Harness {
  relay: Awaited<ReturnType<typeof startTestRelay>>
  openHub(name?: string): Promise<HubSpace>
  pairPhone(
    hub: HubSpace,
    dbName: string,
    options?: PhoneSpaceOptions,
  ): Promise<{ phone: PhoneSpace; store: LocalStore }>
  /** Opens a saved phone again (it was stopped) and starts its mailbox loop. */
  reopen(store: LocalStore, options?: PhoneSpaceOptions): Promise<PhoneSpace>
  /** What the relay can do without any key: put bytes into a device's mailbox, from any sender. */
  mailAsRelay(to: string, from: string, body: Uint8Array): Promise<void>
  close(): Promise<void>
}

export async function startHarness(): Promise<Harness> {
  const relay = await startTestRelay()
  const dirs: string[] = []
  const cleanup: (() => unknown)[] = []
  return {
    relay,
    async openHub(hubName = "Home") {
      const dataDir = await mkdtemp(join(tmpdir(), "vigil-hub-"))
      dirs.push(dataDir)
      const hub = await HubSpace.open({ dataDir, signalUrl: relay.url, hubName, logger })
      cleanup.push(() => hub.close())
      return hub
    },
    async pairPhone(hub, dbName, options) {
      const store = await LocalStore.open(dbName)
      cleanup.push(() => store.close())
      const invites: string[] = []
      const paired = new Promise<void>(
        (resolve) => void hub.createInvite(() => resolve()).then((i) => invites.push(i.code)),
      )
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
    },
    async reopen(store, options) {
      const phone = await PhoneSpace.load(store, () => {}, options)
      if (!phone) throw new Error("nothing saved to reopen")
      cleanup.push(() => phone.stop())
      void phone.run()
      return phone
    },
    async mailAsRelay(to, from, body) {
      const meta = SqliteMetaStore.open(join(relay.dir, "meta.sqlite"))
      try {
        const result = await meta.appendMailbox({
          to: to as DeviceId,
          from: from as DeviceId,
          sentAt: Date.now(),
          body,
          maxMessages: 10_000,
        })
        if (result.kind !== "ok") throw new Error("mailbox full")
      } finally {
        await meta.close()
      }
    },
    async close() {
      for (const c of cleanup.splice(0).reverse()) await c()
      await relay.close()
      for (const d of dirs) await rm(d, { recursive: true, force: true })
    },
  }
}
