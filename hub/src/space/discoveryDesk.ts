/**
 * Pairing by discovery, the hub's side (protocol/src/pairingDiscovery.ts, discoveryProbe.ts): announces the
 * hub to phones behind the same public address (or watches a join link's room), answers one join at a time
 * with a probe, asks the person at the hub (or a paired phone) to compare the code, and only then adds the
 * phone to the household's group through the ledger. A little over 400 lines: one conversation with one
 * phone, whose steps (reveal, confirm, approve, cancel, timeout) share its state.
 */
import {
  checkPairingConfirmation,
  checkPairingNonce,
  confirmationCode,
  decodeDiscoveryRoomMessage,
  encodeDiscoveryAnnouncement,
  newDiscoveryRoomId,
  openPairingApproval,
  openProbe,
  sealPairingNotice,
  sealPairingResult,
  toBase64,
  VigilError,
  newPhoneRole,
  roleOf,
  roleRefusal,
  type DeviceId,
  type DiscoveryRoomMessage,
  type HubProbe,
  type RelayTransport,
  type SpaceSession,
  type SupportedSuite,
} from "@vigil/protocol"
import { nodeAead } from "../crypto/nodeAead.ts"
import type { Logger } from "../log.ts"
import { describe, sleep } from "./describe.ts"
import type { HubLedger, PairedPhone } from "./hubLedger.ts"
import { claimPairingRoom } from "./inviteDesk.ts"

/** A phone asking to join through discovery, with the code both screens show. */
export interface DiscoveryRequest {
  deviceId: DeviceId
  deviceName: string
  code: string
}

export interface DiscoveryOptions {
  /**
   * Asks the person at the hub whether the phone shows `request.code`; resolves true only for an explicit
   * yes. `signal` aborts when the phone cancelled or the time ran out (resolve false then).
   */
  confirm: (request: DiscoveryRequest, signal: AbortSignal) => Promise<boolean>
  onPaired?: (phone: PairedPhone) => void
  /** A request that ended without pairing, and why (for the person at the hub). */
  onRefused?: (request: DiscoveryRequest | { deviceId: DeviceId }, reason: string) => void
  /** A paired phone answered in the hub's place (its user compared the code). */
  onApproval?: (request: DiscoveryRequest, by: DeviceId, approve: boolean) => void
  /** How long both confirmations may take. Default 2 minutes. */
  confirmTimeoutMs?: number
  /**
   * Watch this room until then instead of announcing rotating rooms at signal: a paired phone picked it
   * for a join link ("pairing-open"), so only the phones it was given to know it.
   */
  room?: { roomId: string; until: number }
}

/** A pairing by discovery waiting for the phone's confirmation (the hub's is asked through `confirm`). */
interface PendingDiscovery {
  deviceId: DeviceId
  roomId: string
  onRoomMessage: (m: DiscoveryRoomMessage) => Promise<void>
}

const roomPollMs = 20_000
/** Discovery re-announces this often (signal keeps an announcement 10 minutes) ... */
const announceEveryMs = 4 * 60_000
/** ... and moves to a fresh room this often (signal keeps a room 15 minutes after its first message). */
const discoveryRoomMs = 10 * 60_000

export class DiscoveryDesk {
  private stopped = false
  /** Ends a pairing by discovery still waiting for confirmation when the hub stops. */
  private readonly abort = new AbortController()

  constructor(
    private readonly ledger: HubLedger,
    private readonly client: RelayTransport,
    private readonly log: Logger,
    private readonly hubName: string,
  ) {}

  stop() {
    this.stopped = true
    this.abort.abort()
  }

  /**
   * Pairing mode by discovery (protocol/src/pairingDiscovery.ts): announces this hub at signal to phones on
   * the same network and pairs the phones that ask, one at a time, once the code is confirmed on both
   * sides. Runs until the returned `stop` is called or the hub closes.
   */
  start(opts: DiscoveryOptions): { stop: () => void } {
    const abort = new AbortController()
    void this.runDiscovery(opts, abort.signal)
    return { stop: () => abort.abort() }
  }

