import "fake-indexeddb/auto"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import { SignalClient, SpaceSession, decodeInvite, fromBase64, mlsWireformat } from "@vigil/protocol"
import { PhoneSpace } from "../../src/space/phoneSpace.ts"
import { LocalStore } from "../../src/store/db.ts"
import { startHarness, until, type Harness } from "./harness.ts"

describe("issue 14 finding 11: a joining phone takes only a Welcome the pinned hub key signed", () => {
  let h: Harness
  beforeEach(async () => void (h = await startHarness()))
  afterEach(() => h.close())

  it("a member phone with the relay's help cannot park a joining phone in its own fork of the group", async () => {
    const hub = await h.openHub()
    const member = await h.pairPhone(hub, "f11-member")
    member.phone.stop()

    // A new phone starts pairing; the relay withholds the hub's Welcome...
    const store = await LocalStore.open("f11-joining")
    const codes: string[] = []
    void hub.createInvite(() => {}).then((i) => codes.push(i.code))
    const joining = await PhoneSpace.pair(store, decodeInvite(await until(() => codes[0])), () => {})
    const device = (await store.get("device"))!
    const space = (await store.get("space"))!
    const raw = new SignalClient({ baseUrl: h.relay.url, token: device.token })
    // (and the roster the hub sends with it: a relay that holds back the Welcome holds back what follows).
    const withheld = await until(async () => {
      const list = await raw.fetchMailbox(0)
      return list.some((m) => mlsWireformat(m.body) === "mls_welcome") && list.length >= 2 ? list : undefined
    })
    await raw.ackMailbox(withheld.at(-1)!.seq)

    // ...and hands it one the member made from its own copy of the group: real group id, real hub leaf.
    const memberGroup = (await member.store.get("group"))!
    const fork = await SpaceSession.restore(fromBase64(memberGroup), {
      trust: () => true,
      persist: async () => {},
    })
    const pending = (await store.get("pending"))!
    const { welcome } = await fork.addMember(fromBase64(pending.keyPackage))
    await h.mailAsRelay(device.deviceId, space.hubDeviceId, welcome)

    void joining.run()
    try {
      await until(() => (joining.problems.length > 0 ? true : undefined))
      expect(joining.problems.join("\n")).toContain("UNTRUSTED_CREDENTIAL")
      expect(joining.status.kind).toBe("waiting-for-hub")
      expect(await store.get("group")).toBeUndefined()
      expect(await store.get("pending")).toBeDefined()
    } finally {
      joining.stop()
      await store.close()
    }
  })
})
