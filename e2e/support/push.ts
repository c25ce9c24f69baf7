/**
 * Web Push in the e2e specs. Chromium here cannot reach a real push service (it would call Google's), so a
 * payload travels the last leg through DevTools (`ServiceWorker.deliverPushMessage`): the very payload the
 * hub posted to signal, taken off the wire by a byte-for-byte TCP relay between the hub and signal.
 */
import { writeFile } from "node:fs/promises"
import { createConnection, createServer, type Server } from "node:net"
import { join } from "node:path"
import { chromium, expect, type BrowserContext, type Page } from "@playwright/test"
import {
  phoneLaunchOptions,
  removeDir,
  startHub,
  startSignal,
  tempDir,
  type ManagedProcess,
} from "./harness.ts"

/** Signal with Web Push enabled the way an operator does it: `pushHosts` in a --config file. */
export async function startPushSignal(dataDir: string): Promise<{ proc: ManagedProcess; url: string }> {
  const config = join(dataDir, "config.json")
  await writeFile(config, JSON.stringify({ pushHosts: ["push.example"] }))
  return startSignal(dataDir, { extraArgs: ["--config", config] })
}

/**
 * A household whose pushes can be read off the wire: signal with push, the capturing relay in front of it,
 * a hub behind that relay (`hubConfig`: its config file's JSON), and an inspectable phone allowed to show
 * notifications. `close` undoes it all.
 */
export async function startPushHousehold(opts: { cycleSeconds: number; hubConfig?: object }) {
  const dirs = {
    signal: await tempDir("signal"),
    hub: await tempDir("hub"),
    profile: await tempDir("profile"),
  }
  const procs: ManagedProcess[] = []
  const signal = await startPushSignal(dirs.signal)
  procs.push(signal.proc)
  const relay = await startCapturingRelay(signal.url)
  let configPath: string | undefined
  if (opts.hubConfig) {
    configPath = join(dirs.hub, "hub.json")
    await writeFile(configPath, JSON.stringify(opts.hubConfig))
  }
  const hub = await startHub({
    signalUrl: relay.url,
    dataDir: dirs.hub,
    cycleSeconds: opts.cycleSeconds,
    configPath,
  })
  procs.push(hub)
  const context = await launchInspectablePhone(dirs.profile)
  await context.grantPermissions(["notifications"], { origin: relay.url })
  return {
    relay,
    hub,
    context,
    profile: dirs.profile,
    hubDir: dirs.hub,
    /** A process started later (another hub) that `close` must stop too. */
    track(proc: ManagedProcess) {
      procs.push(proc)
    },
    async close() {
      await context.close()
      for (const p of procs.reverse()) await p.stop()
      relay.server.close()
      await Promise.all(Object.values(dirs).map(removeDir))
    },
  }
}

/**
 * A TCP relay in front of signal that forwards every byte unchanged and notes the payloads of the hub's
 * `POST /v1/spaces/:id/push` requests as they pass.
 */
export async function startCapturingRelay(
  target: string,
): Promise<{ url: string; payloads: string[]; server: Server }> {
  const { hostname, port } = new URL(target)
  const payloads: string[] = []
  const push =
    /POST \/v1\/spaces\/[0-9a-f]{32}\/push HTTP\/1\.1\r\n[\s\S]*?\r\n\r\n\{"payload":"([A-Za-z0-9+/=]+)"/g
  const server = createServer((client) => {
    const upstream = createConnection({ host: hostname, port: Number(port) })
    let window = ""
    client.on("data", (chunk: Buffer) => {
      // A window big enough for one push request (≤ 3072 bytes of payload, as base64, plus headers).
      window = (window + chunk.toString("latin1")).slice(-64 * 1024)
      for (const m of window.matchAll(push)) {
        const text = Buffer.from(m[1]!, "base64").toString("utf8")
        if (!payloads.includes(text)) payloads.push(text)
      }
    })
    client.pipe(upstream).pipe(client)
    client.on("error", () => upstream.destroy())
    upstream.on("error", () => client.destroy())
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  const address = server.address()
  if (!address || typeof address === "string") throw new Error("no address")
  return { url: `http://127.0.0.1:${address.port}`, payloads, server }
}

/** A phone that also listens for DevTools on a free 127.0.0.1 port (to reach its service worker). */
export async function launchInspectablePhone(profile: string) {
  const options = phoneLaunchOptions()
  return chromium.launchPersistentContext(profile, {
    ...options,
    args: [...options.args, "--remote-debugging-port=0"],
  })
}

export interface ShownNotification {
  title: string
  body: string
  tag: string
  icon: string
}

/** The notifications the service worker is showing (read from any page the worker controls). */
export const shownNotifications = (page: Page) =>
  page.evaluate(async () =>
    (await (await navigator.serviceWorker.ready).getNotifications()).map((n) => ({
      title: n.title,
      body: n.body,
      tag: n.tag,
      icon: n.icon,
    })),
  ) as Promise<ShownNotification[]>

export const closeNotifications = (page: Page) =>
  page.evaluate(async () => {
    for (const n of await (await navigator.serviceWorker.ready).getNotifications()) n.close()
  })

/**
 * DevTools' push delivery to the service worker of `origin`, through a page the worker controls that does
 * not start the app (/healthz is never routed to the app shell).
 */
export async function pushDeliverer(context: BrowserContext, origin: string) {
  const probe = await context.newPage()
  await probe.goto(`${origin}/healthz`)
  const cdp = await context.newCDPSession(probe)
  const registrations: { registrationId: string; isDeleted: boolean }[] = []
  cdp.on("ServiceWorker.workerRegistrationUpdated", (e) => registrations.push(...e.registrations))
  await cdp.send("ServiceWorker.enable")
  await expect.poll(() => registrations.filter((r) => !r.isDeleted).length).toBeGreaterThan(0)
  const registrationId = registrations.find((r) => !r.isDeleted)!.registrationId
  const deliver = async (data: string) => {
    await cdp.send("ServiceWorker.deliverPushMessage", { origin, registrationId, data })
  }
  return { probe, deliver }
}