  private async runDiscovery(opts: DiscoveryOptions, stop: AbortSignal) {
    const name = encodeDiscoveryAnnouncement({
      name: this.hubName,
      suite: this.ledger.session.suite as SupportedSuite,
    })
    let roomId = ""
    let roomSince = 0
    let announcedAt = 0
    let after = 0
    let pending: PendingDiscovery | undefined
    const withdraw = (room: string) =>
      room
        ? this.client
            .withdrawPairing(room)
            .catch((err: unknown) =>
              this.log.warn({ err: describe(err) }, "withdrawing the announcement failed"),
            )
        : Promise.resolve()
    if (opts.room) {
      roomId = opts.room.roomId
      roomSince = Number.POSITIVE_INFINITY
      announcedAt = Number.POSITIVE_INFINITY
      try {
        await claimPairingRoom(this.client, this.log, roomId)
      } catch (err) {
        this.log.warn({ err: describe(err) }, "the join link's room could not be claimed; not watching it")
        return
      }
    }
    while (!stop.aborted && !this.stopped) {
      if (opts.room && Date.now() > opts.room.until && !pending) break
      try {
        const now = Date.now()
        if (!opts.room && !pending && now - roomSince > discoveryRoomMs) {
          void withdraw(roomId)
          roomId = newDiscoveryRoomId()
          roomSince = now
          announcedAt = 0
          after = 0
        }
        if (!opts.room && now - announcedAt > announceEveryMs) {
          await this.client.announcePairing(roomId, name)
          announcedAt = now
          this.log.info({ roomId }, "announced for pairing by discovery")
        }
        const messages = await this.client.readRoom(roomId, after, roomPollMs)
        for (const m of messages) {
          after = Math.max(after, m.seq)
          let msg: DiscoveryRoomMessage
          try {
            msg = decodeDiscoveryRoomMessage(m.body, m.from)
          } catch (err) {
            this.log.warn({ err: describe(err), from: m.from }, "refused a message in the pairing room")
            continue
          }
          if (msg.kind === "join") {
            if (pending) {
              this.log.warn(
                { from: m.from },
                "a pairing is already waiting for confirmation; request ignored",
              )
              continue
            }
            const current: PendingDiscovery = {
              deviceId: msg.deviceId,
              roomId,
              onRoomMessage: async () => {},
            }
            pending = current
            void this.pairByDiscovery(msg, current, opts).finally(() => {
              if (pending === current) pending = undefined
            })
          } else if (pending && (pending.deviceId === msg.deviceId || msg.kind === "approve")) {
            await pending.onRoomMessage(msg)
          } else {
            this.log.warn({ from: m.from, kind: msg.kind }, "pairing message for no pending request")
          }
        }
      } catch (err) {
        if (stop.aborted || this.stopped) break
        this.log.warn({ err: describe(err) }, "pairing room unreachable; retrying")
        await sleep(2000)
      }
    }
    if (!opts.room) await withdraw(roomId)
  }

  /**
   * One pairing by discovery. The phone is answered with a probe (discoveryProbe.ts), a throwaway group of
   * two: nothing of the household is shown before both people said the codes match, and the household's
   * queue is not held while they compare them. Only then is the phone added to the household's group.
   */
  private async pairByDiscovery(
    join: Extract<DiscoveryRoomMessage, { kind: "join" }>,
    ctx: PendingDiscovery,
    opts: DiscoveryOptions,
  ): Promise<void> {
    const from = join.deviceId
    try {
      if (this.ledger.doc.phones.some((p) => p.deviceId === from)) {
        throw new VigilError("PAIRING_INVALID", "device is already paired")
      }
      const probe = await openProbe({
        hubDeviceId: this.ledger.deviceId,
        join,
        suite: this.ledger.session.suite,
      })
      await this.discoveryProbe(join, probe, ctx, opts)
    } catch (err) {
      this.log.warn({ err: describe(err), from }, "refused a pairing request")
      opts.onRefused?.({ deviceId: from }, describe(err))
    }
  }

