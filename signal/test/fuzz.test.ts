/**
 * Hostile-input fuzzing of a real relay on 127.0.0.1: ≥ 10,000 malformed or hostile HTTP requests,
 * raw malformed HTTP, and WebSocket frames (bad JSON, wrong types, huge bodies, path tricks,
 * unauthenticated and cross-space calls). Every answer must be < 500, every HTTP rejection a 4xx
 * with a JSON `{ error: { code, message } }` body, every rejected frame a JSON `error` frame, and the
 * relay must log no unhandled error. Seeded, so a failure can be replayed (see FUZZ_SEED).
 */
import { createHash, randomBytes } from "node:crypto"
import { mkdir, rm, writeFile } from "node:fs/promises"
import { Agent, createServer, request, type Server } from "node:http"
import type { AddressInfo } from "node:net"
import { connect } from "node:net"
import { join } from "node:path"
import { Writable } from "node:stream"
import { gzipSync } from "node:zlib"
import { pino } from "pino"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { WebSocket } from "ws"
import { createApp, type RelayApp } from "../src/app.ts"
import { resolveSignalConfig, type SignalConfig } from "../src/config.ts"
import type { PushSender } from "../src/push/pushSender.ts"
import { FsBlobStore } from "../src/store/fsBlobStore.ts"
import { SqliteMetaStore } from "../src/store/sqliteMetaStore.ts"
import { makeTempDir, sha256Hex } from "./harness.ts"

const seed = Number(process.env.FUZZ_SEED ?? 20_240_601)

/** mulberry32: small, fast, seedable. */
function prng(s: number): () => number {
  let a = s >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

interface Fuzzer {
  rand: () => number
  pick<T>(items: readonly T[]): T
  int(max: number): number
  chance(p: number): boolean
}

function fuzzer(s: number): Fuzzer {
  const rand = prng(s)
  const int = (max: number) => Math.floor(rand() * max)
  return { rand, int, pick: (items) => items[int(items.length)] as never, chance: (p) => rand() < p }
}

interface Device {
  deviceId: string
  token: string
}

interface RunningRelay {
  url: string
  port: number
  app: RelayApp
  errors: string[]
  close(): Promise<void>
}

/** A relay whose logger records every error-level line (an "unhandled error" means a 500 path). */
async function startRelay(dir: string, config: Partial<SignalConfig>): Promise<RunningRelay> {
  const errors: string[] = []
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      const line = JSON.parse(chunk.toString()) as { level: number; msg: string }
      if (line.level >= 50) errors.push(chunk.toString())
      done()
    },
  })
  const webRoot = join(dir, "web")
  await mkdir(join(webRoot, "assets"), { recursive: true })
  await writeFile(join(webRoot, "index.html"), "<!doctype html><title>Vigil</title>")
  await writeFile(join(webRoot, "assets", "app-abc.js"), "1")
  const store = SqliteMetaStore.open(join(dir, "meta.sqlite"))
  const blobs = await FsBlobStore.open(join(dir, "blobs"))
  const sender: PushSender = { send: async () => ({ kind: "sent" }) }
  const app = createApp({
    store,
    blobs,
    config: resolveSignalConfig({
      webRoot,
      maxBlobBytes: 64 * 1024,
      spaceQuotaBytes: 256 * 1024,
      corsOrigin: "https://app.example",
      ...config,
    }),
    logger: pino({ level: "warn" }, sink),
    push: { sender, publicKey: "B".repeat(87) },
  })
  const server: Server = createServer(app)
  app.relay.attach(server)
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    app,
    errors,
    async close() {
      await app.relay.shutdown()
      server.closeAllConnections()
      await new Promise((r) => server.close(r))
      await store.close()
    },
  }
}

interface Answer {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: Buffer
}

