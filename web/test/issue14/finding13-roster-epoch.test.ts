import "fake-indexeddb/auto"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import { signDeviceRoster, signPairingNotice, toHex, type SpaceSession } from "@vigil/protocol"
import type { DeviceId, SpaceId } from "@vigil/protocol"
import { startHarness, until, type Harness } from "./harness.ts"

describe("issue 14 finding 13: rosters count only in their epoch, notices only sealed", () => {
  let h: Harness
  beforeEach(async () => void (h = await startHarness()))
  afterEach(() => h.close())

  it("a hub-signed roster for an older epoch, sealed in the current one, is refused; an unsealed notice too", async () => {
    const hub = await h.openHub()
    const { phone, store } = await h.pairPhone(hub, "f13-roster")
    phone.stop()
    const device = (await store.get("device"))!
    const space = (await store.get("space"))!
    // The hub's own session (test-only access): a roster signed for a stale epoch, sealed in the current
    // one, is what a replayed or mis-bound roster looks like once MLS has let it through.
    const hubSession = (hub as unknown as { ledger: { session: SpaceSession } }).ledger.session
    const stale = await signDeviceRoster(
      {
        kind: "device-roster",
        spaceId: space.spaceId as SpaceId,
        epoch: (hubSession.epoch - 1n).toString(),
        devices: [{ deviceId: device.deviceId as DeviceId, name: "Renamed by replay", pairedAt: 1 }],
        cameras: [],
      },
      hubSession.groupId,
      hubSession.signaturePrivateKey,
      hubSession.signature,
    )
    const sealed = await hubSession.seal(stale)
    await h.mailAsRelay(device.deviceId, space.hubDeviceId, sealed)
    const bare = await signPairingNotice(
      {
        kind: "pairing-pending",
        spaceId: space.spaceId as SpaceId,
        roomId: "ab".repeat(32),
        deviceId: toHex(new Uint8Array(16)) as DeviceId,
        deviceName: "Intruder",
        code: "123456",
        expiresAt: Date.now() + 60_000,
      },
      hubSession.groupId,
      hubSession.signaturePrivateKey,
      hubSession.signature,
    )
    await h.mailAsRelay(device.deviceId, space.hubDeviceId, bare)

    const back = await h.reopen(store)
    await until(() => (back.problems.length >= 2 ? true : undefined))
    expect(back.problems.join("\n")).toContain("EPOCH_MISMATCH: roster signed for another epoch")
    expect(back.problems.join("\n")).toContain("unsealed pairing notice refused")
    expect(back.devices().map((d) => d.name)).toEqual([undefined])
    expect(back.pendingPairing).toBeUndefined()
  })
})