  private async discoveryProbe(
    join: Extract<DiscoveryRoomMessage, { kind: "join" }>,
    { probe, welcome, phoneKey }: HubProbe,
    ctx: PendingDiscovery,
    opts: DiscoveryOptions,
  ) {
    const from = join.deviceId
    // The code needs the phone's nonce, which it reveals only once it holds the Welcome (confirmationCode.ts).
    let code: string | undefined
    let request: DiscoveryRequest = { deviceId: from, deviceName: join.deviceName, code: "" }

    const decided = new AbortController()
    let nonceSaid: (nonce: Uint8Array | undefined) => void = () => {}
    const revealed = new Promise<Uint8Array | undefined>((resolve) => (nonceSaid = resolve))
    // The phone's side: its confirmation, with the key package it wants in the household's group.
    let phoneSaid: (keyPackage: Uint8Array | undefined) => void = () => {}
    const phoneYes = new Promise<Uint8Array | undefined>((resolve) => (phoneSaid = resolve))
    // The hub's side: its terminal, or a paired phone whose user compared the code (signed approval).
    let hubSaid: (yes: boolean) => void = () => {}
    const hubYes = new Promise<boolean>((resolve) => (hubSaid = resolve))
    ctx.onRoomMessage = async (m) => {
      if (m.kind === "approve") {
        if (code === undefined) return
        try {
          const approval = await openPairingApproval(m.signed, {
            groupId: this.ledger.session.groupId,
            from: m.deviceId,
            pinnedKey: (deviceId) => this.ledger.pinnedPhoneKey(deviceId),
            signature: this.ledger.session.signature,
            target: from,
            code,
          })
          const refused = roleRefusal(this.ledger.doc.phones, approval.deviceId, { kind: "approve-pairing" })
          if (refused) throw new VigilError("NOT_AN_OWNER", refused)
          this.log.info({ by: m.deviceId, approve: approval.approve }, "a paired phone answered a pairing")
          opts.onApproval?.(request, approval.deviceId, approval.approve)
          if (!approval.approve) reason = "refused on a paired phone"
          hubSaid(approval.approve)
        } catch (err) {
          this.log.warn({ err: describe(err), from: m.deviceId }, "refused a pairing approval")
        }
        return
      }
      if (m.deviceId !== from) return
      if (m.kind === "cancel") {
        nonceSaid(undefined)
        return phoneSaid(undefined)
      }
      if (m.kind === "reveal") {
        if (code !== undefined) return
        try {
          await checkPairingNonce(m.nonce, join.commitment)
          nonceSaid(m.nonce)
        } catch (err) {
          // Not what the phone committed to: someone is playing with the pairing. End it.
          this.log.warn({ err: describe(err), from }, "refused a pairing nonce")
          reason = "the phone's nonce did not match its request"
          nonceSaid(undefined)
          phoneSaid(undefined)
        }
        return
      }
      if (m.kind !== "confirm" || code === undefined) return
      try {
        // Sealed in the probe, which only this phone and the hub hold.
        const opened = await probe.open(m.sealed, probe.ownLeafIndex)
        if (opened.kind !== "application")
          throw new VigilError("UNEXPECTED_MESSAGE", "expected a confirmation")
        phoneSaid(checkPairingConfirmation(opened.data, { deviceId: from, code, phoneKey }).keyPackage)
      } catch (err) {
        this.log.warn({ err: describe(err), from }, "refused a pairing confirmation")
      }
    }

    let keyPackage: Uint8Array | undefined
    let reason = "refused at the hub"
    const stopping = () => {
      reason = "the hub is stopping"
      decided.abort()
    }
    try {
      // The phone may read its mailbox at signal only once it shares the space with the hub.
      // Pending: mail only. Until both people confirmed, the phone must not list, read or delete clips.
      await this.client.addMember(this.ledger.spaceId, from, { pending: true })
      await this.client.sendToMailbox(from, welcome)
      const timeoutMs = opts.confirmTimeoutMs ?? 120_000
      const timer = setTimeout(() => {
        reason = "no confirmation in time"
        decided.abort()
      }, timeoutMs)
      if (this.abort.signal.aborted) stopping()
      this.abort.signal.addEventListener("abort", stopping, { once: true })
      const aborted = new Promise<undefined>((resolve) => {
        if (decided.signal.aborted) resolve(undefined)
        decided.signal.addEventListener("abort", () => resolve(undefined), { once: true })
      })
      const nonce = await Promise.race([revealed, aborted])
      if (nonce) {
        code = await confirmationCode(probe.epochAuthenticator, nonce)
        request = { ...request, code }
        void opts.confirm(request, decided.signal).then((yes) => {
          if (!decided.signal.aborted) hubSaid(yes)
        })
        await this.noticeToPhones(request, ctx.roomId, Date.now() + timeoutMs)
        const never = new Promise<undefined>(() => {})
        keyPackage = await Promise.race([
          Promise.all([hubYes, phoneYes]).then(([a, b]) => (a ? b : undefined)),
          hubYes.then((yes) => (yes ? never : undefined)),
          phoneYes.then((kp) => {
            if (!kp && reason === "refused at the hub") reason = "cancelled on the phone"
            return kp ? never : undefined
          }),
          aborted,
        ])
      } else if (reason === "refused at the hub") {
        reason = "cancelled on the phone" // the timer and a stopping hub set their own reason
      }
      clearTimeout(timer)
      if (keyPackage) {
        const phone = await this.ledger.transact(() => this.admit(from, join.deviceName, keyPackage!, probe))
        this.log.info({ deviceId: from }, "phone paired by discovery")
        opts.onPaired?.(phone)
        return
      }
    } catch (err) {
      reason = describe(err)
    } finally {
      decided.abort()
      this.abort.signal.removeEventListener("abort", stopping)
      ctx.onRoomMessage = async () => {}
    }

    // Refused: the phone hears so, in the probe, and learns nothing else.
    const refusal = await sealPairingResult({ kind: "pairing-result", to: from, accepted: false }, probe)
    await this.client.sendToMailbox(from, refusal).catch(() => undefined)
    await this.client.removeMember(this.ledger.spaceId, from).catch((err: unknown) => {
      this.log.warn({ err: describe(err), from }, "could not revoke a refused phone at signal")
    })
    this.log.info({ deviceId: from, reason }, "pairing by discovery refused")
    opts.onRefused?.(request, reason)
  }

