import { randomBytes } from "node:crypto"
import { readdir, rm, writeFile, mkdir } from "node:fs/promises"
import { request } from "node:http"
import { join } from "node:path"
import { afterEach, describe, expect, it } from "vitest"
import {
  bearer,
  createSpaceWithMember,
  expectError,
  makeTempDir,
  octets,
  register,
  sha256Hex,
  startTestRelay,
  type TestDevice,
  type TestRelay,
  enroll,
} from "./harness.ts"

const day = 24 * 60 * 60 * 1000
let clock = 1_700_000_000_000
let relay: TestRelay | undefined
const dirs: string[] = []
afterEach(async () => {
  await relay?.close()
  relay = undefined
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true })
})

async function setup(config = {}) {
  clock = 1_700_000_000_000
  const dataDir = await makeTempDir()
  dirs.push(dataDir)
  relay = await startTestRelay({ config: { sweepIntervalMs: 0, ...config }, dataDir, now: () => clock })
  const space = await createSpaceWithMember(relay)
  return { relay, dataDir, ...space }
}

async function blobFiles(dataDir: string): Promise<string[]> {
  const entries = await readdir(join(dataDir, "blobs"), { recursive: true, withFileTypes: true })
  return entries.filter((e) => e.isFile()).map((e) => e.name)
}

function blobUrl(r: TestRelay, spaceId: string, blobId: string): string {
  return `${r.url}/v1/spaces/${spaceId}/blobs/${blobId}`
}

async function upload(
  r: TestRelay,
  spaceId: string,
  owner: TestDevice,
  bytes: Uint8Array,
  recipients?: string[],
): Promise<Response> {
  const headers: Record<string, string> = octets(owner)
  if (recipients !== undefined) headers["x-vigil-recipients"] = recipients.join(",")
  return fetch(blobUrl(r, spaceId, sha256Hex(bytes)), { method: "PUT", headers, body: bytes })
}

async function ack(r: TestRelay, spaceId: string, blobId: string, device: TestDevice): Promise<Response> {
  return fetch(`${blobUrl(r, spaceId, blobId)}/ack`, { method: "POST", headers: bearer(device) })
}