function send(
  agent: Agent,
  port: number,
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: Buffer,
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, method, path, headers, agent }, (res) => {
      const chunks: Buffer[] = []
      res.on("data", (c: Buffer) => chunks.push(c))
      res.on("end", () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
      )
      res.on("error", reject)
    })
    // The relay may answer 413 and close before reading a huge body: that is a fine answer.
    req.on("error", (err: NodeJS.ErrnoException) => {
      if (err.code === "ECONNRESET" || err.code === "EPIPE")
        resolve({ status: -1, headers: {}, body: Buffer.alloc(0) })
      else
        reject(
          new Error(
            `${err.message} (${err.code}) on ${method} ${path.slice(0, 100)} ${JSON.stringify(headers).slice(0, 300)} body ${body?.length}`,
          ),
        )
    })
    req.end(body)
  })
}

/** Asserts one HTTP answer; returns the error code (or "ok"). */
function check(answer: Answer, method: string, what: string): string {
  if (answer.status === -1) return "reset"
  expect(answer.status, what).toBeGreaterThanOrEqual(100)
  expect(answer.status, what).toBeLessThan(500)
  if (answer.status < 400) return "ok"
  expect(String(answer.headers["content-type"]), what).toMatch(/^application\/json/)
  if (method === "HEAD") return `head-${answer.status}`
  const parsed = JSON.parse(answer.body.toString()) as { error?: { code?: unknown; message?: unknown } }
  expect(typeof parsed.error?.code, what).toBe("string")
  expect(typeof parsed.error?.message, what).toBe("string")
  return String(parsed.error?.code)
}

