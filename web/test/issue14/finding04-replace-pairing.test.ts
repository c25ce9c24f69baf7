import "fake-indexeddb/auto"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import { decodeInvite, randomBytes, type Invite } from "@vigil/protocol"
import { PhoneSpace } from "../../src/space/phoneSpace.ts"
import { hubKeyWords } from "../../src/features/pairing/replacePairingDialog.ts"
import { clipOf, startHarness, until, type Harness } from "./harness.ts"

describe("issue 14 finding 4: a pairing link never replaces the phone's home unless the user chose so", () => {
  let h: Harness
  beforeEach(async () => void (h = await startHarness()))
  afterEach(() => h.close())

  async function inviteOf(hub: Awaited<ReturnType<Harness["openHub"]>>): Promise<Invite> {
    const codes: string[] = []
    void hub.createInvite(() => {}).then((i) => codes.push(i.code))
    return decodeInvite(await until(() => codes[0]))
  }

  it("a paired phone given another hub's link (same name, same relay) keeps its device, keys and group", async () => {
    const home = await h.openHub("Home")
    const { phone, store } = await h.pairPhone(home, "f04-keep")
    const before = {
      device: await store.get("device"),
      space: await store.get("space"),
      group: await store.get("group"),
    }
    const intruder = await h.openHub("Home")
    const invite = await inviteOf(intruder)

    await expect(PhoneSpace.pair(store, invite, () => {})).rejects.toMatchObject({ code: "ALREADY_PAIRED" })

    expect(await store.get("device")).toEqual(before.device)
    expect(await store.get("space")).toEqual(before.space)
    expect(await store.get("group")).toEqual(before.group)
    expect(await store.get("pending")).toBeUndefined()
    expect(intruder.phones).toHaveLength(0)
    // The confirmation screen tells the two "Home"s apart by their keys.
    expect(hubKeyWords(before.space!.hubKey)).not.toBe(
      hubKeyWords(Buffer.from(invite.hubKey).toString("base64")),
    )
    const mp4 = randomBytes(20_000)
    await home.deliverClip(clipOf("motion", mp4))
    const [event] = await until(async () => {
      const list = await store.listEvents()
      return list.length ? list : undefined
    })
    expect(await phone.loadClip(event!)).toEqual(mp4)
  })

  it("with the user's explicit choice the link pairs the phone with the other hub", async () => {
    const home = await h.openHub("Home")
    const { phone, store } = await h.pairPhone(home, "f04-switch")
    phone.stop()
    const other = await h.openHub("Cabin")
    const invite = await inviteOf(other)

    const next = await PhoneSpace.pair(store, invite, () => {}, undefined, { replace: true })
    void next.run()
    try {
      await until(() => next.status.kind === "paired")
      expect(next.hubName).toBe("Cabin")
      expect((await store.get("space"))?.hubName).toBe("Cabin")
    } finally {
      next.stop()
    }
  })

  it("hubKeyWords shows the first 8 bytes of the hub key in four groups", () => {
    expect(
      hubKeyWords(Buffer.from([0x3f, 0x2a, 0x91, 0xc0, 0x7b, 0x11, 0x02, 0xde, 0xff]).toString("base64")),
    ).toBe("3f2a 91c0 7b11 02de")
  })
})
