import { afterEach, beforeEach, describe, expect, it } from "vitest"
import { bearer, expectError, register, startTestRelay, type TestRelay } from "./harness.ts"

let relay: TestRelay
beforeEach(async () => {
  relay = await startTestRelay()
})
afterEach(async () => {
  await relay.close()
})

describe("health and registration", () => {
  it("answers /healthz", async () => {
    const res = await fetch(`${relay.url}/healthz`)
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ ok: true })
  })

  it("registers a device whose token authenticates /v1/me", async () => {
    const phone = await register(relay, "phone")
    expect(phone.deviceId).toMatch(/^[0-9a-f]{32}$/)
    expect(phone.token).toMatch(/^[A-Za-z0-9_-]{43}$/)

    const res = await fetch(`${relay.url}/v1/me`, { headers: bearer(phone) })
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ deviceId: phone.deviceId, kind: "phone" })
  })

  it("stores only the token's hash", async () => {
    const hub = await register(relay, "hub")
    const record = await relay.store.getDevice(hub.deviceId as never)
    expect(record?.tokenHash).toMatch(/^[0-9a-f]{64}$/)
    expect(JSON.stringify(record)).not.toContain(hub.token)
  })

  it("rejects an unknown kind", async () => {
    const res = await fetch(`${relay.url}/v1/devices`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ kind: "camera" }),
    })
    await expectError(res, 400, "VALIDATION")
  })
})

describe("authentication", () => {
  it("answers 401 JSON without a token", async () => {
    await expectError(await fetch(`${relay.url}/v1/me`), 401, "UNAUTHENTICATED")
  })

  it("answers 401 JSON for an unknown or malformed token", async () => {
    const unknown = { authorization: `Bearer ${"A".repeat(43)}` }
    await expectError(await fetch(`${relay.url}/v1/me`, { headers: unknown }), 401, "UNAUTHENTICATED")
    const malformed = { authorization: "Bearer not-a-token" }
    await expectError(await fetch(`${relay.url}/v1/me`, { headers: malformed }), 401, "UNAUTHENTICATED")
    const basic = { authorization: "Basic dXNlcjpwYXNz" }
    await expectError(await fetch(`${relay.url}/v1/me`, { headers: basic }), 401, "UNAUTHENTICATED")
  })

  it("lets only a hub create a space", async () => {
    const phone = await register(relay, "phone")
    const res = await fetch(`${relay.url}/v1/spaces`, { method: "POST", headers: bearer(phone) })
    await expectError(res, 403, "FORBIDDEN")
  })
})

describe("malformed requests", () => {
  it("answers malformed JSON with 400 and a JSON body", async () => {
    const res = await fetch(`${relay.url}/v1/devices`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: '{"kind": "hub"',
    })
    await expectError(res, 400, "VALIDATION")
  })

  it("answers malformed JSON on an authenticated route with 400", async () => {
    const phone = await register(relay, "phone")
    const res = await fetch(`${relay.url}/v1/mailbox/ack`, {
      method: "POST",
      headers: { ...bearer(phone), "content-type": "application/json" },
      body: "{upTo: 1}",
    })
    await expectError(res, 400, "VALIDATION")
  })

  it("answers an unknown route with 404 JSON", async () => {
    await expectError(await fetch(`${relay.url}/v1/nope`), 404, "NOT_FOUND")
    await expectError(await fetch(`${relay.url}/`), 404, "NOT_FOUND")
  })

  it("rejects ids that are not lowercase hex of the right length", async () => {
    const hub = await register(relay, "hub")
    const created = await fetch(`${relay.url}/v1/spaces`, { method: "POST", headers: bearer(hub) })
    const { spaceId } = (await created.json()) as { spaceId: string }
    const badIds = [hub.deviceId.toUpperCase(), `${hub.deviceId}0`, "x".repeat(32), `${"a".repeat(31)}%2F`]
    for (const bad of badIds) {
      const res = await fetch(`${relay.url}/v1/spaces/${spaceId}/members/${bad}`, {
        method: "PUT",
        headers: bearer(hub),
      })
      await expectError(res, 400, "VALIDATION")
    }
    const shortBlob = await fetch(`${relay.url}/v1/spaces/${spaceId}/blobs/${"a".repeat(63)}`, {
      headers: bearer(hub),
    })
    await expectError(shortBlob, 400, "VALIDATION")
  })

  it("rejects a bad poll query", async () => {
    const phone = await register(relay, "phone")
    for (const query of ["after=-1", "after=x", "wait=25001", "after=1&after=2"]) {
      await expectError(
        await fetch(`${relay.url}/v1/mailbox?${query}`, { headers: bearer(phone) }),
        400,
        "VALIDATION",
      )
    }
  })
})

describe("headers", () => {
  it("sends the security headers on success and on error, and no x-powered-by", async () => {
    for (const path of ["/healthz", "/v1/me", "/nope"]) {
      const res = await fetch(`${relay.url}${path}`)
      expect(res.headers.get("x-content-type-options")).toBe("nosniff")
      expect(res.headers.get("referrer-policy")).toBe("no-referrer")
      expect(res.headers.get("x-frame-options")).toBe("DENY")
      expect(res.headers.get("cross-origin-opener-policy")).toBe("same-origin")
      expect(res.headers.get("cross-origin-resource-policy")).toBe("same-origin")
      expect(res.headers.get("x-powered-by")).toBeNull()
    }
  })
})
