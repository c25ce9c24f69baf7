import {
  ProtocolStateError,
  SignalError,
  VigilError,
  defaultSuiteName,
  encodeDiscoveryRoomMessage,
  encodeJoinLink,
  fromBase64,
  newDiscoveryRoomId,
  roleOf,
  roleRefusal,
  signDeviceRequest,
  signLiveRequest,
  signPairingApproval,
  supportedSuites,
  type CameraId,
  type DeviceId,
  type DeviceRequest,
  type IceServerConfig,
  type Invite,
  type LiveRequest,
  type PairingNotice,
  type PhoneRole,
  type RoleAct,
} from "@vigil/protocol"
import type { EventRecord, LocalStore } from "../store/db.ts"
import type { LiveReply } from "./hubMessages.ts"
import { enrolWithInvite } from "./joinRequests.ts"
import { clipSourceOf, downloadAndDecrypt, type ClipSource } from "./mediaDownload.ts"
import { SpaceMailbox } from "./spaceMailbox.ts"
import {
  defaultSilentAfterMs,
  type HubNews,
  type PhoneSpaceOptions,
  type SpaceStatus,
} from "./spaceStatus.ts"

export type { ClipSource } from "./mediaDownload.ts"
export type { LiveReply } from "./hubMessages.ts"
export type { HubNews, PhoneSpaceOptions, SpaceStatus } from "./spaceStatus.ts"

/**
 * This phone's membership in one camera space: it pairs, follows the hub's MLS epochs through its signal
 * mailbox, records the clips the hub announces, and downloads and decrypts them on demand.
 *
 * The facade the app uses. The work is in this folder: spaceMailbox.ts follows the group, hubMessages.ts
 * reads what the hub says, heldMessages.ts keeps messages from later epochs, joinRequests.ts gets the phone
 * (back) into the group, mediaDownload.ts fetches and decrypts clips (for the service worker too).
 */
export class PhoneSpace {
  private constructor(private readonly m: SpaceMailbox) {}

  get status(): SpaceStatus {
    return this.m.status
  }

  /** Messages that could not be used (kept for the UI and tests; the last 20). */
  get problems(): string[] {
    return this.m.problems
  }

  /** A new phone waiting to be paired, which this phone's user may approve (hub-signed notice). */
  get pairingNotice(): PairingNotice | undefined {
    return this.m.pairingNotice
  }

  set pairingNotice(notice: PairingNotice | undefined) {
    this.m.pairingNotice = notice
  }

  get hubName(): string {
    return this.m.space.hubName
  }

  get deviceId(): string {
    return this.m.device.deviceId
  }

  /** Loads the paired space saved on this device, if any. */
  static async load(
    store: LocalStore,
    onChange: () => void,
    options?: PhoneSpaceOptions,
  ): Promise<PhoneSpace | undefined> {
    const [device, space] = await Promise.all([store.get("device"), store.get("space")])
    if (!device || !space) return undefined
    const mailbox = new SpaceMailbox(store, device, space, onChange, options)
    await mailbox.restore()
    return new PhoneSpace(mailbox)
  }

  /**
   * Starts pairing from an invite: registers this device at the hub's signal server, and posts a join
   * request that only a holder of the invite could have made. The hub answers with a Welcome in our mailbox.
   */
  static async pair(
    store: LocalStore,
    invite: Invite,
    onChange: () => void,
    options?: PhoneSpaceOptions,
    /**
     * Pairing replaces the phone's current home (its device, keys and group): only after the user chose so
     * on a screen that named both (web/src/features/pairing/replacePairingDialog.ts). Issue 14, finding 4.
     */
    { replace = false }: { replace?: boolean } = {},
  ): Promise<PhoneSpace> {
    const current = await store.get("space")
    if (current && !replace) {
      throw new ProtocolStateError(
        "ALREADY_PAIRED",
        `this phone is paired with ${current.hubName}; replacing it needs the user's choice`,
      )
    }
    const { device, space } = await enrolWithInvite(store, invite, options)
    return new PhoneSpace(new SpaceMailbox(store, device, space, onChange, options))
  }

  /** The ICE servers signal's operator configured for WebRTC (none by default). */
  getIceServers(): Promise<IceServerConfig[]> {
    return this.m.client.getIceServers()
  }

  /** Adds a listener for the hub's live answers to this phone (each live view filters its own); returns its removal. */
  onLiveReply(listener: (reply: LiveReply) => void): () => void {
    this.m.liveListeners.add(listener)
    return () => void this.m.liveListeners.delete(listener)
  }

  /**
   * Sends the hub a live request: signed with this device's key, sealed as an MLS application message, and
   * mailed to the hub. The new session state is saved before anything leaves the phone.
   */
  sendLiveRequest(request: LiveRequest): Promise<void> {
    return this.m.sendSignedToHub((session, signKey) =>
      signLiveRequest(request, session.groupId, signKey, session.signature),
    )
  }

