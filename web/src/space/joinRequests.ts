/**
 * What a phone sends to get into its space's group: the first join request with an invite, and later
 * rejoin requests (after a desync, or to refresh its leaf keys) under the same signature key. Each saves
 * the pending join first, so the hub's Welcome always finds the keys it was made for.
 */
import {
  type RelayTransport,
  createJoinRequest,
  createPendingJoin,
  createRejoinRequest,
  defaultSuiteName,
  fromBase64,
  loadSuite,
  pairingRoomId,
  pendingSignatureKeys,
  supportedSuites,
  toBase64,
  type DeviceId,
  type Invite,
  type SpaceId,
} from "@vigil/protocol"
import type { DeviceRecord, LocalStore, SpaceRecord } from "../store/db.ts"
import { relayFor, type RelayFactory } from "./spaceStatus.ts"

/**
 * Registers this device at the invite's signal server, saves it with the space and a pending join (in
 * place of any previous home), and posts a join request only a holder of the invite could have made.
 */
export async function enrolWithInvite(
  store: LocalStore,
  invite: Invite,
  options: { relay?: RelayFactory } = {},
): Promise<{ device: DeviceRecord; space: SpaceRecord }> {
  const registered = await relayFor(options, invite.signal).registerDevice("phone")
  const pending = await createPendingJoin(
    { role: "phone", deviceId: registered.deviceId as DeviceId },
    invite.suite,
  )
  const keys = pendingSignatureKeys(pending)
  const device: DeviceRecord = {
    signalUrl: invite.signal,
    deviceId: registered.deviceId,
    token: registered.token,
    signPublicKey: toBase64(keys.publicKey),
    signKey: toBase64(keys.signKey),
  }
  const space: SpaceRecord = {
    spaceId: invite.spaceId,
    hubDeviceId: invite.hubDeviceId,
    hubName: invite.hubName,
    hubKey: toBase64(invite.hubKey),
    suite: invite.suite,
    after: 0,
  }
  await store.commit({
    put: {
      device,
      space,
      pending: {
        keyPackage: toBase64(pending.keyPackage),
        privatePackage: toBase64(pending.privatePackage),
        spaceId: invite.spaceId,
      },
    },
    remove: ["group", "held"],
  })
  const authed = relayFor(options, invite.signal, registered.token)
  const request = await createJoinRequest(invite.secret, {
    deviceId: registered.deviceId as DeviceId,
    keyPackage: pending.keyPackage,
  })
  await authed.postToRoom(await pairingRoomId(invite.secret), request)
  return { device, space }
}

/**
 * Asks the hub to re-add this phone: a fresh key package under the same signature key, in a request signed
 * with it. `refresh` keeps the current group until the Welcome; otherwise the saved group is dropped.
 */
export async function sendRejoinRequest(
  store: LocalStore,
  client: RelayTransport,
  device: DeviceRecord,
  space: SpaceRecord,
  { refresh }: { refresh: boolean },
): Promise<void> {
  const keys = {
    publicKey: fromBase64(device.signPublicKey),
    signKey: fromBase64(device.signKey),
  }
  const deviceId = device.deviceId as DeviceId
  const suite = supportedSuites.find((x) => x === space.suite) ?? defaultSuiteName
  const pending = await createPendingJoin({ role: "phone", deviceId }, suite, keys)
  const request = await createRejoinRequest(
    {
      deviceId,
      spaceId: space.spaceId as SpaceId,
      keyPackage: pending.keyPackage,
      issuedAt: Date.now(),
    },
    keys.signKey,
    (await loadSuite(suite)).signature,
  )
  await store.commit({
    put: {
      pending: {
        keyPackage: toBase64(pending.keyPackage),
        privatePackage: toBase64(pending.privatePackage),
        spaceId: space.spaceId,
        refresh,
      },
    },
    ...(refresh ? {} : { remove: ["group" as const] }),
  })
  await client.sendToMailbox(space.hubDeviceId, request)
}
