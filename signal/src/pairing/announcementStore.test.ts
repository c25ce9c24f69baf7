import { describe, expect, it } from "vitest"
import type { DeviceId, RoomId } from "../ids.ts"
import { MemoryAnnouncementStore, type Announcement } from "./announcementStore.ts"

const room = (c: string) => c.repeat(64) as RoomId
const device = (c: string) => c.repeat(32) as DeviceId
const announcement = (r: string, d: string, at: number): Announcement => ({
  roomId: room(r),
  name: "SG9tZQ==",
  deviceId: device(d),
  deviceCreatedAt: 0,
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
    expect(store.put("g", announcement("c", "3", 0), 1, 0)).toEqual({ kind: "full" })
    expect(store.put("g", announcement("a", "2", 0), 1, 0)).toEqual({ kind: "taken" })
    expect(store.put("g", announcement("a", "1", 50), 1, 50)).toEqual({ kind: "ok" })
    expect(store.list("g", 120)).toHaveLength(1)
    expect(store.delete(device("2"), room("a"))).toBe(false)
    expect(store.delete(device("1"), room("a"))).toBe(true)
    expect(store.size).toBe(0)
  })

  it("issue 14 finding 9: one announcement per device; younger devices cannot push an older hub out", () => {
    const store = new MemoryAnnouncementStore()
    const hub = { ...announcement("a", "1", 0), deviceCreatedAt: 5 }
    expect(store.put("g", hub, 2, 0)).toEqual({ kind: "ok" })
    // A neighbour's flood of freshly registered hubs, each announcing many rooms.
    for (let d = 2; d < 12; d++) {
      for (let r = 0; r < 3; r++) {
        const room = (d * 3 + r).toString(16).padStart(2, "0").repeat(32)
        store.put(
          "g",
          {
            ...announcement("0", "23456789bcde"[d - 2] ?? "f", 1),
            roomId: room as RoomId,
            deviceCreatedAt: 100 + d,
          },
          2,
          1,
        )
      }
    }
    const listed = store.list("g", 2)
    expect(listed).toHaveLength(2)
    expect(listed.map((a) => a.roomId)).toContain(room("a"))
    // The old hub moving to a fresh room replaces its own announcement and still gets a place.
    expect(store.put("g", { ...hub, roomId: room("b") }, 2, 3)).toEqual({ kind: "ok" })
    expect(store.list("g", 4).map((a) => a.roomId)).toContain(room("b"))
    expect(store.list("g", 4).map((a) => a.roomId)).not.toContain(room("a"))
  })

  it("bounds the number of groups", () => {
    const store = new MemoryAnnouncementStore(2)
    expect(store.put("g1", announcement("a", "1", 0), 8, 0).kind).toBe("ok")
    expect(store.put("g2", announcement("a", "2", 0), 8, 0).kind).toBe("ok")
    expect(store.put("g3", announcement("a", "3", 0), 8, 0).kind).toBe("full")
    expect(store.put("g3", announcement("a", "3", 200), 8, 200).kind).toBe("ok")
  })
})
