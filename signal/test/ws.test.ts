import { connect } from "node:net"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import { WebSocket } from "ws"
import {
  bearer,
  createSpaceWithMember,
  expectError,
  octets,
  openSocket,
  register,
  startTestRelay,
  waitUntil,
  type TestDevice,
  type TestRelay,
} from "./harness.ts"

let relay: TestRelay
beforeEach(async () => {
  relay = await startTestRelay({
    config: { maxWsPerDevice: 3, wsAuthTimeoutMs: 300, maxWsMessageBytes: 4096, maxSignalBytes: 1024 },
  })
})
afterEach(async () => {
  await relay.close()
})

async function send(from: TestDevice, to: TestDevice, body: Uint8Array): Promise<number> {
  const res = await fetch(`${relay.url}/v1/devices/${to.deviceId}/mailbox`, {
    method: "POST",
    headers: octets(from),
    body,
  })
  expect(res.status).toBe(201)
  return ((await res.json()) as { seq: number }).seq
}

/** Raw HTTP/1.1 exchange, for answers fetch cannot show (upgrade refusals). */
async function rawRequest(text: string): Promise<string> {
  const port = Number(new URL(relay.url).port)
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1", () => socket.write(text))
    let answer = ""
    socket.on("data", (c: Buffer) => {
      answer += c.toString()
      // A successful upgrade keeps the connection open: its head is all we need.
      if (answer.startsWith("HTTP/1.1 101") && answer.includes("\r\n\r\n")) {
        socket.destroy()
        resolve(answer)
      }
    })
    socket.on("end", () => resolve(answer))
    socket.on("error", reject)
  })
}

describe("websocket: authentication", () => {
  it("authenticates with the first frame and answers ready", async () => {
    const phone = await register(relay, "phone")
    const socket = await openSocket(relay)
    socket.send({ kind: "auth", token: phone.token, id: "a1" })
    expect(await socket.next()).toEqual({ kind: "ready", deviceId: phone.deviceId, id: "a1" })
    socket.send({ kind: "ping", id: "p" })
    expect(await socket.next()).toEqual({ kind: "pong", id: "p" })
    await socket.close()
  })

  it("closes with 4401 after a bad token, a non-auth first frame, or silence", async () => {
    const wrong = await openSocket(relay)
    wrong.send({ kind: "auth", token: "A".repeat(43) })
    expect(await wrong.next()).toMatchObject({ kind: "error", code: "UNAUTHENTICATED" })
    expect(await wrong.closed).toBe(4401)

    const early = await openSocket(relay)
    early.send({ kind: "subscribe", after: 0 })
    expect(await early.next()).toMatchObject({ kind: "error", code: "UNAUTHENTICATED" })
    expect(await early.closed).toBe(4401)

    const silent = await openSocket(relay)
    expect(await silent.next("error", 2000)).toMatchObject({ code: "UNAUTHENTICATED" })
    expect(await silent.closed).toBe(4401)
  })

  it("caps the connections of one device", async () => {
    const phone = await register(relay, "phone")
    const held = await Promise.all([1, 2, 3].map(() => openSocket(relay, { token: phone.token })))
    const fourth = await openSocket(relay)
    fourth.send({ kind: "auth", token: phone.token })
    expect(await fourth.next()).toMatchObject({ kind: "error", code: "RATE_LIMITED" })
    expect(await fourth.closed).toBe(4429)
    await held[0]?.close()
    await waitUntil(() => relay.app.relay.wsConnections === 2)
    const again = await openSocket(relay, { token: phone.token })
    await Promise.all([again, ...held.slice(1)].map((s) => s.close()))
  })

  it("refuses upgrades elsewhere, with a bad handshake or from a foreign origin, as JSON", async () => {
    const key = "dGhlIHNhbXBsZSBub25jZQ=="
    const upgrade = (path: string, extra = "") =>
      rawRequest(
        `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n` +
          `Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${key}\r\n${extra}\r\n`,
      )
    const elsewhere = await upgrade("/v1/wss")
    expect(elsewhere).toMatch(/^HTTP\/1\.1 404/)
    expect(elsewhere).toContain('"code":"NOT_FOUND"')
    const foreign = await upgrade("/v1/ws", "Origin: https://evil.example\r\n")
    expect(foreign).toMatch(/^HTTP\/1\.1 403/)
    expect(foreign).toContain('"code":"FORBIDDEN"')
    const badKey = await rawRequest(
      "GET /v1/ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: nope\r\n\r\n",
    )
    expect(badKey).toMatch(/^HTTP\/1\.1 400/)
    expect(badKey).toContain('"code":"VALIDATION"')
    const sameOrigin = await upgrade("/v1/ws", `Origin: http://127.0.0.1\r\n`)
    expect(sameOrigin).toMatch(/^HTTP\/1\.1 101/)
  })
})

