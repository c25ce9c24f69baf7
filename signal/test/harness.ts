import { createHash, randomBytes } from "node:crypto"
import { mkdtemp, rm } from "node:fs/promises"
import { createServer } from "node:http"
import type { AddressInfo } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { expect } from "vitest"
import { WebSocket } from "ws"
import { createApp, type RelayApp } from "../src/app.ts"
import { resolveSignalConfig, type SignalConfig } from "../src/config.ts"
import { Notifier } from "../src/http/notifier.ts"
import { createLogger } from "../src/log.ts"
import type { PushService } from "../src/push/pushSender.ts"
import type { BlobStore } from "../src/store/blobStore.ts"
import { FsBlobStore } from "../src/store/fsBlobStore.ts"
import type { MetaStore } from "../src/store/metaStore.ts"
import { SqliteMetaStore } from "../src/store/sqliteMetaStore.ts"

/** A relay app bound to 127.0.0.1 on an ephemeral port. */
export interface TestRelay {
  url: string
  store: MetaStore
  blobs: BlobStore
  notifier: Notifier
  app: RelayApp
  /** `ws://127.0.0.1:PORT/v1/ws` */
  wsUrl: string
  /** Stops the server and closes the store (the data dir is kept when it was passed in). */
  close(): Promise<void>
}

export interface TestRelayOptions {
  config?: Partial<SignalConfig>
  now?: () => number
  /** Use file-backed stores in this directory (kept on close) instead of memory + a temp dir. */
  dataDir?: string
  push?: PushService
}

export async function makeTempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), "vigil-signal-test-"))
}

export async function startTestRelay(options: TestRelayOptions = {}): Promise<TestRelay> {
  const ownDir = options.dataDir === undefined ? await makeTempDir() : undefined
  const dataDir = options.dataDir ?? ownDir ?? ""
  const store = SqliteMetaStore.open(
    options.dataDir === undefined ? ":memory:" : join(dataDir, "meta.sqlite"),
  )
  const blobs = await FsBlobStore.open(join(dataDir, "blobs"))
  const notifier = new Notifier()
  const app = createApp({
    store,
    blobs,
    notifier,
    // Tests register many devices from 127.0.0.1; the registration limit has its own tests.
    config: resolveSignalConfig({ rateLimitRegistrations: { perSecond: 0, burst: 1 }, ...options.config }),
    logger: createLogger({ level: "silent" }),
    now: options.now,
    push: options.push,
  })
  const server = createServer(app)
  app.relay.attach(server)
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    store,
    blobs,
    notifier,
    app,
    wsUrl: `ws://127.0.0.1:${port}/v1/ws`,
    async close() {
      await app.relay.shutdown()
      server.closeAllConnections()
      await new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())))
      await store.close()
      if (ownDir !== undefined) await rm(ownDir, { recursive: true, force: true })
    },
  }
}

export interface TestDevice {
  deviceId: string
  token: string
}

export function bearer(device: TestDevice): Record<string, string> {
  return { authorization: `Bearer ${device.token}` }
}

export async function register(relay: TestRelay, kind: "hub" | "phone"): Promise<TestDevice> {
  const res = await fetch(`${relay.url}/v1/devices`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ kind }),
  })
  expect(res.status).toBe(201)
  return (await res.json()) as TestDevice
}

/**
 * What a phone does to consent to joining a hub's space (docs/04-relay.md "Joining a space"): the hub
 * claims a pairing room, the phone writes into it. Returns the room id.
 */
export async function consentToJoin(relay: TestRelay, hub: TestDevice, phone: TestDevice): Promise<string> {
  const roomId = randomBytes(32).toString("hex")
  const claimed = await fetch(`${relay.url}/v1/rooms/${roomId}/owner`, {
    method: "PUT",
    headers: bearer(hub),
  })
  expect(claimed.status).toBe(204)
  const posted = await fetch(`${relay.url}/v1/rooms/${roomId}/messages`, {
    method: "POST",
    headers: octets(phone),
    body: new Uint8Array([1]),
  })
  expect(posted.status).toBe(201)
  return roomId
}

