import { randomBytes } from "node:crypto"
import { rm } from "node:fs/promises"
import { afterEach, expect, it } from "vitest"
import {
  bearer,
  createSpaceWithMember,
  makeTempDir,
  octets,
  openSocket,
  sha256Hex,
  startTestRelay,
  type TestRelay,
} from "./harness.ts"

let relay: TestRelay | undefined
let dataDir: string | undefined
afterEach(async () => {
  await relay?.close()
  if (dataDir !== undefined) await rm(dataDir, { recursive: true, force: true })
})

it("keeps devices, spaces, pending mailbox messages and blobs across a restart", async () => {
  dataDir = await makeTempDir()
  relay = await startTestRelay({ dataDir })
  const { hub, phone, spaceId } = await createSpaceWithMember(relay)
  const bytes = randomBytes(5000)
  const blobId = sha256Hex(bytes)
  const put = await fetch(`${relay.url}/v1/spaces/${spaceId}/blobs/${blobId}`, {
    method: "PUT",
    headers: octets(hub),
    body: bytes,
  })
  expect(put.status).toBe(201)
  for (const n of [1, 2]) {
    const sent = await fetch(`${relay.url}/v1/devices/${phone.deviceId}/mailbox`, {
      method: "POST",
      headers: octets(hub),
      body: new Uint8Array([n]),
    })
    expect(sent.status).toBe(201)
  }
  await relay.close()

  relay = await startTestRelay({ dataDir })
  const me = await fetch(`${relay.url}/v1/me`, { headers: bearer(phone) })
  expect(await me.json()).toEqual({ deviceId: phone.deviceId, kind: "phone" })

  const inbox = await fetch(`${relay.url}/v1/mailbox`, { headers: bearer(phone) })
  const { messages } = (await inbox.json()) as { messages: { seq: number; body: string }[] }
  expect(messages.map((m) => [m.seq, m.body])).toEqual([
    [1, "AQ=="],
    [2, "Ag=="],
  ])

  const blob = await fetch(`${relay.url}/v1/spaces/${spaceId}/blobs/${blobId}`, { headers: bearer(phone) })
  expect(blob.status).toBe(200)
  expect(Buffer.from(await blob.arrayBuffer()).equals(bytes)).toBe(true)

  // Sequence numbers continue after the restart.
  const next = await fetch(`${relay.url}/v1/devices/${phone.deviceId}/mailbox`, {
    method: "POST",
    headers: octets(hub),
    body: new Uint8Array([3]),
  })
  expect(await next.json()).toEqual({ seq: 3 })
})

it("keeps blob recipients and delivers pending messages over a WebSocket after a restart", async () => {
  dataDir = await makeTempDir()
  relay = await startTestRelay({ dataDir })
  const { hub, phone, spaceId } = await createSpaceWithMember(relay)
  const bytes = randomBytes(3000)
  const blobId = sha256Hex(bytes)
  const put = await fetch(`${relay.url}/v1/spaces/${spaceId}/blobs/${blobId}`, {
    method: "PUT",
    headers: { ...octets(hub), "x-vigil-recipients": phone.deviceId },
    body: bytes,
  })
  expect(put.status).toBe(201)
  for (const n of [1, 2, 3]) {
    await fetch(`${relay.url}/v1/devices/${phone.deviceId}/mailbox`, {
      method: "POST",
      headers: octets(hub),
      body: new Uint8Array([n]),
    })
  }
  await relay.close()

  relay = await startTestRelay({ dataDir })
  const socket = await openSocket(relay, { token: phone.token })
  socket.send({ kind: "subscribe", after: 1 })
  expect(await socket.next("mailbox")).toMatchObject({ messages: [{ seq: 2 }, { seq: 3 }] })
  await socket.close()
  const listed = await (
    await fetch(`${relay.url}/v1/spaces/${spaceId}/blobs`, { headers: bearer(phone) })
  ).json()
  expect(listed).toMatchObject({ blobs: [{ blobId, pendingRecipients: [phone.deviceId] }] })
  const acked = await fetch(`${relay.url}/v1/spaces/${spaceId}/blobs/${blobId}/ack`, {
    method: "POST",
    headers: bearer(phone),
  })
  expect(await acked.json()).toEqual({ deleted: true })
})