  /**
   * Both people said yes: adds the phone's household key package to the group in one commit, saved with its
   * outbox: the commit to the other phones, the grant at signal, the result (with the Welcome) sealed in
   * the probe, and the new roster.
   */
  private async admit(
    from: DeviceId,
    name: string,
    keyPackage: Uint8Array,
    probe: SpaceSession,
  ): Promise<PairedPhone> {
    const ledger = this.ledger
    const existing = ledger.doc.phones
    const { keyHex, commit, welcome } = await ledger.addPhone(keyPackage, from)
    const pairedAt = Date.now()
    const role = newPhoneRole(existing)
    const added = { deviceId: from, signatureKey: keyHex, pairedAt, name, role }
    const phones = [...existing, added]
    const roster = await ledger.session.seal(await ledger.signRoster(phones))
    const result = await sealPairingResult(
      {
        kind: "pairing-result",
        to: from,
        accepted: true,
        spaceId: this.ledger.spaceId,
        epoch: this.ledger.session.epoch.toString(),
        hubKey: this.ledger.hubSignatureKey,
        welcome,
      },
      probe,
    )
    await this.ledger.apply(
      [
        ...this.ledger.mailToPhones(commit, existing),
        { kind: "grant", deviceId: from }, // from pending to full member at signal
        { kind: "mail", to: from, body: toBase64(result) },
        ...this.ledger.mailToPhones(roster, phones),
      ],
      (doc) => ({
        ...doc,
        phones: [...doc.phones, added],
      }),
    )
    return { deviceId: from, pairedAt, name, role }
  }

  /**
   * Tells the paired phones that a new phone waits (its name and code), so one of them may approve it. Sent
   * directly, not through the outbox: it is worthless after the request ends, and a lost one only means
   * approving at the hub's terminal.
   */
  private async noticeToPhones(request: DiscoveryRequest, roomId: string, expiresAt: number) {
    // Only owners may approve (roles.ts): members are not asked.
    const owners = this.ledger.doc.phones.filter((p) => roleOf(p) === "owner")
    if (owners.length === 0) return
    // Sealed for the epoch the paired phones are in now (exporting changes no state).
    const { notice, phones } = await this.ledger.queue.run(async () => ({
      notice: await sealPairingNotice(
        {
          kind: "pairing-pending",
          spaceId: this.ledger.spaceId,
          roomId,
          deviceId: request.deviceId,
          deviceName: request.deviceName,
          code: request.code,
          expiresAt,
        },
        this.ledger.session,
        this.ledger.session.signaturePrivateKey,
        this.ledger.session.signature,
        nodeAead,
      ),
      phones: owners,
    }))
    await Promise.all(
      phones.map((p) =>
        this.client.sendToMailbox(p.deviceId, notice).catch((err: unknown) => {
          this.log.warn({ err: describe(err), to: p.deviceId }, "pairing notice not delivered")
        }),
      ),
    )
  }
}
