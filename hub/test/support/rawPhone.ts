/**
 * A phone made of protocol parts only, for hub tests (against the real relay or the in-memory one): it pairs by discovery step by
 * step (so a test can also misbehave), follows the hub's epochs, and collects what the hub sends it.
 */
import { expect, vi } from "vitest"
import {
  DiscoveryJoiner,
  SignalClient,
  SpaceSession,
  decodeDiscoveryAnnouncement,
  defaultSuiteName,
  encodeDiscoveryRoomMessage,
  isSealedPairingNoticeBytes,
  loadSuite,
  openDeviceRoster,
  openSealedPairingNotice,
  openSignedHubMessage,
  peekEnvelopeKind,
  signDeviceRequest,
  signPairingApproval,
  type DeviceId,
  type DeviceRequest,
  type DeviceRoster,
  type HubMessage,
  type Member,
  type PairingNotice,
  type RelayTransport,
  type PairingResult,
} from "@vigil/protocol"

export interface RawPhoneSetup {
  /** The relay: signal's URL, or a transport per device token (an in-memory relay). */
  relay: string | ((token?: string) => RelayTransport)
  /** The hub under test (read at each use: tests reopen it). */
  hubDeviceId: () => string
  /** The name the hub announces itself under. */
  hubName: string
}

export type RawPhone = Awaited<ReturnType<typeof rawPhone>>

export async function rawPhone(setup: RawPhoneSetup, name: string) {
  const relay = setup.relay
  const transport = (token?: string): RelayTransport =>
    typeof relay === "string" ? new SignalClient({ baseUrl: relay, token }) : relay(token)
  const device = await transport().registerDevice("phone")
  const client = transport(device.token)
  const deviceId = device.deviceId as DeviceId
  let after = 0
  let session: SpaceSession | undefined
  let hubMember: Member | undefined
  // The pairing in progress, as the app runs it (protocol/src/discoveryJoiner.ts).
  let joiner: DiscoveryJoiner | undefined
  let code: { code: string; reveal: Uint8Array } | undefined
  let roomId = ""
  const results: PairingResult[] = []
  const notices: PairingNotice[] = []
  const rosters: DeviceRoster[] = []
  const messages: HubMessage[] = []
  const signKey = () => joiner!.signatureKeys.signKey

  /** Reads the mailbox: joins the probe, then the household from the result, follows commits, sorts the rest. */
  async function follow() {
    for (const m of await client.fetchMailbox(after, 0)) {
      after = m.seq
      if (isSealedPairingNoticeBytes(m.body)) {
        const hubKey = hubMember!.signaturePublicKey
        notices.push(await openSealedPairingNotice(m.body, session!, hubKey, session!.signature))
        continue
      }
      if (!session) {
        const step = await joiner!.receive(m.from, m.body)
        if (step.kind === "code") code = step
        if (step.kind === "refused" || step.kind === "paired") results.push(step.result)
        if (step.kind === "paired") ({ session, hub: hubMember } = step)
        continue
      }
      const incoming = await session.open(m.body, hubMember!.leafIndex)
      if (incoming.kind !== "application") continue
      const hubKey = hubMember!.signaturePublicKey
      if (peekEnvelopeKind(incoming.data) === "device-roster") {
        rosters.push(await openDeviceRoster(incoming.data, session!.groupId, hubKey, session!.signature))
        continue
      }
      messages.push(await openSignedHubMessage(incoming.data, session.groupId, hubKey, session.signature))
    }
  }

  const phone = {
    deviceId,
    client,
    results,
    notices,
    rosters,
    messages,
    follow,
    get session() {
      return session
    },
    /** The probe this phone joined (the group the pairing's code is computed in). */
    get probe() {
      return joiner?.probeSession
    },
    get roomId() {
      return roomId
    },
    get signKey() {
      return signKey()
    },
    /**
     * Finds the hub's announcement, joins, waits for the Welcome and reveals the nonce (another one with
     * `revealOverride`); returns the code this phone shows.
     */
    async join(revealOverride?: Uint8Array): Promise<string> {
      await vi.waitFor(
        async () => {
          const list = await client.listPairingAnnouncements()
          const a = list.find((x) => decodeDiscoveryAnnouncement(x.name).name === setup.hubName)
          if (!a) throw new Error("not announced yet")
          roomId = a.roomId
        },
        { timeout: 10_000, interval: 100 },
      )
      const begun = await DiscoveryJoiner.begin({
        deviceId,
        deviceName: name,
        hubDeviceId: setup.hubDeviceId(),
      })
      joiner = begun.joiner
      await client.postToRoom(roomId, begun.join)
      await vi.waitFor(
        async () => {
          await follow()
          if (!code) throw new Error("no Welcome yet")
        },
        { timeout: 10_000, interval: 100 },
      )
      const reveal = revealOverride
        ? encodeDiscoveryRoomMessage({ kind: "reveal", deviceId, nonce: revealOverride })
        : code!.reveal
      await client.postToRoom(roomId, reveal)
      return code!.code
    },
    /** "Codes match" on this phone (for `code`): the confirmation, with the household key package. */
    async confirm(code: string) {
      await client.postToRoom(roomId, await joiner!.confirm(code))
    },
    postRaw(bytes: Uint8Array) {
      return client.postToRoom(roomId, bytes)
    },
    /** The hub's pairing result, once it came. */
    async result(): Promise<PairingResult> {
      await vi.waitFor(
        async () => {
          await follow()
          if (results.length === 0) throw new Error("no result yet")
        },
        { timeout: 15_000, interval: 100 },
      )
      return results[0]!
    },
    /** Pairs all the way; `answer` is the person at the hub saying yes once `asked()` went up by one. */
    async pair(asked: () => number, answer: () => void) {
      const before = asked()
      const code = await phone.join()
      await vi.waitFor(() => expect(asked()).toBe(before + 1), { timeout: 10_000 })
      answer()
      await phone.confirm(code)
      expect(await phone.result()).toMatchObject({ accepted: true })
    },
    /** A device request signed with `key` (this phone's by default), sealed and mailed to the hub. */
    async sendDeviceRequest(request: DeviceRequest, key = signKey()) {
      const signed = await signDeviceRequest(request, session!.groupId, key, session!.signature)
      await client.sendToMailbox(setup.hubDeviceId(), await session!.seal(signed))
    },
    /** Posts an approval of `target` with `code` into `room`, signed with `key` (this phone's by default). */
    async approve(room: string, target: DeviceId, code: string, groupId: Uint8Array, key = signKey()) {
      const { signature } = await loadSuite(defaultSuiteName)
      const signed = await signPairingApproval(
        { kind: "pairing-approve", deviceId, target, code, approve: true },
        groupId,
        key,
        signature,
      )
      await client.postToRoom(room, encodeDiscoveryRoomMessage({ kind: "approve", deviceId, signed }))
    },
  }
  return phone
}
