import { randomBytes } from "node:crypto"
import { createServer } from "node:http"
import { connect, type AddressInfo } from "node:net"
import { rm } from "node:fs/promises"
import { join } from "node:path"
import { Writable } from "node:stream"
import { pino } from "pino"
import { afterEach, describe, expect, it } from "vitest"
import { createApp } from "../src/app.ts"
import { resolveSignalConfig } from "../src/config.ts"
import { FsBlobStore } from "../src/store/fsBlobStore.ts"
import { SqliteMetaStore } from "../src/store/sqliteMetaStore.ts"
import {
  bearer,
  expectError,
  makeTempDir,
  octets,
  openSocket,
  createSpaceWithMember,
  register,
  startTestRelay,
  type TestDevice,
  type TestRelay,
} from "./harness.ts"

let relay: TestRelay | undefined
afterEach(async () => {
  await relay?.close()
  relay = undefined
})

async function raw(r: TestRelay, text: string): Promise<string> {
  const port = Number(new URL(r.url).port)
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1", () => socket.write(text))
    let answer = ""
    socket.on("data", (c: Buffer) => (answer += c.toString()))
    socket.on("end", () => resolve(answer))
    socket.on("error", reject)
  })
}

describe("rate limits", () => {
  it("answers 429 RATE_LIMITED JSON with Retry-After per address", async () => {
    relay = await startTestRelay({ config: { rateLimitPerAddress: { perSecond: 1, burst: 5 } } })
    const statuses: number[] = []
    for (let i = 0; i < 7; i++) {
      const res = await fetch(`${relay.url}/v1/me`)
      statuses.push(res.status)
      if (res.status === 429) {
        expect(res.headers.get("retry-after")).toMatch(/^\d+$/)
        await expectError(res, 429, "RATE_LIMITED")
      } else await res.body?.cancel()
    }
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429, 429])
    // Health checks are not limited.
    expect((await fetch(`${relay.url}/healthz`)).status).toBe(200)
  })

  it("limits per device, independently of other devices", async () => {
    relay = await startTestRelay({ config: { rateLimitPerDevice: { perSecond: 1, burst: 3 } } })
    const a = await register(relay, "phone")
    const b = await register(relay, "phone")
    const statuses: number[] = []
    for (let i = 0; i < 4; i++)
      statuses.push((await fetch(`${relay.url}/v1/me`, { headers: bearer(a) })).status)
    expect(statuses).toEqual([200, 200, 200, 429])
    expect((await fetch(`${relay.url}/v1/me`, { headers: bearer(b) })).status).toBe(200)
    const metrics = await (await fetch(`${relay.url}/metrics`)).text()
    expect(metrics).toContain('signal_rate_limited_total{scope="device"} 1')
  })
})

describe("CORS", () => {
  it("allows only the configured PWA origin", async () => {
    const origin = "https://app.example"
    relay = await startTestRelay({ config: { corsOrigin: origin } })
    const phone = await register(relay, "phone")
    const allowed = await fetch(`${relay.url}/v1/me`, { headers: { ...bearer(phone), origin } })
    expect(allowed.headers.get("access-control-allow-origin")).toBe(origin)
    expect(allowed.headers.get("vary")).toContain("Origin")
    const other = await fetch(`${relay.url}/v1/me`, {
      headers: { ...bearer(phone), origin: "https://evil.example" },
    })
    expect(other.headers.get("access-control-allow-origin")).toBeNull()

    const preflight = (from: string) =>
      fetch(`${relay!.url}/v1/mailbox`, {
        method: "OPTIONS",
        headers: {
          origin: from,
          "access-control-request-method": "GET",
          "access-control-request-headers": "authorization",
        },
      })
    const ok = await preflight(origin)
    expect(ok.status).toBe(204)
    expect(ok.headers.get("access-control-allow-headers")).toContain("Authorization")
    await expectError(await preflight("https://evil.example"), 403, "FORBIDDEN")
  })

  it("sends no CORS headers without a configured origin", async () => {
    relay = await startTestRelay()
    const res = await fetch(`${relay.url}/healthz`, { headers: { origin: "https://app.example" } })
    expect(res.headers.get("access-control-allow-origin")).toBeNull()
  })
})

describe("metrics", () => {
  it("exposes Prometheus text with request, websocket, mailbox and blob series", async () => {
    relay = await startTestRelay()
    await register(relay, "phone")
    await fetch(`${relay.url}/v1/nope`)
    const res = await fetch(`${relay.url}/metrics`)
    expect(res.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/)
    const text = await res.text()
    expect(text).toContain('signal_http_requests_total{method="POST",route="/v1/devices",status="201"} 1')
    expect(text).toContain('signal_http_requests_total{method="GET",route="unmatched",status="404"} 1')
    for (const name of [
      "signal_ws_connections",
      "signal_mailbox_depth",
      "signal_blob_bytes",
      "process_resident_memory_bytes",
    ]) {
      expect(text).toMatch(new RegExp(`^${name} \\d+$`, "m"))
    }
    // No ids in labels.
    expect(text).not.toMatch(/[0-9a-f]{32}/)
  })

  it("hides /metrics from forwarded requests unless they carry the metrics token", async () => {
    const metricsToken = "m".repeat(32)
    relay = await startTestRelay({ config: { metricsToken } })
    const forwarded = { "x-forwarded-for": "203.0.113.1" }
    await expectError(await fetch(`${relay.url}/metrics`, { headers: forwarded }), 404, "NOT_FOUND")
    await expectError(
      await fetch(`${relay.url}/metrics`, { headers: { ...forwarded, authorization: "Bearer wrong" } }),
      404,
      "NOT_FOUND",
    )
    const ok = await fetch(`${relay.url}/metrics`, {
      headers: { ...forwarded, authorization: `Bearer ${metricsToken}` },
    })
    expect(ok.status).toBe(200)
  })
})

