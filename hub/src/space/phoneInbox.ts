/**
 * The hub's own mailbox: what phones ask of the hub. A rejoin after a phone lost its state (a signed
 * request outside MLS), and MLS application messages: live-view offers and the Devices screen's requests
 * (roster, removal, camera rename, a join link's room). Each message is handled and saved, then
 * acknowledged; junk costs no state write and every sender is rate-limited (issue 14 finding 10).
 */
import {
  fromHex,
  isDeviceRequestKind,
  classifyMailboxMessage,
  openDeviceRequest,
  openLiveRequest,
  openRejoinRequest,
  peekEnvelopeKind,
  phoneKeyPackageKey,
  toBase64,
  toHex,
  VigilError,
  roleRefusal,
  type DeviceId,
  type DeviceRequest,
  type LiveRequest,
  type RelayTransport,
  type PhoneRole,
  type RoleAct,
  isCameraSetupRequest,
  type CameraSetupRequest,
} from "@vigil/protocol"
import type { Logger } from "../log.ts"
import { describe, sleep } from "./describe.ts"
import type { HubLedger } from "./hubLedger.ts"
import type { HubStateDoc, NewOutboxEntry } from "./hubState.ts"
import { TokenBuckets } from "./tokenBuckets.ts"

/** Receives phones' live-view requests, already MLS-decrypted and checked against the phone's pinned key. */
export type LiveRequestHandler = (request: LiveRequest, from: DeviceId) => void

/**
 * Receives an owner's camera set-up request (cameraSetup.ts), verified and saved as seen; it answers later
 * (a test pulls video for seconds), outside the mailbox's queue. A member's request never reaches it: the
 * hub answers that one "not-owner" itself.
 */
export type CameraSetupHandler = (request: CameraSetupRequest, from: DeviceId) => void

/** How long the hub watches the room of a join link a paired phone made. */
const joinLinkTtlMs = 15 * 60_000

/** What roles govern in a device request (the roster request is open to every paired phone). */
function roleAct(request: Exclude<DeviceRequest, { kind: "device-roster-request" }>): RoleAct {
  if (isCameraSetupRequest(request)) return { kind: "manage-cameras" }
  switch (request.kind) {
    case "device-remove":
      return { kind: "remove-phone", target: request.target }
    case "set-role":
      return { kind: "set-role", target: request.target, role: request.role }
    case "rename-camera":
      return { kind: "rename-camera" }
    case "pairing-open":
      return { kind: "invite" }
  }
}

type Change = { entries: NewOutboxEntry[]; change: (doc: HubStateDoc) => HubStateDoc }

export class PhoneInbox {
  /** Per sender: messages in the hub's mailbox, rejoins, and live offers (each one a commit). */
  private readonly inboxLimit = new TokenBuckets({ burst: 30, perMs: 1000 })
  private readonly rejoinLimit = new TokenBuckets({ burst: 3, perMs: 10 * 60_000 })
  private readonly liveLimit = new TokenBuckets({ burst: 6, perMs: 10_000 })
  private readonly abort = new AbortController()
  private stopped = false
  liveHandler: LiveRequestHandler | undefined
  cameraSetupHandler: CameraSetupHandler | undefined
  pairingOpenListener: ((room: { roomId: string; until: number }, by: DeviceId) => void) | undefined

  constructor(
    private readonly ledger: HubLedger,
    private readonly client: RelayTransport,
    private readonly log: Logger,
    private readonly cameras: readonly { id: string; name: string }[],
  ) {}

  stop() {
    this.stopped = true
    this.abort.abort()
  }

  /** Reads the mailbox until `stop`. */
  async run() {
    let backoff = 1000
    while (!this.stopped) {
      try {
        const messages = await this.client.fetchMailbox(this.ledger.doc.inboxAfter, 20_000, {
          signal: this.abort.signal,
        })
        for (const m of messages) await this.handle(m.seq, m.from as DeviceId, m.body)
        if (messages.length > 0) await this.client.ackMailbox(this.ledger.doc.inboxAfter)
        backoff = 1000
      } catch (err) {
        if (this.stopped) return
        this.log.warn({ err: describe(err) }, "hub mailbox unreachable; retrying")
        await sleep(backoff)
        backoff = Math.min(backoff * 2, 30_000)
      }
    }
  }

