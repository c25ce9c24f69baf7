import { describe, expect, it } from "vitest"
import type { DeviceId, RoomId } from "../ids.ts"
import { MemoryAnnouncementStore, type Announcement } from "./announcementStore.ts"

const room = (c: string) => c.repeat(64) as RoomId
const device = (c: string) => c.repeat(32) as DeviceId
const announcement = (r: string, d: string, at: number): Announcement => ({
  roomId: room(r),
  name: "SG9tZQ==",
  deviceId: device(d),
  announcedAt: at,
  expiresAt: at + 100,
})

describe("MemoryAnnouncementStore", () => {
  it("lists per group, newest first, and expires", () => {
    const store = new MemoryAnnouncementStore()
    expect(store.put("g1", announcement("a", "1", 0), 8, 0)).toEqual({ kind: "ok" })
    expect(store.put("g1", announcement("b", "2", 10), 8, 10)).toEqual({ kind: "ok" })
    expect(store.put("g2", announcement("c", "3", 10), 8, 10)).toEqual({ kind: "ok" })
    expect(store.list("g1", 20).map((a) => a.roomId)).toEqual([room("b"), room("a")])
    expect(store.list("g1", 100).map((a) => a.roomId)).toEqual([room("b")])
    expect(store.list("g3", 0)).toEqual([])
    store.purge(1000)
    expect(store.size).toBe(0)
  })

  it("caps a group, lets only the announcer refresh or withdraw", () => {
    const store = new MemoryAnnouncementStore()
    expect(store.put("g", announcement("a", "1", 0), 1, 0)).toEqual({ kind: "ok" })
    expect(store.put("g", announcement("b", "1", 0), 1, 0)).toEqual({ kind: "full" })
    expect(store.put("g", announcement("a", "2", 0), 1, 0)).toEqual({ kind: "taken" })
    expect(store.put("g", announcement("a", "1", 50), 1, 50)).toEqual({ kind: "ok" })
    expect(store.list("g", 120)).toHaveLength(1)
    expect(store.delete(device("2"), room("a"))).toBe(false)
    expect(store.delete(device("1"), room("a"))).toBe(true)
    expect(store.size).toBe(0)
  })

  it("bounds the number of groups", () => {
    const store = new MemoryAnnouncementStore(2)
    expect(store.put("g1", announcement("a", "1", 0), 8, 0).kind).toBe("ok")
    expect(store.put("g2", announcement("a", "2", 0), 8, 0).kind).toBe("ok")
    expect(store.put("g3", announcement("a", "3", 0), 8, 0).kind).toBe("full")
    expect(store.put("g3", announcement("a", "3", 200), 8, 200).kind).toBe("ok")
  })
})
