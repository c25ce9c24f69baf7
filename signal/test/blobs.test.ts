import { randomBytes } from "node:crypto"
import { readdir, rm } from "node:fs/promises"
import { request } from "node:http"
import { afterEach, describe, expect, it } from "vitest"
import {
  bearer,
  createSpaceWithMember,
  expectError,
  makeTempDir,
  octets,
  sha256Hex,
  startTestRelay,
  type TestRelay,
} from "./harness.ts"

let relay: TestRelay | undefined
const dirs: string[] = []
afterEach(async () => {
  await relay?.close()
  relay = undefined
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true })
})

async function setup(config = {}) {
  const dataDir = await makeTempDir()
  dirs.push(dataDir)
  relay = await startTestRelay({ config, dataDir })
  const space = await createSpaceWithMember(relay)
  return { relay, dataDir, ...space }
}

/** Every file under the blob store, temp files included. */
async function blobFiles(dataDir: string): Promise<string[]> {
  const entries = await readdir(`${dataDir}/blobs`, { recursive: true, withFileTypes: true })
  return entries.filter((e) => e.isFile()).map((e) => e.name)
}

describe("blob upload and download", () => {
  it("stores a blob and serves it whole and by range", async () => {
    const { relay, hub, phone, spaceId } = await setup()
    const bytes = randomBytes(1000)
    const blobId = sha256Hex(bytes)
    const url = `${relay.url}/v1/spaces/${spaceId}/blobs/${blobId}`

    const put = await fetch(url, { method: "PUT", headers: octets(hub), body: bytes })
    expect(put.status).toBe(201)
    expect(await put.json()).toEqual({ blobId, size: 1000 })

    const full = await fetch(url, { headers: bearer(phone) })
    expect(full.status).toBe(200)
    expect(full.headers.get("content-type")).toBe("application/octet-stream")
    expect(full.headers.get("content-length")).toBe("1000")
    expect(full.headers.get("accept-ranges")).toBe("bytes")
    expect(Buffer.from(await full.arrayBuffer()).equals(bytes)).toBe(true)

    const mid = await fetch(url, { headers: { ...bearer(phone), range: "bytes=10-19" } })
    expect(mid.status).toBe(206)
    expect(mid.headers.get("content-range")).toBe("bytes 10-19/1000")
    expect(mid.headers.get("content-length")).toBe("10")
    expect(Buffer.from(await mid.arrayBuffer()).equals(bytes.subarray(10, 20))).toBe(true)

    const open = await fetch(url, { headers: { ...bearer(phone), range: "bytes=990-" } })
    expect(open.status).toBe(206)
    expect(Buffer.from(await open.arrayBuffer()).equals(bytes.subarray(990))).toBe(true)

    const suffix = await fetch(url, { headers: { ...bearer(phone), range: "bytes=-5" } })
    expect(suffix.status).toBe(206)
    expect(suffix.headers.get("content-range")).toBe("bytes 995-999/1000")
    expect(Buffer.from(await suffix.arrayBuffer()).equals(bytes.subarray(995))).toBe(true)

    const past = await fetch(url, { headers: { ...bearer(phone), range: "bytes=1000-1001" } })
    expect(past.headers.get("content-range")).toBe("bytes */1000")
    await expectError(past, 416, "RANGE_NOT_SATISFIABLE")
  })

  it("accepts a re-upload of the same blob with 201", async () => {
    const { relay, hub, spaceId } = await setup()
    const bytes = randomBytes(64)
    const url = `${relay.url}/v1/spaces/${spaceId}/blobs/${sha256Hex(bytes)}`
    expect((await fetch(url, { method: "PUT", headers: octets(hub), body: bytes })).status).toBe(201)
    expect((await fetch(url, { method: "PUT", headers: octets(hub), body: bytes })).status).toBe(201)
  })

  it("rejects a body whose SHA-256 is not the blob id and keeps nothing", async () => {
    const { relay, hub, dataDir, spaceId } = await setup()
    const bytes = randomBytes(500)
    const wrongId = sha256Hex(randomBytes(500))
    const url = `${relay.url}/v1/spaces/${spaceId}/blobs/${wrongId}`
    await expectError(
      await fetch(url, { method: "PUT", headers: octets(hub), body: bytes }),
      400,
      "HASH_MISMATCH",
    )
    expect(await blobFiles(dataDir)).toEqual([])
    await expectError(await fetch(url, { headers: bearer(hub) }), 404, "NOT_FOUND")
  })

  it("rejects a blob past maxBlobBytes with 413, by Content-Length and while streaming", async () => {
    const { relay, hub, dataDir, spaceId } = await setup({ maxBlobBytes: 1024 })
    const bytes = randomBytes(4096)
    const blobId = sha256Hex(bytes)
    const url = `${relay.url}/v1/spaces/${spaceId}/blobs/${blobId}`
    await expectError(
      await fetch(url, { method: "PUT", headers: octets(hub), body: bytes }),
      413,
      "TOO_LARGE",
    )

    // Chunked, so the server only finds out while streaming.
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(url, { method: "PUT", headers: octets(hub) }, (res) => {
        res.resume()
        resolve(res.statusCode ?? 0)
      })
      req.on("error", reject)
      req.write(bytes.subarray(0, 1000))
      setTimeout(() => req.end(bytes.subarray(1000)), 20)
    })
    expect(status).toBe(413)
    expect(await blobFiles(dataDir)).toEqual([])

    const exact = randomBytes(1024)
    const ok = await fetch(`${relay.url}/v1/spaces/${spaceId}/blobs/${sha256Hex(exact)}`, {
      method: "PUT",
      headers: octets(hub),
      body: exact,
    })
    expect(ok.status).toBe(201)
  })

  it("requires application/octet-stream", async () => {
    const { relay, hub, spaceId } = await setup()
    const bytes = randomBytes(10)
    const res = await fetch(`${relay.url}/v1/spaces/${spaceId}/blobs/${sha256Hex(bytes)}`, {
      method: "PUT",
      headers: { ...bearer(hub), "content-type": "text/plain" },
      body: bytes,
    })
    await expectError(res, 415, "UNSUPPORTED_MEDIA_TYPE")
  })
})