  private async handle(seq: number, from: DeviceId, body: Uint8Array): Promise<void> {
    const ledger = this.ledger
    const live = await ledger.transact(async () => {
      let entries: NewOutboxEntry[] = []
      let change: ((doc: HubStateDoc) => HubStateDoc) | undefined
      let request: LiveRequest | undefined
      try {
        // Each of these costs the hub a commit (a fresh epoch for every phone) or an MLS decryption:
        // a phone, paired or pending, gets a few at a time (issue 14 finding 10).
        const rejoin = classifyMailboxMessage(body).kind === "rejoin-request"
        const limit = rejoin ? this.rejoinLimit : this.inboxLimit
        if (!limit.take(from, Date.now())) {
          throw new VigilError("UNEXPECTED_MESSAGE", "the device sends the hub too much; message dropped")
        }
        if (rejoin) {
          ;({ entries, change } = await ledger.attempt(() => this.rejoin(from, body)))
          this.log.info({ deviceId: from }, "phone rejoined after losing its state")
        } else {
          const opened = await this.openPhoneMessage(from, body)
          if (opened.kind === "live") request = opened.request
          else ({ entries, change } = opened)
        }
      } catch (err) {
        if (!(err instanceof VigilError)) throw err
        this.log.warn({ err: describe(err), from, seq }, "refused a message in the hub mailbox")
      }
      // Offers cost a commit each (a fresh epoch for the stream's key); closing a session costs nothing, so
      // it takes no token (a grid of cameras, closed and opened again, stays within the limit).
      if (request?.kind === "live-offer" && !this.liveLimit.take(from, Date.now())) {
        this.log.warn({ from, seq }, "a phone asks for live view too often; request dropped")
        request = undefined
      }
      if (entries.length === 0 && !change) {
        // Junk, or a live request (its commit saves everything): nothing to save now. The position and
        // any decryption state go to disk with the next change; the mailbox is acknowledged at signal
        // all the same, so nothing is read twice.
        ledger.remember((doc) => ({ ...doc, inboxAfter: seq }))
        return request
      }
      await ledger.apply(entries, (doc) => ({ ...(change ? change(doc) : doc), inboxAfter: seq }))
      return request
    })
    // Outside the queue: the handler answers through `openLiveSession`, which queues its own work.
    if (live) this.liveHandler?.(live, from)
  }

  /** A phone's MLS application message: a live-view request, or a request from the Devices screen. */
  private async openPhoneMessage(
    from: DeviceId,
    body: Uint8Array,
  ): Promise<{ kind: "live"; request: LiveRequest } | ({ kind: "device" } & Change)> {
    const session = this.ledger.session
    const message = classifyMailboxMessage(body)
    if (message.kind !== "mls" || message.wireformat !== "mls_private_message") {
      throw new VigilError("UNEXPECTED_MESSAGE", "the hub accepts rejoin requests and MLS messages only")
    }
    // Only the hub commits: passing its own leaf makes the session refuse a commit from any phone.
    const incoming = await session.open(body, session.ownLeafIndex)
    if (incoming.kind !== "application") {
      throw new VigilError("UNEXPECTED_MESSAGE", "a phone sent the hub a commit")
    }
    if (isDeviceRequestKind(peekEnvelopeKind(incoming.data))) {
      return { kind: "device", ...(await this.ledger.attempt(() => this.deviceRequest(from, incoming.data))) }
    }
    const request = await openLiveRequest(incoming.data, {
      groupId: session.groupId,
      from,
      pinnedKey: (deviceId) => this.ledger.pinnedPhoneKey(deviceId),
      signature: session.signature,
      now: Date.now(),
    })
    return { kind: "live", request }
  }