  /** The notice still worth showing: not answered, not expired, and the new phone not yet a member. */
  get pendingPairing(): PairingNotice | undefined {
    const n = this.m.pairingNotice
    if (!n || n.expiresAt < Date.now()) return undefined
    if (this.m.session?.members().some((m) => m.identity.deviceId === n.deviceId)) return undefined
    return n
  }

  /**
   * This phone's user compared the code with the new phone's screen: a signed approval (or refusal) goes
   * into the pairing room, where the hub takes it in place of the "y" at its terminal.
   */
  async answerPairing(approve: boolean): Promise<void> {
    const notice = this.m.pairingNotice
    const session = this.m.session
    if (!notice || !session) return
    this.m.pairingNotice = undefined
    const deviceId = this.m.device.deviceId as DeviceId
    const signed = await signPairingApproval(
      { kind: "pairing-approve", deviceId, target: notice.deviceId, code: notice.code, approve },
      session.groupId,
      fromBase64(this.m.device.signKey),
      session.signature,
    )
    await this.m.client.postToRoom(
      notice.roomId,
      encodeDiscoveryRoomMessage({ kind: "approve", deviceId, signed }),
    )
  }

  /**
   * The phones of this space as this phone's own MLS ratchet tree lists them (the authority on who can read
   * new clips), with the names from the hub's roster when one arrived.
   */
  devices(): {
    deviceId: string
    name: string | undefined
    self: boolean
    pairedAt: number | undefined
    /** Undefined until the hub's roster names it. */
    role: PhoneRole | undefined
  }[] {
    if (!this.m.session) return []
    return this.m.session
      .members()
      .filter((m) => m.identity.role === "phone")
      .map((m) => {
        const known = this.m.roster?.devices.find((d) => d.deviceId === m.identity.deviceId)
        return {
          deviceId: m.identity.deviceId,
          name: known?.name,
          self: m.identity.deviceId === this.m.device.deviceId,
          pairedAt: known?.pairedAt,
          role: known ? roleOf(known) : undefined,
        }
      })
  }

  /**
   * Whether this phone's role lets it do `act`, by the hub's last roster and the same rule the hub enforces
   * (protocol/src/roles.ts). False while no roster has arrived: owners' controls show once the hub said so.
   */
  may(act: RoleAct): boolean {
    const roster = this.m.roster
    return (
      roster !== undefined &&
      roleRefusal(roster.devices, this.m.device.deviceId as DeviceId, act) === undefined
    )
  }

  /** Asks the hub to make a phone an owner or a member (owners only; the hub answers with a new roster). */
  setRole(target: string, role: PhoneRole): Promise<void> {
    return this.sendDeviceRequest({
      kind: "set-role",
      deviceId: this.m.device.deviceId as DeviceId,
      target: target as DeviceId,
      role,
      issuedAt: this.nextIssuedAt(),
    })
  }

  /** The hub's cameras with their current names, from its last roster (none before one arrived). */
  cameras(): { id: string; name: string }[] {
    return this.m.roster?.cameras ?? []
  }

  /**
   * Asks the hub to rename a camera for every phone (a signed request; the hub answers all phones with a new
   * roster, and announces later clips under the new name).
   */
  renameCamera(cameraId: string, name: string): Promise<void> {
    return this.sendDeviceRequest({
      kind: "rename-camera",
      deviceId: this.m.device.deviceId as DeviceId,
      cameraId: cameraId as CameraId,
      name,
      issuedAt: this.nextIssuedAt(),
    })
  }

  /**
   * Invites another phone, wherever it is: picks a fresh room, asks the hub to watch it (a signed request),
   * and returns the join link's code to hand to the other phone. Its request then reaches this phone as a
   * pairing notice to approve after comparing the code (protocol/src/pairingDiscovery.ts, "join link").
   */
  async invitePhone(): Promise<string> {
    const roomId = newDiscoveryRoomId()
    await this.sendDeviceRequest({
      kind: "pairing-open",
      deviceId: this.m.device.deviceId as DeviceId,
      roomId,
      issuedAt: this.nextIssuedAt(),
    })
    return encodeJoinLink({
      roomId,
      name: this.m.space.hubName,
      hubDeviceId: this.m.space.hubDeviceId,
      suite: supportedSuites.find((x) => x === this.m.space.suite) ?? defaultSuiteName,
      // The hub watches for 15 minutes from when it reads the request; say a little less.
      expiresAt: Date.now() + 14 * 60_000,
    })
  }

  /** Asks the hub for the phones' names (answered with a roster in the mailbox). */
  requestRoster(): Promise<void> {
    return this.sendDeviceRequest({
      kind: "device-roster-request",
      deviceId: this.m.device.deviceId as DeviceId,
      issuedAt: this.nextIssuedAt(),
    })
  }