describe("fuzz", () => {
  let dir: string
  let relay: RunningRelay
  let spaceA: { hub: Device; phone: Device; spaceId: string; blobId: string }
  let spaceB: { hub: Device; phone: Device; spaceId: string; blobId: string }
  let stranger: Device

  async function api(
    method: string,
    path: string,
    token?: string,
    json?: unknown,
    octets?: Buffer,
    extra = {},
  ) {
    const headers: Record<string, string> = { ...extra }
    if (token !== undefined) headers.authorization = `Bearer ${token}`
    let body: string | Uint8Array | undefined
    if (json !== undefined) {
      headers["content-type"] = "application/json"
      body = JSON.stringify(json)
    } else if (octets !== undefined) {
      headers["content-type"] = "application/octet-stream"
      body = new Uint8Array(octets)
    }
    const res = await fetch(`${relay.url}${path}`, { method, headers, body })
    expect(res.status, `${method} ${path}`).toBeLessThan(300)
    return res.status === 204 ? undefined : ((await res.json()) as Record<string, string>)
  }

  async function makeSpace() {
    const hub = (await api("POST", "/v1/devices", undefined, { kind: "hub" })) as unknown as Device
    const phone = (await api("POST", "/v1/devices", undefined, { kind: "phone" })) as unknown as Device
    const { spaceId } = (await api("POST", "/v1/spaces", hub.token)) as { spaceId: string }
    const room = randomBytes(32).toString("hex")
    await api("PUT", `/v1/rooms/${room}/owner`, hub.token)
    await api("POST", `/v1/rooms/${room}/messages`, phone.token, undefined, Buffer.from([1]))
    await api("PUT", `/v1/spaces/${spaceId}/members/${phone.deviceId}`, hub.token)
    const bytes = randomBytes(5000)
    const blobId = sha256Hex(bytes)
    await api("PUT", `/v1/spaces/${spaceId}/blobs/${blobId}`, hub.token, undefined, bytes)
    await api("POST", `/v1/devices/${phone.deviceId}/mailbox`, hub.token, undefined, Buffer.from([1]))
    return { hub, phone, spaceId: spaceId ?? "", blobId }
  }

  beforeAll(async () => {
    dir = await makeTempDir()
    // Limits off here so the handlers behind them get the traffic; the flood test below covers them.
    relay = await startRelay(dir, {
      rateLimitPerAddress: { perSecond: 0, burst: 1 },
      rateLimitPerDevice: { perSecond: 0, burst: 1 },
    })
    spaceA = await makeSpace()
    spaceB = await makeSpace()
    stranger = (await api("POST", "/v1/devices", undefined, { kind: "phone" })) as unknown as Device
  })
  afterAll(async () => {
    await relay.close()
    await rm(dir, { recursive: true, force: true })
  })

  it("survives 8,000 hostile HTTP requests with JSON 4xx rejections and no 5xx", async () => {
    const f = fuzzer(seed)
    const agent = new Agent({ keepAlive: true, maxSockets: 16 })
    const hex = (n: number) =>
      randomBytes(Math.ceil(n / 2))
        .toString("hex")
        .slice(0, n)
    const ids = () =>
      f.pick([
        spaceA.spaceId,
        spaceB.spaceId,
        spaceA.hub.deviceId,
        spaceB.phone.deviceId,
        stranger.deviceId,
        spaceA.blobId,
        spaceB.blobId,
        hex(32),
        hex(64),
        hex(31),
        hex(32).toUpperCase(),
        "..",
        "%2e%2e",
        "..%2F..%2Fetc%2Fpasswd",
        "%00",
        "%E0%A4%A",
        "%",
        "a".repeat(5000),
        "%F0%9F%98%80",
        "null",
        "-1",
        "",
        "*",
        "$%7B7*7%7D",
      ])
    const templates = [
      () => "/v1/devices",
      () => "/v1/me",
      () => "/v1/spaces",
      () => `/v1/spaces/${ids()}/members/${ids()}`,
      () => `/v1/spaces/${ids()}/blobs/${ids()}`,
      () => `/v1/spaces/${ids()}/blobs`,
      () => `/v1/spaces/${ids()}/blobs/${ids()}/ack`,
      () => `/v1/spaces/${ids()}/blobs/${ids()}/recipients`,
      () => `/v1/spaces/${ids()}/push`,
      () => `/v1/devices/${ids()}/mailbox`,
      () => `/v1/devices/${ids()}/signal`,
      () =>
        `/v1/mailbox?${f.pick(["", "after=1", "after=-1", "after=x&wait=0", "wait=99999", "after=1&after=2", "wait=1e3", "after[]=1"])}`,
      () => "/v1/mailbox/ack",
      () => `/v1/rooms/${ids()}/messages?${f.pick(["", "after=0", "wait=abc", "after=999999999999999999"])}`,
      () => "/v1/pairing/announcements",
      () => `/v1/pairing/announcements/${ids()}`,
      () => "/v1/rtc/ice-servers",
      () => "/v1/push/subscription",
      () => "/v1/push/vapid-public-key",
      () => "/v1/ws",
      () =>
        f.pick([
          "/",
          "/index.html",
          "/assets/app-abc.js",
          "/assets",
          "/../../etc/passwd",
          "/%2e%2e/%2e%2e/etc/passwd",
          "/assets/..%2f..%2fmeta.sqlite",
          "/meta.sqlite",
          "/blobs",
          "//v1//me",
          "/v1/../meta.sqlite",
          "/healthz",
          "/metrics",
          "/v2/me",
          "/v1",
          "/v1/",
        ]),
    ]
    const tokens = () =>
      f.pick<string | undefined>([
        undefined,
        spaceA.hub.token,
        spaceA.phone.token,
        spaceB.hub.token,
        stranger.token,
        "A".repeat(43),
        "short",
        "",
      ])
    const jsonBodies = (): string =>
      f.pick([
        "{",
        "[]",
        "null",
        '"x"',
        "1",
        "{}",
        '{"kind":"hub"}',
        '{"kind":"camera"}',
        '{"kind":["hub"]}',
        '{"upTo":-1}',
        '{"upTo":1.5}',
        '{"upTo":"3"}',
        `{"upTo":${Number.MAX_SAFE_INTEGER + 2}}`,
        '{"__proto__":{"admin":true},"kind":"phone"}',
        '{"constructor":{"prototype":{"x":1}}}',
        '{"recipients":"all"}',
        `{"recipients":["${spaceB.phone.deviceId}"]}`,
        '{"roomId":"x","name":1}',
        `{"roomId":"${hex(64)}","name":"SGk="}`,
        '{"payload":"AQ==","to":[1,2]}',
        '{"payload":"!!"}',
        '{"endpoint":"https://127.0.0.1/","keys":{"p256dh":"x","auth":"y"}}',
        "[".repeat(5000) + "]".repeat(5000),
        JSON.stringify({ a: "x".repeat(20_000) }),
        "\u0000\u0001",
      ])
    const outcomes = new Map<string, number>()
    const total = 8000
    let next = 0
    const worker = async () => {
      while (next < total) {
        next++
        const method = f.pick(["GET", "GET", "POST", "POST", "PUT", "DELETE", "HEAD", "OPTIONS", "PATCH"])
        const path = f.pick(templates)()
        const headers: Record<string, string> = {}
        const token = tokens()
        if (token !== undefined) headers.authorization = f.chance(0.9) ? `Bearer ${token}` : `Basic ${token}`
        let body: Buffer | undefined
        const kind = f.int(7)
        if (kind === 0) {
          headers["content-type"] = f.pick([
            "application/json",
            "application/json; charset=utf-16",
            "text/plain",
          ])
          body = Buffer.from(jsonBodies())
        } else if (kind === 1) {
          headers["content-type"] = "application/octet-stream"
          body = randomBytes(f.pick([0, 1, 100, 5000, 20_000, 70_000]))
        } else if (kind === 2) {
          headers["content-type"] = "application/json"
          headers["content-encoding"] = f.pick(["gzip", "br", "x-bogus", "deflate"])
          body = f.chance(0.5) ? gzipSync(Buffer.alloc(f.pick([10, 100, 200_000]), 0x20)) : randomBytes(64)
        } else if (kind === 3) {
          headers["content-type"] = f.pick([
            "multipart/form-data; boundary=x",
            "application/x-www-form-urlencoded",
            "",
          ])
          body = Buffer.from("a=1&b=2")
        }
        if (f.chance(0.2))
          headers.range = f.pick([
            "bytes=0-1",
            "bytes=-0",
            "bytes=9999999-",
            "bytes=1-0",
            "bytes=0-1,2-3",
            "items=1-2",
            "bytes=x",
          ])
        if (f.chance(0.1)) headers["x-forwarded-for"] = f.pick(["1.2.3.4", "garbage", "::1, 10.0.0.1", ""])
        if (f.chance(0.1))
          headers["x-vigil-recipients"] = f.pick(["", ",,,", spaceB.phone.deviceId, "x".repeat(4000)])
        if (f.chance(0.05)) headers["if-match"] = f.pick(['"nope"', "*", "garbage"])
        if (f.chance(0.05))
          headers["if-unmodified-since"] = f.pick(["Thu, 01 Jan 1970 00:00:00 GMT", "yesterday"])
        if (f.chance(0.05)) headers["if-range"] = f.pick(['"x"', "Thu, 01 Jan 1970 00:00:00 GMT"])
        if (f.chance(0.1)) headers.origin = f.pick(["https://app.example", "https://evil.example", "null"])
        if (f.chance(0.05)) headers["access-control-request-method"] = "PUT"
        const what = `seed ${seed}: ${method} ${path.slice(0, 200)} ${JSON.stringify(headers).slice(0, 300)}`
        const answer = await send(agent, relay.port, method, path, headers, body)
        const code = check(answer, method, what)
        outcomes.set(code, (outcomes.get(code) ?? 0) + 1)
      }
    }
    await Promise.all(Array.from({ length: 16 }, worker))
    agent.destroy()
    const rejected = [...outcomes.entries()]
      .filter(([k]) => k !== "ok" && k !== "reset")
      .reduce((n, [, v]) => n + v, 0)
    expect(rejected).toBeGreaterThan(total / 2)
    for (const code of ["VALIDATION", "UNAUTHENTICATED", "NOT_FOUND", "FORBIDDEN", "TOO_LARGE"]) {
      expect(outcomes.get(code) ?? 0, `no ${code} in ${JSON.stringify([...outcomes])}`).toBeGreaterThan(0)
    }
    expect(relay.errors).toEqual([])
    // The relay still serves its owners and kept their data.
    const read = await fetch(`${relay.url}/v1/spaces/${spaceA.spaceId}/blobs/${spaceA.blobId}`, {
      headers: { authorization: `Bearer ${spaceA.phone.token}` },
    })
    expect(
      createHash("sha256")
        .update(Buffer.from(await read.arrayBuffer()))
        .digest("hex"),
    ).toBe(spaceA.blobId)
  })

  it("answers 500 raw malformed HTTP messages with JSON 400s or closes", async () => {
    const f = fuzzer(seed + 1)
    const messages = () =>
      f.pick([
        // Ended by a blank line so the parser decides at once instead of waiting for more.
        () => `${randomBytes(f.int(2000) + 1).toString("latin1")}\r\n\r\n`,
        () => "GET\r\n\r\n",
        () => "GET / HTTP/9.9\r\n\r\n",
        () => "GET /v1/me\r\n\r\n",
        () =>
          `GET /v1/me HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`,
        () =>
          `POST /v1/devices HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\nzz\r\n{}\r\n0\r\n\r\n`,
        () => `POST /v1/devices HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n`,
        () => `GET / HTTP/1.1\r\nHost: x\r\nX: ${"y".repeat(20_000)}\r\n\r\n`,
        () => `GET http://evil.example/v1/me HTTP/1.1\r\nHost: x\r\n\r\n`,
        () => `CONNECT 127.0.0.1:22 HTTP/1.1\r\nHost: x\r\n\r\n`,
        () => `GET /v1/me HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \u0000\r\n\r\n`,
        () => `GET /v1/ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n`,
        () => `GET /v1/ws HTTP/1.1\r\nHost: x\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n\r\n`,
      ])()
    let answered = 0
    for (let i = 0; i < 500; i++) {
      const text = messages()
      const answer = await new Promise<string>((resolve) => {
        const socket = connect(relay.port, "127.0.0.1", () => socket.end(text, "latin1"))
        let data = ""
        socket.setTimeout(200, () => socket.destroy())
        socket.on("data", (c: Buffer) => (data += c.toString("latin1")))
        socket.on("close", () => resolve(data))
        socket.on("error", () => undefined)
      })
      if (answer === "") continue
      answered++
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1])
      expect(
        status,
        `${JSON.stringify(text.slice(0, 100))} → ${answer.slice(0, 200)}`,
      ).toBeGreaterThanOrEqual(200)
      expect(status, answer.slice(0, 200)).toBeLessThan(500)
      if (status >= 400)
        expect(answer, answer.slice(0, 300)).toMatch(/\r\n\r\n\{"error":\{"code":"[A-Z_]+","message":/)
    }
    expect(answered).toBeGreaterThan(250)
    expect(relay.errors).toEqual([])
  })

  it("survives 2,000 hostile WebSocket frames with JSON error frames", async () => {
    const f = fuzzer(seed + 2)
    interface Client {
      ws: WebSocket
      frames: Record<string, unknown>[]
      /** Called on the next frame or close. */
      wake?: () => void
    }
    const open = (token?: string) =>
      new Promise<Client>((resolve, reject) => {
        const ws = new WebSocket(`ws://127.0.0.1:${relay.port}/v1/ws`)
        const client: Client = { ws, frames: [] }
        const frames = client.frames
        ws.on("message", (d) => {
          frames.push(JSON.parse(String(d)) as Record<string, unknown>)
          client.wake?.()
        })
        ws.once("close", () => client.wake?.())
        ws.once("error", reject)
        ws.once("open", () => {
          if (token !== undefined) ws.send(JSON.stringify({ kind: "auth", token }))
          resolve(client)
        })
      })
    const frames = () =>
      f.pick<() => string | Buffer>([
        () => "{",
        () => "",
        () => "[]",
        () => "null",
        () => '{"kind":1}',
        () => '{"kind":"auth"}',
        () => JSON.stringify({ kind: "auth", token: spaceA.hub.token }),
        () => '{"kind":"subscribe","after":"0"}',
        () => '{"kind":"subscribe","after":0}',
        () => '{"kind":"ack","upTo":1e300}',
        () => '{"kind":"ack","upTo":0}',
        () => JSON.stringify({ kind: "signal", to: spaceB.hub.deviceId, body: "AA==" }),
        () => JSON.stringify({ kind: "signal", to: spaceA.hub.deviceId, body: "AA==" }),
        () => JSON.stringify({ kind: "signal", to: "x", body: "AA==" }),
        () => JSON.stringify({ kind: "signal", to: spaceA.phone.deviceId, body: "%%%" }),
        () =>
          JSON.stringify({
            kind: "signal",
            to: spaceA.phone.deviceId,
            body: randomBytes(70_000).toString("base64"),
          }),
        () => JSON.stringify({ kind: "ping", id: "x".repeat(65) }),
        () => JSON.stringify({ kind: "ping", id: f.int(1000).toString() }),
        () => '{"__proto__":{"kind":"ping"}}',
        () => "[".repeat(10_000),
        () => randomBytes(f.int(100) + 1),
      ])()
    let sent = 0
    let errorFrames = 0
    let ready = await open(spaceA.phone.token)
    let anonymous = await open()
    while (sent < 2000) {
      const useAnonymous = f.chance(0.2)
      const target = useAnonymous ? anonymous : ready
      if (target.ws.readyState !== WebSocket.OPEN) {
        if (useAnonymous) anonymous = await open()
        else ready = await open(spaceA.phone.token)
        continue
      }
      const frame = frames()
      const before = target.frames.length
      target.ws.send(frame)
      sent++
      // Wait for the answer (or the close) so every frame is accounted for.
      if (target.frames.length === before && target.ws.readyState === WebSocket.OPEN) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, 1000)
          target.wake = () => {
            clearTimeout(timer)
            resolve()
          }
        })
        target.wake = undefined
      }
      for (const answer of target.frames.slice(before)) {
        expect(typeof answer.kind, JSON.stringify(answer)).toBe("string")
        if (answer.kind === "error") {
          errorFrames++
          expect(answer.code).toMatch(/^[A-Z_]+$/)
          expect(typeof answer.message).toBe("string")
          expect(answer.code).not.toBe("INTERNAL")
        }
      }
    }
    ready.ws.close()
    anonymous.ws.close()
    expect(errorFrames).toBeGreaterThan(1000)
    expect(relay.errors).toEqual([])
    expect((await fetch(`${relay.url}/healthz`)).status).toBe(200)
  })

  it("answers floods with 429 JSON once the rate limits bite", async () => {
    const floodDir = await makeTempDir()
    const flooded = await startRelay(floodDir, {
      rateLimitPerAddress: { perSecond: 20, burst: 100 },
      rateLimitPerDevice: { perSecond: 5, burst: 20 },
    })
    try {
      const agent = new Agent({ keepAlive: true, maxSockets: 8 })
      const codes = new Map<string, number>()
      await Promise.all(
        Array.from({ length: 8 }, async () => {
          for (let i = 0; i < 50; i++) {
            const answer = await send(agent, flooded.port, "GET", "/v1/me", {
              authorization: `Bearer ${"A".repeat(43)}`,
            })
            const code = check(answer, "GET", "flood")
            codes.set(code, (codes.get(code) ?? 0) + 1)
            if (code === "RATE_LIMITED") expect(answer.headers["retry-after"]).toMatch(/^\d+$/)
          }
        }),
      )
      agent.destroy()
      expect(codes.get("RATE_LIMITED") ?? 0).toBeGreaterThan(250)
      expect(flooded.errors).toEqual([])
    } finally {
      await flooded.close()
      await rm(floodDir, { recursive: true, force: true })
    }
  })

  it("issue 14 findings 7 and 8: an anonymous client's registrations, spaces, enrolments and TURN stay bounded", async () => {
    const abuseDir = await makeTempDir()
    const abused = await startRelay(abuseDir, {
      rateLimitRegistrations: { perSecond: 0.001, burst: 12 },
      maxSpacesPerHub: 2,
      iceServers: [{ urls: "turn:turn.home.example:3478" }],
      turnSecret: "s".repeat(16),
    })
    try {
      const agent = new Agent({ keepAlive: true, maxSockets: 4 })
      const call = async (method: string, path: string, token?: string, json?: unknown, body?: Buffer) => {
        const headers: Record<string, string> = {}
        if (token !== undefined) headers.authorization = `Bearer ${token}`
        if (json !== undefined) headers["content-type"] = "application/json"
        if (body !== undefined) headers["content-type"] = "application/octet-stream"
        const answer = await send(
          agent,
          abused.port,
          method,
          path,
          headers,
          json ? Buffer.from(JSON.stringify(json)) : body,
        )
        const code = check(answer, method, `${method} ${path}`)
        return {
          code,
          json:
            code === "ok" && answer.body.length > 0
              ? (JSON.parse(answer.body.toString()) as Record<string, unknown>)
              : {},
        }
      }
      // 200 registrations from one address: the burst, then 429s.
      const devices: { deviceId: string; token: string; kind: string }[] = []
      for (let i = 0; i < 200; i++) {
        const kind = i % 2 === 0 ? "hub" : "phone"
        const { code, json } = await call("POST", "/v1/devices", undefined, { kind })
        if (code === "ok") devices.push({ ...(json as { deviceId: string; token: string }), kind })
        else expect(code).toBe("RATE_LIMITED")
      }
      expect(devices).toHaveLength(12)
      const hubs = devices.filter((d) => d.kind === "hub")
      const phones = devices.filter((d) => d.kind === "phone")
      // Each hub: 10 tries at a space, 2 made.
      const spaces: { hub: (typeof hubs)[number]; spaceId: string }[] = []
      for (const hub of hubs) {
        for (let i = 0; i < 10; i++) {
          const { code, json } = await call("POST", "/v1/spaces", hub.token)
          if (code === "ok") spaces.push({ hub, spaceId: String(json.spaceId) })
          else expect(code).toBe("FORBIDDEN")
        }
      }
      expect(spaces).toHaveLength(hubs.length * 2)
      // Enrolling phones that never asked, mailing and pushing them: refused, nothing reaches them.
      for (const { hub, spaceId } of spaces) {
        for (const phone of phones) {
          expect((await call("PUT", `/v1/spaces/${spaceId}/members/${phone.deviceId}`, hub.token)).code).toBe(
            "FORBIDDEN",
          )
          expect(
            (await call("PUT", `/v1/spaces/${spaceId}/members/${phone.deviceId}?pending=1`, hub.token)).code,
          ).toBe("FORBIDDEN")
          expect(
            (
              await call(
                "POST",
                `/v1/devices/${phone.deviceId}/mailbox`,
                hub.token,
                undefined,
                Buffer.from([1]),
              )
            ).code,
          ).toBe("FORBIDDEN")
        }
        // Not a household in use: no TURN relay for the hub.
        const ice = await call("GET", "/v1/rtc/ice-servers", hub.token)
        expect(ice.json).toEqual({ iceServers: [] })
      }
      // Self-mail: refused every time, so no device fills its own mailbox.
      for (const device of devices) {
        for (let i = 0; i < 10; i++) {
          expect(
            (
              await call(
                "POST",
                `/v1/devices/${device.deviceId}/mailbox`,
                device.token,
                undefined,
                Buffer.from([1]),
              )
            ).code,
          ).toBe("FORBIDDEN")
        }
      }
      expect((await abused.app.relay.sweep()).expiredMessages).toBe(0)
      agent.destroy()
      expect(abused.errors).toEqual([])
    } finally {
      await abused.close()
      await rm(abuseDir, { recursive: true, force: true })
    }
  })
})
