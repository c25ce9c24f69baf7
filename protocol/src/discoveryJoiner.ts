/**
 * The phone's side of a pairing by discovery (pairingDiscovery.ts, discoveryProbe.ts) as a state machine
 * with no I/O: the caller posts the room messages it returns and feeds it the hub's mail. The app
 * (web/src/features/pairing/discoveryPairing.ts) and the hub's test phone both drive this one.
 *
 *   const { joiner, join } = await DiscoveryJoiner.begin({ deviceId, deviceName, hubDeviceId, suite })
 *   post(join)
 *   for each mail m:  step = await joiner.receive(m.from, m.body)
 *     "code":    post(step.reveal), show step.code; when the person taps "Codes match": post(await joiner.confirm())
 *     "paired":  keep step.session (the household's group), step.hub (pin its key) and joiner.signatureKeys
 *     "refused": nothing is kept
 *
 * Nothing it holds is kept anywhere until "paired": a refusal, a cancel or a closed page leave nothing.
 */
import type { CiphersuiteName } from "ts-mls"
import { newPairingNonce, confirmationCode } from "./confirmationCode.ts"
import {
  encodePairingConfirmation,
  joinHousehold,
  joinProbe,
  openPairingResult,
  type PairingResult,
} from "./discoveryProbe.ts"
import { ProtocolStateError } from "./errors.ts"
import type { DeviceId } from "./ids.ts"
import { encodeDiscoveryRoomMessage } from "./pairingDiscovery.ts"
import {
  SpaceSession,
  createPendingJoin,
  mlsWireformat,
  pendingSignatureKeys,
  type Member,
  type PendingJoin,
  type SignatureKeys,
} from "./spaceSession.ts"

export type JoinerStep =
  /** Not part of this pairing (another sender, or nothing the pairing waits for). */
  | { kind: "ignored" }
  /** The probe is joined: post `reveal` into the room, and show `code`. */
  | { kind: "code"; code: string; reveal: Uint8Array }
  | { kind: "refused"; result: PairingResult }
  /** In the household: `session` is its group, `hub` the hub member whose key is now pinned. */
  | { kind: "paired"; result: PairingResult; session: SpaceSession; hub: Member }

export class DiscoveryJoiner {
  private probe: { probe: SpaceSession; hub: Member } | undefined
  private shown: string | undefined
  private confirmed = false

  private constructor(
    readonly deviceId: DeviceId,
    private readonly hubDeviceId: string,
    /** The key package in the join (the probe's). */
    private readonly first: PendingJoin,
    /** The key package for the household, sent sealed in the probe once the codes match. */
    private readonly household: PendingJoin,
    private readonly nonce: Uint8Array,
  ) {}

  /**
   * A fresh pairing attempt with the hub whose device is `hubDeviceId` (the one signal says announced the
   * room). Returns the `join` to post into the room.
   */
  static async begin(opts: {
    deviceId: DeviceId
    deviceName: string
    hubDeviceId: string
    suite?: CiphersuiteName
  }): Promise<{ joiner: DiscoveryJoiner; join: Uint8Array }> {
    const identity = { role: "phone" as const, deviceId: opts.deviceId }
    const first = await createPendingJoin(identity, opts.suite)
    // Same signature key (this phone's lasting identity), its own init key.
    const household = await createPendingJoin(identity, opts.suite, pendingSignatureKeys(first))
    // Committed now, revealed only after the probe's Welcome: no one in the middle can grind its epoch to
    // our code (confirmationCode.ts).
    const { nonce, commitment } = await newPairingNonce()
    const joiner = new DiscoveryJoiner(opts.deviceId, opts.hubDeviceId, first, household, nonce)
    const join = encodeDiscoveryRoomMessage({
      kind: "join",
      deviceId: opts.deviceId,
      deviceName: opts.deviceName,
      keyPackage: first.keyPackage,
      commitment,
    })
    return { joiner, join }
  }

  /** The code this phone shows, once the probe is joined. */
  get code(): string | undefined {
    return this.shown
  }

  /** The probe's session (tests look into it). */
  get probeSession(): SpaceSession | undefined {
    return this.probe?.probe
  }

  /** The phone's lasting signature key pair, to keep once paired. */
  get signatureKeys(): SignatureKeys {
    return pendingSignatureKeys(this.household)
  }

  /** One mail from the mailbox. Throws a typed error for mail from the hub that does not verify. */
  async receive(from: string, body: Uint8Array): Promise<JoinerStep> {
    if (from !== this.hubDeviceId) return { kind: "ignored" } // only the hub the user picked may answer
    const wireformat = mlsWireformat(body)
    if (wireformat === "mls_welcome" && !this.probe) {
      this.probe = await joinProbe(body, this.first, this.hubDeviceId)
      this.shown = await confirmationCode(this.probe.probe.epochAuthenticator, this.nonce)
      const reveal = encodeDiscoveryRoomMessage({
        kind: "reveal",
        deviceId: this.deviceId,
        nonce: this.nonce,
      })
      return { kind: "code", code: this.shown, reveal }
    }
    if (wireformat !== "mls_private_message" || !this.probe) return { kind: "ignored" }
    const { probe, hub } = this.probe
    const incoming = await probe.open(body, hub.leafIndex)
    if (incoming.kind !== "application") return { kind: "ignored" }
    const result = await openPairingResult(
      incoming.data,
      probe.groupId,
      hub.signaturePublicKey,
      probe.signature,
    )
    if (result.to !== this.deviceId) return { kind: "ignored" }
    if (!result.accepted) return { kind: "refused", result }
    // The hub accepts only after our confirmation: an acceptance before it is not for this attempt.
    if (!this.confirmed) return { kind: "ignored" }
    const joined = await joinHousehold(result, this.household, this.hubDeviceId)
    return { kind: "paired", result, session: joined.session, hub: joined.hub }
  }

  /** The person said both screens show the same code: the `confirm` to post into the room. */
  async confirm(code = this.shown): Promise<Uint8Array> {
    if (!this.probe || code === undefined) {
      throw new ProtocolStateError("UNEXPECTED_MESSAGE", "no code to confirm yet")
    }
    this.confirmed = true
    const plaintext = encodePairingConfirmation(this.deviceId, code, this.household.keyPackage)
    const sealed = await this.probe.probe.seal(plaintext)
    return encodeDiscoveryRoomMessage({ kind: "confirm", deviceId: this.deviceId, sealed })
  }

  /** The `cancel` to post into the room. */
  cancel(): Uint8Array {
    return encodeDiscoveryRoomMessage({ kind: "cancel", deviceId: this.deviceId })
  }
}