  /**
   * A paired phone asks for the roster, to remove a phone, to rename a camera, to open a join link's room
   * or to change a role (protocol/src/deviceRoster.ts). Only a paired phone's fresh request, signed with its
   * pinned key, is acted on, and only as its role allows (protocol/src/roles.ts): a refused one is answered
   * with the current roster, so a phone that acted on stale roles learns them. A removal is a Remove commit
   * for every phone (the removed one learns it was removed), then signal stops serving that phone.
   */
  private async deviceRequest(from: DeviceId, data: Uint8Array): Promise<Change> {
    const ledger = this.ledger
    const sender = ledger.doc.phones.find((p) => p.deviceId === from)
    const request = await openDeviceRequest(data, {
      groupId: ledger.session.groupId,
      from,
      pinnedKey: (deviceId) => ledger.pinnedPhoneKey(deviceId),
      signature: ledger.session.signature,
      now: Date.now(),
      notBefore: sender?.lastRequestAt,
    })
    const stamp = (doc: HubStateDoc): HubStateDoc => ({
      ...doc,
      phones: doc.phones.map((p) => (p.deviceId === from ? { ...p, lastRequestAt: request.issuedAt } : p)),
    })
    const rosterToSender = async (): Promise<Change> => {
      const roster = await ledger.session.seal(await ledger.signRoster(ledger.doc.phones))
      return { entries: [{ kind: "mail", to: from, body: toBase64(roster) }], change: stamp }
    }
    if (request.kind === "device-roster-request") return rosterToSender()
    const refused = roleRefusal(ledger.doc.phones, from, roleAct(request))
    if (refused) {
      this.log.warn({ from, kind: request.kind, reason: refused }, "refused a device request")
      if (!isCameraSetupRequest(request)) return rosterToSender()
      const reply = await ledger.sealHubMessage({
        kind: "camera-setup-reply",
        spaceId: ledger.spaceId,
        to: from,
        requestId: request.requestId,
        result: {
          kind: "failed",
          code: "not-owner",
          reason: `${refused[0]!.toUpperCase()}${refused.slice(1)}.`,
        },
      })
      return { entries: [{ kind: "mail", to: from, body: toBase64(reply) }], change: stamp }
    }
    if (isCameraSetupRequest(request)) {
      // Answered later, outside this queue (a test takes seconds); only the freshness stamp is saved now.
      const handler = this.cameraSetupHandler
      if (handler) queueMicrotask(() => handler(request, from))
      else this.log.warn({ kind: request.kind }, "camera set-up request, but this hub cannot set up cameras")
      return { entries: [], change: stamp }
    }
    if (request.kind === "set-role") return this.setRole(request.target, request.role, from, stamp)
    if (request.kind === "rename-camera") return this.renameCamera(request, stamp)
    if (request.kind === "pairing-open") {
      const room = { roomId: request.roomId, until: Date.now() + joinLinkTtlMs }
      this.log.info({ by: from }, "watching a room for a phone invited by a paired phone")
      this.pairingOpenListener?.(room, from)
      return { entries: [], change: stamp }
    }
    const removal = await ledger.removePhone(request.target, stamp)
    this.log.info({ deviceId: request.target, by: from }, "phone removed at another phone's request")
    return removal
  }

  /** An owner makes a phone an owner or a member: saved, and every phone gets the new roster. */
  private async setRole(
    target: DeviceId,
    role: PhoneRole,
    by: DeviceId,
    stamp: (doc: HubStateDoc) => HubStateDoc,
  ): Promise<Change> {
    const { entries, change } = await this.ledger.setRole(target, role)
    this.log.info({ deviceId: target, role, by }, "phone's role changed at a phone's request")
    return { entries, change: (doc) => stamp(change(doc)) }
  }

  /**
   * A phone renames one of the configured cameras for everyone: saved in the hub's state (it outlives
   * restarts and config edits of other fields), used by every later announcement, sighting and push, and
   * told to every phone in a new roster. The name was checked by `openDeviceRequest`.
   */
  private async renameCamera(
    request: Extract<DeviceRequest, { kind: "rename-camera" }>,
    stamp: (doc: HubStateDoc) => HubStateDoc,
  ): Promise<Change> {
    const ledger = this.ledger
    const camera = this.cameras.find((c) => c.id === request.cameraId)
    if (!camera) throw new VigilError("UNEXPECTED_MESSAGE", `no camera ${request.cameraId} on this hub`)
    // Back to the config's name: no override left behind.
    const { [camera.id]: _old, ...others } = ledger.doc.cameraNames ?? {}
    const cameraNames = request.name === camera.name ? others : { ...others, [camera.id]: request.name }
    const roster = await ledger.session.seal(await ledger.signRoster(ledger.doc.phones, cameraNames))
    this.log.info(
      { cameraId: camera.id, by: request.deviceId, name: request.name },
      "camera renamed at a phone's request",
    )
    return { entries: ledger.mailToPhones(roster), change: (doc) => stamp({ ...doc, cameraNames }) }
  }

  /** A paired phone that lost its state is added again under its pinned signature key. */
  private async rejoin(from: DeviceId, body: Uint8Array): Promise<Change> {
    const ledger = this.ledger
    const phone = ledger.doc.phones.find((p) => p.deviceId === from)
    const request = await openRejoinRequest(
      body,
      (deviceId) => (deviceId === from && phone ? fromHex(phone.signatureKey) : undefined),
      ledger.session.signature,
      { now: Date.now(), notBefore: phone?.lastRejoinAt },
    )
    if (request.spaceId !== ledger.spaceId)
      throw new VigilError("PAIRING_INVALID", "rejoin request for another space")
    if (toHex(phoneKeyPackageKey(request.keyPackage, from)) !== phone!.signatureKey) {
      throw new VigilError("UNTRUSTED_CREDENTIAL", "a rejoin must keep the device's signature key")
    }
    const { commit, welcome } = await ledger.session.readdMember(from, request.keyPackage)
    const others = ledger.doc.phones.filter((p) => p.deviceId !== from)
    return {
      entries: [...ledger.mailToPhones(commit, others), { kind: "mail", to: from, body: toBase64(welcome) }],
      change: (doc) => ({
        ...doc,
        phones: doc.phones.map((p) => (p.deviceId === from ? { ...p, lastRejoinAt: request.issuedAt } : p)),
      }),
    }
  }
}