describe("ICE servers", () => {
  it("hands out none by default; TURN credentials only to devices of a space, for 2 hours", async () => {
    relay = await startTestRelay()
    const phone = await register(relay, "phone")
    expect(await (await fetch(`${relay.url}/v1/rtc/ice-servers`, { headers: bearer(phone) })).json()).toEqual(
      {
        iceServers: [],
      },
    )
    await relay.close()
    const stun = { urls: "stun:turn.home.example:3478" }
    const turn = { urls: "turn:turn.home.example:3478" }
    relay = await startTestRelay({ config: { iceServers: [stun, turn], turnSecret: "s".repeat(16) } })
    const r = relay
    type Answer = { iceServers: { urls: string; username?: string; credential?: string }[] }
    const ask = async (device: TestDevice) =>
      ((await (await fetch(`${r.url}/v1/rtc/ice-servers`, { headers: bearer(device) })).json()) as Answer)
        .iceServers

    // A device anyone registered, in no space: no relay for it (it would be an open proxy).
    const stranger = await register(r, "phone")
    expect(await ask(stranger)).toEqual([stun])
    // The hub of a space and a phone it added get the relay with credentials of their own.
    const { hub, phone: member, spaceId } = await createSpaceWithMember(r)
    for (const device of [hub, member]) {
      const servers = await ask(device)
      expect(servers[0]).toEqual(stun)
      expect(servers[1]).toMatchObject(turn)
      expect(servers[1]?.username).toMatch(new RegExp(`^\\d+:${device.deviceId}$`))
      // Short-lived: the default is 2 hours.
      const expiresAt = Number(servers[1]!.username!.split(":")[0]) * 1000
      expect(expiresAt - Date.now()).toBeGreaterThan(2 * 3600_000 - 60_000)
      expect(expiresAt - Date.now()).toBeLessThanOrEqual(2 * 3600_000)
    }
    // Removed from the space: no new relay credentials.
    const removed = await fetch(`${r.url}/v1/spaces/${spaceId}/members/${member.deviceId}`, {
      method: "DELETE",
      headers: bearer(hub),
    })
    expect(removed.status).toBe(204)
    expect(await ask(member)).toEqual([stun])
    await expectError(await fetch(`${relay.url}/v1/rtc/ice-servers`), 401, "UNAUTHENTICATED")
  })
})

describe("malformed HTTP", () => {
  it("answers what Node's parser rejects with a JSON 400, and bad percent-encoding too", async () => {
    relay = await startTestRelay()
    const garbage = await raw(relay, "GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n")
    expect(garbage).toMatch(/^HTTP\/1\.1 400/)
    expect(garbage).toContain('{"error":{"code":"VALIDATION"')
    const huge = await raw(relay, `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(20_000)}\r\n\r\n`)
    expect(huge).toMatch(/^HTTP\/1\.1 431/)
    expect(huge).toContain('"code":"HEADERS_TOO_LARGE"')
    const phone = await register(relay, "phone")
    await expectError(
      await fetch(`${relay.url}/v1/devices/%E0%A4%A/mailbox`, {
        method: "POST",
        headers: { ...bearer(phone), "content-type": "application/octet-stream" },
        body: new Uint8Array([1]),
      }),
      400,
      "VALIDATION",
    )
  })
})

describe("logs", () => {
  it("hold no tokens, room ids or bodies, even at debug level", async () => {
    let text = ""
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        text += chunk.toString()
        done()
      },
    })
    const dir = await makeTempDir()
    const store = SqliteMetaStore.open(":memory:")
    const app = createApp({
      store,
      blobs: await FsBlobStore.open(join(dir, "blobs")),
      config: resolveSignalConfig(),
      logger: pino({ level: "debug" }, sink),
    })
    const server = createServer(app)
    app.relay.attach(server)
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r))
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    try {
      const local = { url, wsUrl: `${url.replace("http", "ws")}/v1/ws` }
      const hub = await register(local as never, "hub")
      const roomId = randomBytes(32).toString("hex")
      const secretBody = "very-secret-body"
      await fetch(`${url}/v1/rooms/${roomId}/messages`, {
        method: "POST",
        headers: octets(hub),
        body: new TextEncoder().encode(secretBody),
      })
      await fetch(`${url}/v1/rooms/${roomId}/messages?after=0`, { headers: bearer(hub) })
      const socket = await openSocket(local, { token: hub.token })
      await socket.close()
      await fetch(`${url}/v1/me`, { headers: { authorization: `Bearer ${"Z".repeat(43)}` } })
      expect(text).toContain('"route":"/v1/rooms/:roomId/messages"')
      for (const secret of [hub.token, roomId, secretBody, "Z".repeat(43)]) expect(text).not.toContain(secret)
    } finally {
      await app.relay.shutdown()
      server.closeAllConnections()
      await new Promise((r) => server.close(r))
      await store.close()
      await rm(dir, { recursive: true, force: true })
    }
  })
})
