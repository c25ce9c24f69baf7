/**
 * Pairing by invite: a one-time link or QR code holding a secret (protocol/src/pairing.ts). The hub claims
 * the room derived from the secret at signal, watches it, and adds the first phone whose join request the
 * secret authenticates.
 */
import {
  SignalError,
  encodeInvite,
  pairingRoomId,
  randomBytes,
  toBase64,
  verifyJoinRequest,
  VigilError,
  newPhoneRole,
  type DeviceId,
  type Invite,
  type RelayTransport,
  type SupportedSuite,
} from "@vigil/protocol"
import type { Logger } from "../log.ts"
import { describe, sleep } from "./describe.ts"
import type { HubLedger, PairedPhone } from "./hubLedger.ts"

const inviteTtlMs = 15 * 60_000
const roomPollMs = 20_000

/**
 * The phone that writes its join request into this room consents, at signal, to join this hub's space and
 * no other; the room must be ours before the phone can use it.
 */
export async function claimPairingRoom(client: RelayTransport, log: Logger, roomId: string): Promise<void> {
  await client.claimRoom(roomId).catch((err: unknown) => {
    // A relay from before join consents (no such route) adds members without asking: pair anyway.
    if (!(err instanceof SignalError && err.status === 404 && err.code === "NOT_FOUND")) throw err
    log.warn("signal does not know join consents (an older relay); pairing without")
  })
}

export class InviteDesk {
  private stopped = false

  constructor(
    private readonly ledger: HubLedger,
    private readonly client: RelayTransport,
    private readonly log: Logger,
    /** Where the PWA is served; pairing links point there. */
    private readonly webUrl: string,
  ) {}

  stop() {
    this.stopped = true
  }

  /** A one-time pairing invite; the returned URL opens the PWA straight into pairing. */
  async create(
    onPaired?: (phone: PairedPhone) => void,
  ): Promise<{ invite: Invite; code: string; url: string }> {
    const ledger = this.ledger
    const invite: Invite = {
      signal: ledger.doc.signalUrl,
      spaceId: ledger.spaceId,
      hubDeviceId: ledger.deviceId,
      hubName: ledger.doc.hubName,
      hubKey: ledger.hubSignatureKey,
      secret: randomBytes(32),
      expiresAt: Date.now() + inviteTtlMs,
      suite: ledger.session.suite as SupportedSuite,
    }
    await claimPairingRoom(this.client, this.log, await pairingRoomId(invite.secret))
    const code = encodeInvite(invite)
    void this.watch(invite, onPaired)
    return { invite, code, url: `${this.webUrl.replace(/\/+$/, "")}/#pair=${code}` }
  }

  private async watch(invite: Invite, onPaired?: (phone: PairedPhone) => void) {
    const roomId = await pairingRoomId(invite.secret)
    let after = 0
    while (!this.stopped && Date.now() < invite.expiresAt) {
      let messages: Awaited<ReturnType<RelayTransport["readRoom"]>>
      try {
        messages = await this.client.readRoom(
          roomId,
          after,
          Math.min(roomPollMs, invite.expiresAt - Date.now()),
        )
      } catch (err) {
        this.log.warn({ err: describe(err) }, "pairing room unreachable; retrying")
        await sleep(2000)
        continue
      }
      for (const m of messages) {
        after = Math.max(after, m.seq)
        try {
          const phone = await this.accept(invite, m.from as DeviceId, m.body)
          this.log.info({ deviceId: phone.deviceId }, "phone paired")
          onPaired?.(phone)
          return // one invite pairs one phone
        } catch (err) {
          this.log.warn({ err: describe(err), from: m.from }, "refused a pairing request")
        }
      }
    }
  }

  private accept(invite: Invite, from: DeviceId, body: Uint8Array): Promise<PairedPhone> {
    const ledger = this.ledger
    return ledger.transact(async () => {
      const request = await verifyJoinRequest(invite.secret, body)
      if (request.deviceId !== from)
        throw new VigilError("PAIRING_INVALID", "join request names another device")
      const existing = ledger.doc.phones
      const { keyHex, commit, welcome } = await ledger.addPhone(request.keyPackage, from)
      const pairedAt = Date.now()
      const role = newPhoneRole(existing)
      const added = { deviceId: from, signatureKey: keyHex, pairedAt, role }
      // Every phone, the new one too, learns who is in the household and with which role.
      const roster = await ledger.session.seal(await ledger.signRoster([...existing, added]))
      await ledger.apply(
        [
          ...ledger.mailToPhones(commit, existing),
          { kind: "grant", deviceId: from },
          { kind: "mail", to: from, body: toBase64(welcome) },
          ...ledger.mailToPhones(roster, [...existing, added]),
        ],
        (doc) => ({ ...doc, phones: [...doc.phones, added] }),
      )
      return { deviceId: from, pairedAt, role }
    })
  }
}