describe("blob recipients and acknowledgement", () => {
  it("deletes a blob once every named recipient acknowledged it", async () => {
    const { relay, dataDir, hub, phone, spaceId } = await setup()
    const other = await register(relay, "phone")
    await enroll(relay, hub, spaceId, other)
    const bytes = randomBytes(2000)
    const blobId = sha256Hex(bytes)
    expect((await upload(relay, spaceId, hub, bytes, [phone.deviceId, other.deviceId])).status).toBe(201)

    const listed = await (
      await fetch(`${relay.url}/v1/spaces/${spaceId}/blobs`, { headers: bearer(phone) })
    ).json()
    expect(listed).toMatchObject({
      blobs: [{ blobId, size: 2000, createdAt: clock, expiresAt: clock + 30 * day }],
      usedBytes: 2000,
      nextCursor: null,
    })
    expect(
      (listed as { blobs: { pendingRecipients: string[] }[] }).blobs[0]?.pendingRecipients.sort(),
    ).toEqual([phone.deviceId, other.deviceId].sort())

    expect(await (await ack(relay, spaceId, blobId, phone)).json()).toEqual({ deleted: false })
    expect(await (await ack(relay, spaceId, blobId, phone)).json()).toEqual({ deleted: false })
    expect((await fetch(blobUrl(relay, spaceId, blobId), { headers: bearer(other) })).status).toBe(200)
    expect(await (await ack(relay, spaceId, blobId, other)).json()).toEqual({ deleted: true })

    await expectError(
      await fetch(blobUrl(relay, spaceId, blobId), { headers: bearer(other) }),
      404,
      "NOT_FOUND",
    )
    await expectError(await ack(relay, spaceId, blobId, other), 404, "NOT_FOUND")
    expect(await blobFiles(dataDir)).toEqual([])
  })

  it("sets recipients after upload, only for devices of the space, only by the owner", async () => {
    const { relay, hub, phone, spaceId } = await setup()
    const stranger = await register(relay, "phone")
    const bytes = randomBytes(100)
    const blobId = sha256Hex(bytes)
    await expectError(await upload(relay, spaceId, hub, bytes, [stranger.deviceId]), 400, "VALIDATION")
    await expectError(await upload(relay, spaceId, hub, bytes, ["nope"]), 400, "VALIDATION")
    expect((await upload(relay, spaceId, hub, bytes)).status).toBe(201)

    const set = (device: TestDevice, recipients: string[]) =>
      fetch(`${blobUrl(relay, spaceId, blobId)}/recipients`, {
        method: "PUT",
        headers: { ...bearer(device), "content-type": "application/json" },
        body: JSON.stringify({ recipients }),
      })
    await expectError(await set(phone, [phone.deviceId]), 403, "FORBIDDEN")
    await expectError(await set(stranger, [phone.deviceId]), 404, "NOT_FOUND")
    await expectError(await set(hub, [stranger.deviceId]), 400, "VALIDATION")
    expect((await set(hub, [phone.deviceId])).status).toBe(204)
    expect(await (await ack(relay, spaceId, blobId, phone)).json()).toEqual({ deleted: true })
  })

  it("keeps a blob without recipients when acknowledged; only the owner's delete removes it", async () => {
    const { relay, dataDir, hub, phone, spaceId } = await setup()
    const bytes = randomBytes(100)
    const blobId = sha256Hex(bytes)
    expect((await upload(relay, spaceId, hub, bytes)).status).toBe(201)
    expect(await (await ack(relay, spaceId, blobId, phone)).json()).toEqual({ deleted: false })
    const del = (device: TestDevice) =>
      fetch(blobUrl(relay, spaceId, blobId), { method: "DELETE", headers: bearer(device) })
    expect(await blobFiles(dataDir)).toEqual([blobId])
    // The user deleted the event on a phone: that phone's claim goes, the clip stays for the others.
    expect((await del(phone)).status).toBe(204)
    expect(await blobFiles(dataDir)).toEqual([blobId])
    expect((await fetch(blobUrl(relay, spaceId, blobId), { headers: bearer(hub) })).status).toBe(200)
    // The hub deletes it for everyone.
    expect((await del(hub)).status).toBe(204)
    await expectError(await del(hub), 404, "NOT_FOUND")
    await expectError(await del(phone), 404, "NOT_FOUND")
    expect(await blobFiles(dataDir)).toEqual([])
  })

  it("does not let another space ack, list, delete or re-reference a blob", async () => {
    const a = await setup()
    const b = await createSpaceWithMember(a.relay)
    const bytes = randomBytes(300)
    const blobId = sha256Hex(bytes)
    expect((await upload(a.relay, a.spaceId, a.hub, bytes, [a.phone.deviceId])).status).toBe(201)
    for (const outsider of [b.hub, b.phone]) {
      await expectError(await ack(a.relay, a.spaceId, blobId, outsider), 404, "NOT_FOUND")
      await expectError(
        await fetch(`${a.relay.url}/v1/spaces/${a.spaceId}/blobs`, { headers: bearer(outsider) }),
        404,
        "NOT_FOUND",
      )
      await expectError(
        await fetch(blobUrl(a.relay, a.spaceId, blobId), { method: "DELETE", headers: bearer(outsider) }),
        404,
        "NOT_FOUND",
      )
      // Through its own space: the blob is not there.
      await expectError(await ack(a.relay, b.spaceId, blobId, outsider), 404, "NOT_FOUND")
    }
    // The same bytes uploaded by space B are B's own reference; A's acks do not delete B's copy.
    expect((await upload(a.relay, b.spaceId, b.hub, bytes, [b.phone.deviceId])).status).toBe(201)
    expect(await (await ack(a.relay, a.spaceId, blobId, a.phone)).json()).toEqual({ deleted: true })
    expect(await a.relay.blobs.stat(blobId as never)).toEqual({ size: 300 })
    const fromB = await fetch(blobUrl(a.relay, b.spaceId, blobId), { headers: bearer(b.phone) })
    expect(Buffer.from(await fromB.arrayBuffer()).equals(bytes)).toBe(true)
  })
})

describe("retention", () => {
  it("deletes blobs retentionMs after upload, acknowledged or not, on sweep", async () => {
    const { relay, dataDir, hub, phone, spaceId } = await setup()
    const old = randomBytes(100)
    expect((await upload(relay, spaceId, hub, old, [phone.deviceId])).status).toBe(201)
    clock += 10 * day
    const young = randomBytes(100)
    expect((await upload(relay, spaceId, hub, young)).status).toBe(201)

    clock += 20 * day - 1
    expect(await relay.app.relay.sweep()).toEqual({
      releasedRefs: 0,
      deletedBlobs: 0,
      orphans: 0,
      expiredMessages: 0,
    })
    clock += 1
    expect(await relay.app.relay.sweep()).toEqual({
      releasedRefs: 1,
      deletedBlobs: 1,
      orphans: 0,
      expiredMessages: 0,
    })
    await expectError(
      await fetch(blobUrl(relay, spaceId, sha256Hex(old)), { headers: bearer(phone) }),
      404,
      "NOT_FOUND",
    )
    expect((await fetch(blobUrl(relay, spaceId, sha256Hex(young)), { headers: bearer(phone) })).status).toBe(
      200,
    )
    expect(await blobFiles(dataDir)).toEqual([sha256Hex(young)])

    clock += 10 * day
    expect((await relay.app.relay.sweep()).deletedBlobs).toBe(1)
    expect(await blobFiles(dataDir)).toEqual([])
    const metrics = await (await fetch(`${relay.url}/metrics`)).text()
    expect(metrics).toContain('signal_blobs_deleted_total{reason="retention"} 2')
  })

  it("honours a configured retention, and sweeps orphaned files but not referenced ones", async () => {
    const { relay, dataDir, hub, spaceId } = await setup({ retentionMs: 1000 })
    const bytes = randomBytes(50)
    expect((await upload(relay, spaceId, hub, bytes)).status).toBe(201)
    // A file the database does not know (a crash between writing it and recording it).
    const orphan = "ab" + "c".repeat(62)
    await mkdir(join(dataDir, "blobs", "ab"), { recursive: true })
    await writeFile(join(dataDir, "blobs", "ab", orphan), "leftover")
    expect(await relay.app.relay.sweep()).toEqual({
      releasedRefs: 0,
      deletedBlobs: 1,
      orphans: 1,
      expiredMessages: 0,
    })
    expect(await blobFiles(dataDir)).toEqual([sha256Hex(bytes)])
    clock += 1000
    expect((await relay.app.relay.sweep()).deletedBlobs).toBe(1)
  })

  it("releases a blob whose last pending recipient was removed from the space", async () => {
    const { relay, dataDir, hub, phone, spaceId } = await setup()
    expect((await upload(relay, spaceId, hub, randomBytes(10), [phone.deviceId])).status).toBe(201)
    await fetch(`${relay.url}/v1/spaces/${spaceId}/members/${phone.deviceId}`, {
      method: "DELETE",
      headers: bearer(hub),
    })
    expect((await relay.app.relay.sweep()).deletedBlobs).toBe(1)
    expect(await blobFiles(dataDir)).toEqual([])
  })
})

