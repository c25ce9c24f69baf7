import "fake-indexeddb/auto"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import { encodeMlsMessage } from "ts-mls"
import { fromHex, randomBytes } from "@vigil/protocol"
import { clipOf, startHarness, until, type Harness } from "./harness.ts"

/** A private message anyone can write: plaintext header with the space's group id and any epoch. */
function forged(groupIdHex: string, epoch: bigint): Uint8Array {
  return encodeMlsMessage({
    wireformat: "mls_private_message",
    version: "mls10",
    privateMessage: {
      groupId: fromHex(groupIdHex),
      epoch,
      contentType: "application",
      authenticatedData: new Uint8Array(0),
      encryptedSenderData: randomBytes(28),
      ciphertext: randomBytes(88),
    },
  })
}

describe("issue 14 finding 2: one forged message neither drops the phone's group nor loses clips", () => {
  let h: Harness
  beforeEach(async () => void (h = await startHarness()))
  afterEach(() => h.close())

  it("phone closed, one forged 150-byte message with epoch 2^62, two person clips: both clips, group kept, no rejoin", async () => {
    const hub = await h.openHub()
    const { phone, store } = await h.pairPhone(hub, "f02-forged")
    phone.stop()
    const device = (await store.get("device"))!
    const space = (await store.get("space"))!
    const groupBefore = await store.get("group")
    const hint = forged(space.spaceId, 2n ** 62n)
    expect(hint.length).toBe(150)
    await h.mailAsRelay(device.deviceId, space.hubDeviceId, hint)
    const first = randomBytes(40_000)
    const second = randomBytes(40_000)
    await hub.deliverClip(clipOf("person", first))
    await hub.deliverClip(clipOf("person", second))
    await hub.drained()
    const epochAfterClips = hub.epoch

    const back = await h.reopen(store)
    const events = await until(async () => {
      const list = await store.listEvents()
      return list.length === 2 ? list : undefined
    })
    const clips = await Promise.all(events.map((e) => back.loadClip(e)))
    expect(clips.map((c) => c.length).sort()).toEqual([40_000, 40_000])
    expect(clips).toContainEqual(first)
    expect(clips).toContainEqual(second)
    expect(events.every((e) => e.label === "person")).toBe(true)

    // The group was kept (saved and moved on with the hub), and no rejoin left the phone.
    expect(back.status.kind).toBe("paired")
    expect(await store.get("group")).toBeDefined()
    expect(await store.get("group")).not.toEqual(groupBefore)
    expect(await store.get("pending")).toBeUndefined()
    expect(hub.epoch).toBe(epochAfterClips)
    expect(back.problems.join("\n")).toContain("EPOCH_AHEAD")
    expect(back.problems.join("\n")).not.toContain("COMMIT_MISSED")
    // Held, bounded, and still there in case its epoch ever came: it costs nothing else.
    expect((await store.get("held"))?.messages).toHaveLength(1)
  })

  it("a forged hint that nothing contradicts: the phone asks to be let back in but keeps its group until the hub's Welcome", async () => {
    const hub = await h.openHub()
    const { phone, store } = await h.pairPhone(hub, "f02-lonely")
    phone.stop()
    const device = (await store.get("device"))!
    const space = (await store.get("space"))!
    const epochBefore = hub.epoch
    await h.mailAsRelay(device.deviceId, space.hubDeviceId, forged(space.spaceId, 2n ** 62n))

    const back = await h.reopen(store, { stuckAfterMs: 0 })
    // The rejoin is a refresh: the pending join is marked as one and the group stays saved meanwhile.
    const pending = await until(() => store.get("pending"))
    expect(pending.refresh).toBe(true)
    expect(await store.get("group")).toBeDefined()
    await until(() => hub.epoch > epochBefore)
    await until(async () => ((await store.get("pending")) === undefined ? true : undefined))
    await until(() => back.status.kind === "paired")

    const mp4 = randomBytes(30_000)
    await hub.deliverClip(clipOf("motion", mp4))
    const [event] = await until(async () => {
      const list = await store.listEvents()
      return list.length ? list : undefined
    })
    expect(await back.loadClip(event!)).toEqual(mp4)
    expect(hub.phones).toHaveLength(1)
  })
})