  private lastIssuedAt = 0

  /** Strictly increasing: the hub refuses a device request not later than the last one (replay guard). */
  private nextIssuedAt(): number {
    this.lastIssuedAt = Math.max(Date.now(), this.lastIssuedAt + 1)
    return this.lastIssuedAt
  }

  /** Asks the hub to remove a phone from the space (a signed request; the hub commits the removal). */
  removeDevice(target: string): Promise<void> {
    return this.sendDeviceRequest({
      kind: "device-remove",
      deviceId: this.m.device.deviceId as DeviceId,
      target: target as DeviceId,
      issuedAt: this.nextIssuedAt(),
    })
  }

  private sendDeviceRequest(request: DeviceRequest): Promise<void> {
    return this.m.sendSignedToHub((session, signKey) =>
      signDeviceRequest(request, session.groupId, signKey, session.signature),
    )
  }

  /** Whether the hub's messages are reaching this phone: for the notice above the timeline. */
  hubNews(now = Date.now()): HubNews {
    const heard = this.m.space.heardAt ?? this.m.loadedAt
    const silent = now - heard > (this.m.options.silentAfterMs ?? defaultSilentAfterMs)
    const paired = this.m.status.kind === "paired" || this.m.status.kind === "repairing"
    return {
      ...(silent && paired ? { silentSince: heard } : {}),
      missing: this.m.space.missedAnnouncements ?? 0,
      offline: Object.entries(this.m.space.offlineCameras ?? {}).map(([cameraId, c]) => ({ cameraId, ...c })),
    }
  }

  /** Downloads and decrypts an event's picture (checked against the hub-signed blob id). */
  async loadThumbnail(event: EventRecord): Promise<Uint8Array | undefined> {
    if (!event.thumbnail) return undefined
    return this.fetchAndDecrypt(
      event.spaceId,
      event.thumbnail.blobId,
      event.thumbnail.size,
      event.thumbnail.clipId,
      event.thumbnail.secret,
    )
  }

  /** Downloads a clip, checks it is the blob the hub signed for, and decrypts it chunk by chunk. */
  async loadClip(event: EventRecord): Promise<Uint8Array> {
    if (event.pending)
      throw new VigilError("UNEXPECTED_MESSAGE", "the clip of this event is still being recorded")
    return this.fetchAndDecrypt(event.spaceId, event.blobId, event.size, event.clipId, event.secret)
  }

  /**
   * Where an event's clip is and the key to open it, for streaming playback (web/src/features/player):
   * the player fetches the records itself and verifies each one as it arrives.
   */
  async clipSource(event: EventRecord): Promise<ClipSource> {
    if (event.pending)
      throw new VigilError("UNEXPECTED_MESSAGE", "the clip of this event is still being recorded")
    return clipSourceOf(this.m.device, event)
  }

  /**
   * Withdraws this phone's claim on an event's clip and picture at signal; signal deletes them once every
   * phone they were for has (or the hub's retention does). Gone already is fine.
   */
  async deleteMedia(event: EventRecord): Promise<void> {
    for (const blobId of [event.blobId, event.thumbnail?.blobId]) {
      if (!blobId) continue
      try {
        await this.m.client.deleteBlob(event.spaceId, blobId)
      } catch (err) {
        if (!(err instanceof SignalError && err.status === 404)) throw err
      }
    }
  }

  /** Checked against the hub-signed blob id and size (mediaDownload.ts). */
  private fetchAndDecrypt(spaceId: string, blobId: string, size: number, id: string, secret: string) {
    return downloadAndDecrypt(this.m.client, { spaceId, blobId, size, clipId: id }, fromBase64(secret))
  }

  /** Follows the mailbox until stopped: long-polls, processes in order, saves, then acknowledges. */
  run(): Promise<void> {
    return this.m.run()
  }

  stop() {
    this.m.stop()
  }

  /** Resolves once what the phone is processing now (a message, a request) is done and saved. */
  settled(): Promise<void> {
    return this.m.settled()
  }

  /**
   * Asks the hub to re-add this phone after a desync: a fresh key package under the same signature key, in
   * a request signed with it. The hub answers with a Welcome; clips sent while out of sync stay unreadable
   * (their epochs' keys are gone, by design).
   */
  requestRejoin(reason: string): Promise<void> {
    return this.m.requestRejoin(reason)
  }

  /**
   * Post-compromise security for the phone's leaf: the same request as a rejoin (fresh HPKE keys, same
   * signature key), but the current session stays in use until the hub's new Welcome replaces it.
   */
  refreshKeys(): Promise<void> {
    return this.m.refreshKeys()
  }

  /** The user saw the notice about missing announcements. */
  dismissMissing(): Promise<void> {
    return this.m.dismissMissing()
  }
}
