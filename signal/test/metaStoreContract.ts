import { afterEach, beforeEach, describe, expect, it } from "vitest"
import type { BlobId, DeviceId, RoomId, SpaceId } from "../src/ids.ts"
import type { MetaStore } from "../src/store/metaStore.ts"

const hex = (c: string, n: number): string => c.repeat(n)
const hub = hex("a", 32) as DeviceId
const phone = hex("b", 32) as DeviceId
const stranger = hex("c", 32) as DeviceId
const space = hex("1", 32) as SpaceId
const otherSpace = hex("2", 32) as SpaceId
const blob = hex("f", 64) as BlobId
const room = hex("e", 64) as RoomId

/** The behaviour every MetaStore must have; run it against each implementation. */
export function describeMetaStoreContract(name: string, open: () => Promise<MetaStore>): void {
  describe(`MetaStore contract: ${name}`, () => {
    let store: MetaStore
    beforeEach(async () => {
      store = await open()
      for (const [deviceId, kind] of [
        [hub, "hub"],
        [phone, "phone"],
        [stranger, "hub"],
      ] as const) {
        await store.createDevice({ deviceId, kind, tokenHash: deviceId + deviceId, createdAt: 1 })
      }
      await store.createSpace({ spaceId: space, ownerId: hub, createdAt: 1 })
      await store.createSpace({ spaceId: otherSpace, ownerId: stranger, createdAt: 1 })
    })
    afterEach(async () => {
      await store.close()
    })

    it("finds devices by id and by token hash", async () => {
      expect(await store.getDevice(phone)).toEqual({
        deviceId: phone,
        kind: "phone",
        tokenHash: phone + phone,
        createdAt: 1,
      })
      expect((await store.findDeviceByTokenHash(hub + hub))?.deviceId).toBe(hub)
      expect(await store.findDeviceByTokenHash("0".repeat(64))).toBeUndefined()
    })

    it("tracks roles and shared spaces", async () => {
      expect(await store.getRole(space, hub)).toBe("owner")
      expect(await store.getRole(space, phone)).toBeUndefined()
      expect(await store.shareSpace(hub, phone)).toBe(false)
      await store.putMember(space, phone, 2)
      await store.putMember(space, phone, 3)
      expect(await store.getRole(space, phone)).toBe("member")
      expect(await store.shareSpace(phone, hub)).toBe(true)
      expect(await store.shareSpace(phone, stranger)).toBe(false)
      await store.deleteMember(space, phone)
      await store.deleteMember(space, phone)
      expect(await store.getRole(space, phone)).toBeUndefined()
      expect(await store.getRole(hex("9", 32) as SpaceId, hub)).toBeUndefined()
    })

    it("a pending member shares mailboxes only, until it is added for good; a member never goes back", async () => {
      await store.putMember(space, phone, 2, { pending: true })
      expect(await store.shareSpace(phone, hub)).toBe(true)
      expect(await store.getRole(space, phone)).toBeUndefined()
      expect(await store.listSpaceDevices(space)).toEqual([hub])
      expect(await store.listSpaceOwners()).toContainEqual({ spaceId: space, ownerId: hub })
      await store.putMember(space, phone, 3)
      expect(await store.getRole(space, phone)).toBe("member")
      await store.putMember(space, phone, 4, { pending: true })
      expect(await store.getRole(space, phone)).toBe("member")
      expect((await store.listSpaceDevices(space)).sort()).toEqual([hub, phone].sort())
      await store.deleteMember(space, phone)
      expect(await store.shareSpace(phone, hub)).toBe(false)
    })

    it("scopes blob refs to a space", async () => {
      await store.putBlobRef({ spaceId: space, blobId: blob, size: 10, createdAt: 1 })
      await store.putBlobRef({ spaceId: space, blobId: blob, size: 10, createdAt: 2 })
      expect(await store.getBlobRef(space, blob)).toEqual({ size: 10 })
      expect(await store.getBlobRef(otherSpace, blob)).toBeUndefined()
    })

    it("lists a space's devices", async () => {
      await store.putMember(space, phone, 2)
      expect((await store.listSpaceDevices(space)).sort()).toEqual([hub, phone].sort())
      expect(await store.listSpaceDevices(hex("9", 32) as SpaceId)).toEqual([])
    })

    it("enforces the quota when recording a new blob, not for one already held", async () => {
      const other = hex("d", 64) as BlobId
      expect(
        await store.putBlobRef({ spaceId: space, blobId: blob, size: 60, createdAt: 1, quotaBytes: 100 }),
      ).toEqual({
        kind: "ok",
      })
      expect(
        await store.putBlobRef({ spaceId: space, blobId: other, size: 41, createdAt: 1, quotaBytes: 100 }),
      ).toEqual({
        kind: "quota",
        usedBytes: 60,
      })
      expect(
        await store.putBlobRef({ spaceId: space, blobId: blob, size: 60, createdAt: 2, quotaBytes: 60 }),
      ).toEqual({
        kind: "ok",
      })
      expect(await store.spaceUsage(space)).toBe(60)
      expect(await store.spaceUsage(otherSpace)).toBe(0)
    })

    it("releases a blob when every named recipient acknowledged it", async () => {
      await store.putMember(space, phone, 2)
      await store.putBlobRef({
        spaceId: space,
        blobId: blob,
        size: 10,
        createdAt: 1,
        recipients: [phone, hub, phone],
      })
      expect((await store.listBlobRefs(space, { limit: 10 }))[0]?.pendingRecipients).toEqual(
        [hub, phone].sort(),
      )
      expect(await store.ackBlob(space, blob, stranger)).toEqual({ kind: "pending", remaining: 2 })
      expect(await store.ackBlob(space, blob, phone)).toEqual({ kind: "pending", remaining: 1 })
      expect(await store.ackBlob(space, blob, hub)).toEqual({ kind: "released" })
      expect(await store.getBlobRef(space, blob)).toBeUndefined()
      expect(await store.isBlobReferenced(blob)).toBe(false)
      expect(await store.ackBlob(space, blob, hub)).toEqual({ kind: "absent" })
    })

    it("keeps a blob without recipients until retention, and releases in batches", async () => {
      const blobs = ["1", "2", "3"].map((c) => hex(c, 64) as BlobId)
      for (const [i, b] of blobs.entries())
        await store.putBlobRef({ spaceId: space, blobId: b, size: 1, createdAt: 10 + i })
      expect(await store.ackBlob(space, blobs[0]!, phone)).toEqual({ kind: "pending", remaining: 0 })
      expect(await store.releaseBlobRefs(9, 100)).toEqual([])
      expect(await store.releaseBlobRefs(11, 100)).toEqual([
        { spaceId: space, blobId: blobs[0] },
        { spaceId: space, blobId: blobs[1] },
      ])
      expect((await store.listBlobRefs(space, { limit: 10 })).map((b) => b.blobId)).toEqual([blobs[2]])
    })

    it("releases a blob whose last pending recipient left the space", async () => {
      await store.putMember(space, phone, 2)
      expect(await store.setBlobRecipients(space, blob, [phone])).toBe(false)
      await store.putBlobRef({ spaceId: space, blobId: blob, size: 10, createdAt: 1 })
      expect(await store.setBlobRecipients(space, blob, [phone])).toBe(true)
      await store.deleteMember(space, phone)
      expect(await store.releaseBlobRefs(0, 100)).toEqual([{ spaceId: space, blobId: blob }])
    })

    it("pages blob refs by creation time", async () => {
      const blobs = ["3", "1", "2"].map((c) => hex(c, 64) as BlobId)
      for (const [i, b] of blobs.entries())
        await store.putBlobRef({ spaceId: space, blobId: b, size: 1, createdAt: 10 + i })
      const first = await store.listBlobRefs(space, { limit: 2 })
      expect(first.map((b) => b.blobId)).toEqual(blobs.slice(0, 2))
      const last = first[1]!
      const rest = await store.listBlobRefs(space, {
        limit: 2,
        after: { createdAt: last.createdAt, blobId: last.blobId },
      })
      expect(rest.map((b) => b.blobId)).toEqual([blobs[2]])
      expect(await store.deleteBlobRef(space, blobs[2]!)).toBe(true)
      expect(await store.deleteBlobRef(space, blobs[2]!)).toBe(false)
    })

    it("keeps one push subscription per device and removes it only for a matching endpoint", async () => {
      const sub = (endpoint: string) => ({ deviceId: phone, endpoint, p256dh: "p", auth: "a" })
      await store.putPushSubscription(sub("https://push.example/1"), 1)
      await store.putPushSubscription(sub("https://push.example/2"), 2)
      expect(await store.listPushSubscriptions([phone, hub])).toEqual([sub("https://push.example/2")])
      await store.deletePushSubscription(phone, "https://push.example/1")
      expect(await store.listPushSubscriptions([phone])).toHaveLength(1)
      await store.deletePushSubscription(phone, "https://push.example/2")
      expect(await store.listPushSubscriptions([phone])).toEqual([])
    })

    it("counts for the metrics", async () => {
      await store.putBlobRef({ spaceId: space, blobId: blob, size: 10, createdAt: 1 })
      await store.putBlobRef({ spaceId: otherSpace, blobId: blob, size: 10, createdAt: 1 })
      await store.appendMailbox({
        to: phone,
        from: hub,
        sentAt: 1,
        body: new Uint8Array([1]),
        maxMessages: 9,
      })
      expect(await store.stats()).toEqual({
        devices: 3,
        spaces: 2,
        mailboxMessages: 1,
        blobs: 1,
        blobBytes: 10,
        pushSubscriptions: 0,
      })
    })

    it("numbers mailbox messages per recipient, pages, acks and caps", async () => {
      const append = (to: DeviceId, n: number) =>
        store.appendMailbox({ to, from: hub, sentAt: n, body: new Uint8Array([n]), maxMessages: 3 })
      expect(await append(phone, 1)).toEqual({ kind: "ok", seq: 1 })
      expect(await append(stranger, 1)).toEqual({ kind: "ok", seq: 1 })
      expect(await append(phone, 2)).toEqual({ kind: "ok", seq: 2 })
      expect(await append(phone, 3)).toEqual({ kind: "ok", seq: 3 })
      expect(await append(phone, 4)).toEqual({ kind: "full" })
      expect((await store.listMailbox(phone, 0, 2)).map((m) => [m.seq, [...m.body]])).toEqual([
        [1, [1]],
        [2, [2]],
      ])
      expect(await store.ackMailbox(phone, 2)).toBe(2)
      expect(await append(phone, 5)).toEqual({ kind: "ok", seq: 4 })
      expect((await store.listMailbox(phone, 0, 100)).map((m) => m.seq)).toEqual([3, 4])
    })

    it("expires, caps and purges rooms", async () => {
      const append = (sentAt: number) =>
        store.appendRoomMessage({
          roomId: room,
          from: hub,
          sentAt,
          body: new Uint8Array([1]),
          ttlMs: 100,
          maxMessages: 2,
          consentTtlMs: 100,
        })
      expect(await append(1000)).toEqual({ kind: "ok", seq: 1 })
      expect(await append(1099)).toEqual({ kind: "ok", seq: 2 })
      expect(await append(1099)).toEqual({ kind: "full" })
      expect(await store.listRoomMessages(room, 0, 100, 1099)).toHaveLength(2)
      expect(await store.listRoomMessages(room, 0, 100, 1100)).toEqual([])
      expect(await append(1100)).toEqual({ kind: "expired" })
      await store.purgeRooms(1100, 50)
      expect(await store.listRoomMessages(room, 0, 100, 0)).toEqual([])
      expect(await append(1120)).toEqual({ kind: "expired" })
      await store.purgeRooms(1150, 50)
      expect(await append(1150)).toEqual({ kind: "ok", seq: 1 })
    })
  })
}