/** The phone consents, then the hub adds it to the space (`?pending=1` with `pending`). */
export async function enroll(
  relay: TestRelay,
  hub: TestDevice,
  spaceId: string,
  phone: TestDevice,
  options: { pending?: boolean } = {},
): Promise<void> {
  await consentToJoin(relay, hub, phone)
  const query = options.pending ? "?pending=1" : ""
  const added = await fetch(`${relay.url}/v1/spaces/${spaceId}/members/${phone.deviceId}${query}`, {
    method: "PUT",
    headers: bearer(hub),
  })
  expect(added.status).toBe(204)
}

/** A hub that owns a new space, and a phone that is a member of it. */
export async function createSpaceWithMember(
  relay: TestRelay,
): Promise<{ hub: TestDevice; phone: TestDevice; spaceId: string }> {
  const hub = await register(relay, "hub")
  const phone = await register(relay, "phone")
  const created = await fetch(`${relay.url}/v1/spaces`, { method: "POST", headers: bearer(hub) })
  expect(created.status).toBe(201)
  const { spaceId } = (await created.json()) as { spaceId: string }
  await enroll(relay, hub, spaceId, phone)
  return { hub, phone, spaceId }
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex")
}

export function octets(device: TestDevice): Record<string, string> {
  return { ...bearer(device), "content-type": "application/octet-stream" }
}

/** Asserts a JSON error answer `{ error: { code, message } }`. */
export async function expectError(res: Response, status: number, code: string): Promise<void> {
  expect(res.headers.get("content-type")).toMatch(/^application\/json/)
  const body = (await res.json()) as { error?: { code?: unknown; message?: unknown } }
  expect({ status: res.status, code: body.error?.code }).toEqual({ status, code })
  expect(typeof body.error?.message).toBe("string")
}

/** A WebSocket test client that queues the relay's frames for `next()`. */
export interface TestSocket {
  ws: WebSocket
  /** The next frame (optionally the next of a kind, skipping others), or throws after `timeoutMs`. */
  next(kind?: string, timeoutMs?: number): Promise<Record<string, unknown>>
  send(frame: unknown): void
  /** Resolves with the close code once the socket is closed. */
  closed: Promise<number>
  close(): Promise<void>
}

export async function openSocket(
  relay: Pick<TestRelay, "wsUrl">,
  options: { token?: string; headers?: Record<string, string>; localAddress?: string } = {},
): Promise<TestSocket> {
  const ws = new WebSocket(relay.wsUrl, { headers: options.headers, localAddress: options.localAddress })
  const frames: Record<string, unknown>[] = []
  const waiters: (() => void)[] = []
  ws.on("message", (data) => {
    frames.push(JSON.parse(String(data)) as Record<string, unknown>)
    for (const w of waiters.splice(0)) w()
  })
  const closed = new Promise<number>((resolve) => ws.once("close", (code) => resolve(code)))
  await new Promise<void>((resolve, reject) => {
    ws.once("open", () => resolve())
    ws.once("error", reject)
  })
  const socket: TestSocket = {
    ws,
    send: (frame) => ws.send(typeof frame === "string" ? frame : JSON.stringify(frame)),
    async next(kind, timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs
      for (;;) {
        const index = frames.findIndex((f) => kind === undefined || f.kind === kind)
        if (index >= 0) return frames.splice(index, 1)[0] ?? {}
        const left = deadline - Date.now()
        if (left <= 0)
          throw new Error(`no ${kind ?? "frame"} within ${timeoutMs} ms; got ${JSON.stringify(frames)}`)
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, left)
          waiters.push(() => {
            clearTimeout(timer)
            resolve()
          })
        })
      }
    },
    closed,
    async close() {
      ws.close()
      await closed
    },
  }
  if (options.token !== undefined) {
    socket.send({ kind: "auth", token: options.token })
    const ready = await socket.next()
    expect(ready.kind).toBe("ready")
  }
  return socket
}

/** Polls `condition` every 5 ms for up to 2 s. */
export async function waitUntil(
  condition: () => boolean | Promise<boolean>,
  timeoutMs = 2000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error("condition not met in time")
    await new Promise((r) => setTimeout(r, 5))
  }
}
