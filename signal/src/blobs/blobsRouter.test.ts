import { randomBytes } from "node:crypto"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import {
  bearer,
  createSpaceWithMember,
  expectError,
  octets,
  register,
  sha256Hex,
  startTestRelay,
  type TestDevice,
  type TestRelay,
} from "../../test/harness.ts"

let relay: TestRelay
beforeEach(async () => {
  relay = await startTestRelay()
})
afterEach(async () => {
  await relay.close()
})

async function upload(spaceId: string, owner: TestDevice, bytes: Uint8Array): Promise<string> {
  const blobId = sha256Hex(bytes)
  const res = await fetch(`${relay.url}/v1/spaces/${spaceId}/blobs/${blobId}`, {
    method: "PUT",
    headers: octets(owner),
    body: bytes,
  })
  expect(res.status).toBe(201)
  return blobId
}

const del = (spaceId: string, blobId: string, device: TestDevice) =>
  fetch(`${relay.url}/v1/spaces/${spaceId}/blobs/${blobId}`, { method: "DELETE", headers: bearer(device) })

describe("DELETE /v1/spaces/:spaceId/blobs/:blobId", () => {
  it("issue 14 finding 14: a member's delete drops only its own claim; the hub's deletes the blob", async () => {
    const a = await createSpaceWithMember(relay)
    const blobId = await upload(a.spaceId, a.hub, randomBytes(1000))
    expect(await relay.blobs.stat(blobId as never)).toBeDefined()

    expect((await del(a.spaceId, blobId, a.phone)).status).toBe(204)
    // A blob that named no recipients waits for the hub (or retention): still there for everyone.
    expect(await relay.blobs.stat(blobId as never)).toBeDefined()
    expect(
      (await fetch(`${relay.url}/v1/spaces/${a.spaceId}/blobs/${blobId}`, { headers: bearer(a.phone) }))
        .status,
    ).toBe(200)

    expect((await del(a.spaceId, blobId, a.hub)).status).toBe(204)
    expect(await relay.blobs.stat(blobId as never)).toBeUndefined()
    const read = await fetch(`${relay.url}/v1/spaces/${a.spaceId}/blobs/${blobId}`, {
      headers: bearer(a.hub),
    })
    await expectError(read, 404, "NOT_FOUND")
    // Deleting again: already gone.
    await expectError(await del(a.spaceId, blobId, a.phone), 404, "NOT_FOUND")
  })

  it("still lets the owner delete", async () => {
    const a = await createSpaceWithMember(relay)
    const blobId = await upload(a.spaceId, a.hub, randomBytes(10))
    expect((await del(a.spaceId, blobId, a.hub)).status).toBe(204)
  })

  it("answers 404 to outsiders and removed members, and keeps the blob", async () => {
    const a = await createSpaceWithMember(relay)
    const b = await createSpaceWithMember(relay)
    const stranger = await register(relay, "phone")
    const blobId = await upload(a.spaceId, a.hub, randomBytes(100))

    for (const outsider of [b.hub, b.phone, stranger]) {
      await expectError(await del(a.spaceId, blobId, outsider), 404, "NOT_FOUND")
      // Through its own space: content addressing must not let it reach another space's blob.
      await expectError(await del(b.spaceId, blobId, outsider), 404, "NOT_FOUND")
    }
    const removed = await fetch(`${relay.url}/v1/spaces/${a.spaceId}/members/${a.phone.deviceId}`, {
      method: "DELETE",
      headers: bearer(a.hub),
    })
    expect(removed.status).toBe(204)
    await expectError(await del(a.spaceId, blobId, a.phone), 404, "NOT_FOUND")

    expect(await relay.blobs.stat(blobId as never)).toBeDefined()
    const read = await fetch(`${relay.url}/v1/spaces/${a.spaceId}/blobs/${blobId}`, {
      headers: bearer(a.hub),
    })
    expect(read.status).toBe(200)
  })

  it("keeps the bytes while another space still references the same blob", async () => {
    const a = await createSpaceWithMember(relay)
    const b = await createSpaceWithMember(relay)
    const bytes = randomBytes(64)
    const blobId = await upload(a.spaceId, a.hub, bytes)
    await upload(b.spaceId, b.hub, bytes)

    expect((await del(a.spaceId, blobId, a.hub)).status).toBe(204)

    const read = await fetch(`${relay.url}/v1/spaces/${b.spaceId}/blobs/${blobId}`, {
      headers: bearer(b.phone),
    })
    expect(read.status).toBe(200)
    expect(Buffer.from(await read.arrayBuffer()).equals(bytes)).toBe(true)
  })
})