describe("quota", () => {
  it("answers 413 QUOTA_EXCEEDED when a space is full, by Content-Length and while streaming", async () => {
    const { relay, dataDir, hub, spaceId } = await setup({ spaceQuotaBytes: 3000 })
    const first = randomBytes(2000)
    expect((await upload(relay, spaceId, hub, first)).status).toBe(201)
    // Re-uploading what the space holds costs nothing.
    expect((await upload(relay, spaceId, hub, first)).status).toBe(201)
    await expectError(await upload(relay, spaceId, hub, randomBytes(1001)), 413, "QUOTA_EXCEEDED")

    // Chunked: the relay only learns the size while streaming.
    const big = randomBytes(1500)
    const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(
        blobUrl(relay, spaceId, sha256Hex(big)),
        { method: "PUT", headers: octets(hub) },
        (res) => {
          let body = ""
          res.on("data", (c: Buffer) => (body += c.toString()))
          res.on("end", () => resolve({ status: res.statusCode ?? 0, body }))
        },
      )
      req.on("error", reject)
      req.write(big.subarray(0, 500))
      setTimeout(() => req.end(big.subarray(500)), 20)
    })
    expect(answer.status).toBe(413)
    expect(JSON.parse(answer.body)).toMatchObject({ error: { code: "QUOTA_EXCEEDED" } })
    expect(await blobFiles(dataDir)).toEqual([sha256Hex(first)])

    expect((await upload(relay, spaceId, hub, randomBytes(1000))).status).toBe(201)
    const usage = await (
      await fetch(`${relay.url}/v1/spaces/${spaceId}/blobs`, { headers: bearer(hub) })
    ).json()
    expect(usage).toMatchObject({ usedBytes: 3000, quotaBytes: 3000 })

    // Deleting frees the space.
    await fetch(blobUrl(relay, spaceId, sha256Hex(first)), { method: "DELETE", headers: bearer(hub) })
    expect((await upload(relay, spaceId, hub, randomBytes(1500))).status).toBe(201)
  })

  it("keeps quotas per space", async () => {
    const { relay, hub, spaceId } = await setup({ spaceQuotaBytes: 1000 })
    const other = await createSpaceWithMember(relay)
    expect((await upload(relay, spaceId, hub, randomBytes(1000))).status).toBe(201)
    expect((await upload(relay, other.spaceId, other.hub, randomBytes(1000))).status).toBe(201)
  })

  it("pages the blob list", async () => {
    const { relay, hub, spaceId } = await setup()
    const ids: string[] = []
    for (let i = 0; i < 5; i++) {
      const bytes = randomBytes(10)
      ids.push(sha256Hex(bytes))
      expect((await upload(relay, spaceId, hub, bytes)).status).toBe(201)
      clock += 1
    }
    const seen: string[] = []
    let cursor: string | null = null
    do {
      const query: string = cursor === null ? "?limit=2" : `?limit=2&cursor=${cursor}`
      const page = (await (
        await fetch(`${relay.url}/v1/spaces/${spaceId}/blobs${query}`, { headers: bearer(hub) })
      ).json()) as {
        blobs: { blobId: string }[]
        nextCursor: string | null
      }
      seen.push(...page.blobs.map((b) => b.blobId))
      cursor = page.nextCursor
    } while (cursor !== null)
    expect(seen).toEqual(ids)
    await expectError(
      await fetch(`${relay.url}/v1/spaces/${spaceId}/blobs?limit=0`, { headers: bearer(hub) }),
      400,
      "VALIDATION",
    )
  })
})
