import {
  type RelayTransport,
  DiscoveryJoiner,
  VigilError,
  decodeDiscoveryAnnouncement,
  encodeDiscoveryRoomMessage,
  toBase64,
  toHex,
  type DeviceId,
  type Member,
  type SignatureKeys,
  type SpaceSession,
  type SupportedSuite,
} from "@vigil/protocol"
import type { DeviceRecord, LocalStore, SpaceRecord } from "../../store/db.ts"
import { errorSentence } from "../../ui/errorText.ts"
import { relayFor, type RelayFactory } from "../../space/spaceStatus.ts"

/** A hub that announced itself for pairing to devices on this network (as signal lists it: untrusted). */
export interface DiscoveredHub {
  roomId: string
  name: string
  suite: SupportedSuite
  /** The device signal says announced it; the Welcome must come from it. */
  announcedBy: string
}

export type DiscoveryState =
  | { kind: "idle" }
  | { kind: "searching"; hubs: DiscoveredHub[] | undefined; error?: string }
  | { kind: "requesting"; hub: DiscoveredHub }
  | { kind: "code"; hub: DiscoveredHub; code: string; confirmed: boolean }
  | { kind: "refused"; hub: DiscoveredHub | undefined; reason: string }
  | { kind: "paired"; hub: DiscoveredHub }

/** How long the phone waits for the Welcome and then for both confirmations. */
const requestTimeoutMs = 60_000
const confirmTimeoutMs = 150_000

/**
 * The phone's side of pairing by discovery (protocol/src/pairingDiscovery.ts). Everything lives in memory
 * until both people confirmed the code: a refusal, a cancel, a timeout or a closed tab leave nothing
 * behind. Only then are the device, the space and the group state written to the store, in one commit.
 */
export class DiscoveryPairing {
  state: DiscoveryState = { kind: "idle" }
  private client: RelayTransport | undefined
  private device: { deviceId: string; token: string } | undefined
  private attempt: AbortController | undefined
  private confirmed: (() => void) | undefined

  constructor(
    private readonly signalUrl: string,
    private readonly store: LocalStore,
    private readonly onChange: () => void,
    private readonly options: { relay?: RelayFactory } = {},
  ) {}

  private set(state: DiscoveryState) {
    this.state = state
    this.onChange()
  }

  /** This browser's device at signal: registered once per page, before it may list announcements. */
  private async authed(): Promise<RelayTransport> {
    if (!this.client || !this.device) {
      this.device = await relayFor(this.options, this.signalUrl).registerDevice("phone")
      this.client = relayFor(this.options, this.signalUrl, this.device.token)
    }
    return this.client
  }

  /** Lists the hubs in pairing mode on this network (announcements that do not parse are skipped). */
  async search(): Promise<void> {
    if (this.state.kind !== "searching") this.set({ kind: "searching", hubs: undefined })
    try {
      const client = await this.authed()
      const hubs: DiscoveredHub[] = []
      for (const a of await client.listPairingAnnouncements()) {
        try {
          const { name, suite } = decodeDiscoveryAnnouncement(a.name)
          hubs.push({ roomId: a.roomId, name, suite, announcedBy: a.deviceId })
        } catch (err) {
          if (!(err instanceof VigilError)) throw err
        }
      }
      // Re-render only when the list changed, so a periodic search does not disturb the screen.
      const same = this.state.kind === "searching" && JSON.stringify(this.state.hubs) === JSON.stringify(hubs)
      if (this.state.kind === "searching" && (!same || this.state.error))
        this.set({ kind: "searching", hubs })
    } catch (err) {
      if (this.state.kind === "searching") {
        this.set({ kind: "searching", hubs: this.state.hubs, error: errorSentence(err) })
      }
    }
  }

  /** Sends the join request to the hub the user picked and follows the pairing to its end. */
  async choose(hub: DiscoveredHub, deviceName: string): Promise<void> {
    this.attempt?.abort()
    const attempt = new AbortController()
    this.attempt = attempt
    this.set({ kind: "requesting", hub })
    try {
      // The hub refuses names with control or format characters: drop them here rather than fail there.
      const name =
        deviceName
          .replace(/[\p{Cc}\p{Cf}]/gu, "")
          .trim()
          .slice(0, 64) || "Phone"
      await this.run(hub, name, attempt.signal)
    } catch (err) {
      if (attempt.signal.aborted) return
      const reason = errorSentence(err)
      await this.cancelAt(hub)
      this.set({ kind: "refused", hub, reason })
    } finally {
      if (this.attempt === attempt) this.attempt = undefined
    }
  }

