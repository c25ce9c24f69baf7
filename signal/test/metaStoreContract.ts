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

    it("scopes blob refs to a space", async () => {
      await store.putBlobRef({ spaceId: space, blobId: blob, size: 10, createdAt: 1 })
      await store.putBlobRef({ spaceId: space, blobId: blob, size: 10, createdAt: 2 })
      expect(await store.getBlobRef(space, blob)).toEqual({ size: 10 })
      expect(await store.getBlobRef(otherSpace, blob)).toBeUndefined()
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