describe("websocket: mailbox", () => {
  it("streams pending messages, then live ones, in order, with the GET /v1/mailbox shape", async () => {
    const { hub, phone } = await createSpaceWithMember(relay)
    await send(hub, phone, new Uint8Array([1]))
    await send(hub, phone, new Uint8Array([2]))
    const socket = await openSocket(relay, { token: phone.token })
    socket.send({ kind: "subscribe", after: 1 })
    const pending = await socket.next("mailbox")
    expect(pending).toMatchObject({ messages: [{ seq: 2, from: hub.deviceId, body: "Ag==" }] })
    const polled = await (await fetch(`${relay.url}/v1/mailbox?after=1`, { headers: bearer(phone) })).json()
    expect({ messages: pending.messages }).toEqual(polled)

    await send(hub, phone, new Uint8Array([3]))
    expect(await socket.next("mailbox")).toMatchObject({ messages: [{ seq: 3, body: "Aw==" }] })

    socket.send({ kind: "ack", upTo: 3, id: "k" })
    expect(await socket.next("acked")).toEqual({ kind: "acked", upTo: 3, id: "k" })
    expect(await (await fetch(`${relay.url}/v1/mailbox`, { headers: bearer(phone) })).json()).toEqual({
      messages: [],
    })
    await socket.close()
    await waitUntil(() => relay.notifier.listenerCount === 0)
  })

  it("delivers a long backlog page by page without loss", async () => {
    const { hub, phone } = await createSpaceWithMember(relay)
    for (let i = 1; i <= 250; i++) await send(hub, phone, new Uint8Array([i & 0xff]))
    const socket = await openSocket(relay, { token: phone.token })
    socket.send({ kind: "subscribe", after: 0 })
    const seqs: number[] = []
    while (seqs.length < 250) {
      const frame = (await socket.next("mailbox")) as { messages: { seq: number }[] }
      seqs.push(...frame.messages.map((m) => m.seq))
    }
    expect(seqs).toEqual(Array.from({ length: 250 }, (_, i) => i + 1))
    await socket.close()
  })
})

describe("websocket: signalling", () => {
  it("relays signals between devices of a space, over the socket and over HTTP", async () => {
    const { hub, phone } = await createSpaceWithMember(relay)
    const hubSocket = await openSocket(relay, { token: hub.token })
    const phoneSocket = await openSocket(relay, { token: phone.token })

    phoneSocket.send({ kind: "signal", to: hub.deviceId, body: "b2ZmZXI=", id: "s1" })
    expect(await phoneSocket.next("signal-sent")).toEqual({ kind: "signal-sent", delivered: 1, id: "s1" })
    expect(await hubSocket.next("signal")).toMatchObject({
      kind: "signal",
      from: phone.deviceId,
      body: "b2ZmZXI=",
    })

    const res = await fetch(`${relay.url}/v1/devices/${phone.deviceId}/signal`, {
      method: "POST",
      headers: octets(hub),
      body: new TextEncoder().encode("answer"),
    })
    expect(await res.json()).toEqual({ delivered: 1 })
    expect(await phoneSocket.next("signal")).toMatchObject({ from: hub.deviceId, body: btoa("answer") })

    await phoneSocket.close()
    const offline = await fetch(`${relay.url}/v1/devices/${phone.deviceId}/signal`, {
      method: "POST",
      headers: octets(hub),
      body: new Uint8Array([1]),
    })
    expect(await offline.json()).toEqual({ delivered: 0 })
    await hubSocket.close()
  })

  it("refuses signals across spaces, oversize and malformed frames, and keeps the socket usable", async () => {
    const a = await createSpaceWithMember(relay)
    const b = await createSpaceWithMember(relay)
    const socket = await openSocket(relay, { token: a.phone.token })
    socket.send({ kind: "signal", to: b.hub.deviceId, body: "AA==", id: "x" })
    expect(await socket.next()).toMatchObject({ kind: "error", code: "FORBIDDEN", id: "x" })
    socket.send({ kind: "signal", to: a.hub.deviceId, body: Buffer.alloc(1025).toString("base64") })
    expect(await socket.next()).toMatchObject({ kind: "error", code: "TOO_LARGE" })
    for (const bad of [
      "{",
      "[]",
      '{"kind":"nope"}',
      '{"kind":"ack","upTo":-1}',
      '{"kind":"ping","extra":1}',
    ]) {
      socket.send(bad)
      expect(await socket.next()).toMatchObject({ kind: "error", code: "VALIDATION" })
    }
    socket.ws.send(Buffer.from([1, 2, 3]))
    expect(await socket.next()).toMatchObject({ kind: "error", code: "VALIDATION" })
    socket.send({ kind: "ping" })
    expect(await socket.next()).toEqual({ kind: "pong" })
    const http = await fetch(`${relay.url}/v1/devices/${b.hub.deviceId}/signal`, {
      method: "POST",
      headers: octets(a.phone),
      body: new Uint8Array([1]),
    })
    await expectError(http, 403, "FORBIDDEN")

    // A frame past maxWsMessageBytes ends the connection (1009), as the protocol requires.
    socket.ws.send("x".repeat(5000))
    expect(await socket.closed).toBe(1009)
  })

  it("closes every socket with 1001 on shutdown", async () => {
    const phone = await register(relay, "phone")
    const socket = await openSocket(relay, { token: phone.token })
    const closed = socket.closed
    await relay.app.relay.shutdown()
    expect(await closed).toBe(1001)
    await expect(
      new Promise((resolve, reject) => {
        const late = new WebSocket(relay.wsUrl)
        late.once("open", resolve)
        late.once("error", reject)
      }),
    ).rejects.toThrow(/503/)
  })
})