  /** The user says both screens show the same code. */
  confirm(): void {
    this.confirmed?.()
  }

  /** The user cancels: the hub is told, and nothing is kept. */
  async cancel(reason = "Pairing cancelled on this phone."): Promise<void> {
    const hub = "hub" in this.state ? this.state.hub : undefined
    this.attempt?.abort()
    this.attempt = undefined
    if (hub) await this.cancelAt(hub)
    this.set({ kind: "refused", hub, reason })
  }

  reset(): void {
    this.attempt?.abort()
    this.set({ kind: "idle" })
  }

  private async cancelAt(hub: DiscoveredHub) {
    if (!this.client || !this.device) return
    const cancel = encodeDiscoveryRoomMessage({ kind: "cancel", deviceId: this.device.deviceId as DeviceId })
    await this.client.postToRoom(hub.roomId, cancel).catch(() => undefined)
  }

  private async run(hub: DiscoveredHub, deviceName: string, abort: AbortSignal) {
    const client = await this.authed()
    const device = this.device!
    const { joiner, join } = await DiscoveryJoiner.begin({
      deviceId: device.deviceId as DeviceId,
      deviceName,
      hubDeviceId: hub.announcedBy,
      suite: hub.suite,
    })
    await client.postToRoom(hub.roomId, join)
    let after = 0
    let deadline = Date.now() + requestTimeoutMs
    while (!abort.aborted) {
      if (Date.now() > deadline) {
        throw new VigilError(
          joiner.code ? "PAIRING_UNCONFIRMED" : "PAIRING_UNANSWERED",
          joiner.code ? "the codes were not confirmed in time" : "the hub did not answer",
        )
      }
      const messages = await client.fetchMailbox(after, 10_000, { signal: abort })
      for (const m of messages) {
        after = m.seq
        if (abort.aborted) return
        const step = await joiner.receive(m.from, m.body)
        if (step.kind === "code") {
          await client.postToRoom(hub.roomId, step.reveal)
          deadline = Date.now() + confirmTimeoutMs
          this.set({ kind: "code", hub, code: step.code, confirmed: false })
          // The confirmation goes out when the user taps "Codes match", while we keep reading the mailbox.
          let sent = false
          this.confirmed = () => {
            if (sent) return
            sent = true
            this.set({ kind: "code", hub, code: step.code, confirmed: true })
            void joiner
              .confirm()
              .then((confirm) => client.postToRoom(hub.roomId, confirm))
              .catch((err: unknown) =>
                this.cancel(`The confirmation could not be sent. ${errorSentence(err)}`),
              )
          }
        } else if (step.kind === "refused") {
          this.set({
            kind: "refused",
            hub,
            reason: "The hub refused the pairing, or its code did not match.",
          })
          return
        } else if (step.kind === "paired") {
          await this.keep(hub, device, joiner.signatureKeys, step.session, step.hub, after)
          this.set({ kind: "paired", hub })
          return
        }
      }
    }
  }

  /** Both sides confirmed: from now on the hub key the result named is this phone's pinned hub key. */
  private async keep(
    hub: DiscoveredHub,
    device: { deviceId: string; token: string },
    keys: SignatureKeys,
    session: SpaceSession,
    hubMember: Member,
    after: number,
  ) {
    const deviceRecord: DeviceRecord = {
      signalUrl: this.signalUrl,
      deviceId: device.deviceId,
      token: device.token,
      signPublicKey: toBase64(keys.publicKey),
      signKey: toBase64(keys.signKey),
    }
    const space: SpaceRecord = {
      spaceId: toHex(session.groupId),
      hubDeviceId: hubMember.identity.deviceId,
      hubName: hub.name,
      hubKey: toBase64(hubMember.signaturePublicKey),
      suite: session.suite,
      after,
      keysFreshAt: Date.now(),
    }
    await this.store.commit({
      put: { device: deviceRecord, space, group: toBase64(session.encode()) },
      remove: ["pending"],
    })
  }
}
