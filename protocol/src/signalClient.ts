/**
 * Typed client of the relay's HTTP API v1 (docs/04-relay.md). Uses only `fetch`, `Uint8Array`,
 * `TextEncoder` and `atob`/`btoa`, so it runs unchanged in Node 20 and in the browser. The relay is
 * untrusted: answers are checked for shape, and everything sent through it must already be ciphertext.
 *
 * The pieces: relayTransport.ts (the port and its types), relayHttp.ts (one request and its error
 * mapping), relayResponses.ts (shape checks of the answers), signalSocket.ts (the WebSocket),
 * signalError.ts.
 */
import { toBase64 } from "./bytes.ts"
import { enc, pollQuery, rangeHeader, readAtMost, RelayHttp, sliceRange } from "./relayHttp.ts"
import {
  badResponse,
  decodeAnnouncements,
  decodeBlobList,
  decodeIceServers,
  decodeMessages,
  isRecord,
  seqField,
  stringField,
} from "./relayResponses.ts"
import type {
  BlobList,
  BlobRange,
  DeviceKind,
  IceServerConfig,
  PairingAnnouncement,
  PollOptions,
  PushUrgency,
  RelayTransport,
  SignalMessage,
} from "./relayTransport.ts"
import { SignalError } from "./signalError.ts"
import { SignalSocket, type SocketOptions, type WebSocketLike } from "./signalSocket.ts"

export * from "./relayTransport.ts"
export * from "./signalError.ts"
export * from "./signalSocket.ts"

export interface SignalClientOptions {
  /** e.g. "https://relay.example" or "" for same-origin in the PWA. */
  baseUrl: string
  token?: string
  /** Defaults to the global fetch. */
  fetch?: typeof fetch
}

/** A browser PushSubscription as `toJSON()` gives it. */
export interface PushSubscriptionJson {
  endpoint: string
  expirationTime?: number | null
  keys: { p256dh: string; auth: string }
}

/** Client of one relay, acting as one device (the one whose token it holds). */
export class SignalClient implements RelayTransport {
  readonly #http: RelayHttp

  constructor(options: SignalClientOptions) {
    this.#http = new RelayHttp(options.baseUrl, options.token, options.fetch)
  }

  /** The bearer token in use, if any. */
  get token(): string | undefined {
    return this.#http.token
  }

  /** Registers a new device; the client keeps and uses the returned token from now on. */
  async registerDevice(kind: DeviceKind): Promise<{ deviceId: string; token: string }> {
    const body = await this.#http.json("POST", "/v1/devices", { json: { kind } })
    const result = { deviceId: stringField(body, "deviceId"), token: stringField(body, "token") }
    this.#http.token = result.token
    return result
  }

  async me(): Promise<{ deviceId: string; kind: DeviceKind }> {
    const body = await this.#http.json("GET", "/v1/me")
    const kind = stringField(body, "kind")
    if (kind !== "hub" && kind !== "phone") throw badResponse('"kind"')
    return { deviceId: stringField(body, "deviceId"), kind }
  }

  /** Creates a space owned by this device (a hub). */
  async createSpace(): Promise<{ spaceId: string }> {
    const body = await this.#http.json("POST", "/v1/spaces")
    return { spaceId: stringField(body, "spaceId") }
  }

  /**
   * Claims a pairing room for this hub, before handing out the invite that names it: a device that then
   * writes into the room consents to being added to this hub's space, and only this hub's (the relay lets
   * no owner add a device without that). Announcing a room (`announcePairing`) claims it too. FORBIDDEN
   * when another device claimed or wrote into it first.
   */
  async claimRoom(roomId: string): Promise<void> {
    await this.#http.request("PUT", `/v1/rooms/${enc(roomId)}/owner`)
  }

  /**
   * Adds a device to the space; it must have asked to join (written into a room this hub claimed, see
   * `claimRoom`), else FORBIDDEN. `pending`: a phone being paired, before the person confirmed the code; it
   * may exchange mail with the space's devices but has no access to its blobs, until added again without.
   */
  async addMember(spaceId: string, deviceId: string, options: { pending?: boolean } = {}): Promise<void> {
    const query = options.pending ? "?pending=1" : ""
    await this.#http.request("PUT", `/v1/spaces/${enc(spaceId)}/members/${enc(deviceId)}${query}`)
  }

  async removeMember(spaceId: string, deviceId: string): Promise<void> {
    await this.#http.request("DELETE", `/v1/spaces/${enc(spaceId)}/members/${enc(deviceId)}`)
  }

  /**
   * Uploads ciphertext; `blobId` must be the lowercase hex SHA-256 of `bytes`. With `recipients`, the
   * relay deletes the blob once each of them acknowledged it (`ackBlob`); it is deleted after the
   * retention period in any case. Fails with QUOTA_EXCEEDED (413) when the space is full.
   */
  async putBlob(
    spaceId: string,
    blobId: string,
    bytes: Uint8Array,
    options: { recipients?: readonly string[] } = {},
  ): Promise<{ blobId: string; size: number }> {
    const headers =
      options.recipients === undefined ? undefined : { "x-vigil-recipients": options.recipients.join(",") }
    const body = await this.#http.json("PUT", `/v1/spaces/${enc(spaceId)}/blobs/${enc(blobId)}`, {
      body: bytes,
      headers,
    })
    return { blobId: stringField(body, "blobId"), size: seqField(body, "size") }
  }

  /** The space's blobs, oldest first, a page at a time (pass `nextCursor` back as `cursor`). */
  async listBlobs(spaceId: string, options: { cursor?: string; limit?: number } = {}): Promise<BlobList> {
    const query = new URLSearchParams()
    if (options.cursor !== undefined) query.set("cursor", options.cursor)
    if (options.limit !== undefined) query.set("limit", String(options.limit))
    return decodeBlobList(
      await this.#http.json("GET", `/v1/spaces/${enc(spaceId)}/blobs?${query.toString()}`),
    )
  }

  /** Replaces the devices that must acknowledge the blob (owner only). */
  async setBlobRecipients(spaceId: string, blobId: string, recipients: readonly string[]): Promise<void> {
    await this.#http.request("PUT", `/v1/spaces/${enc(spaceId)}/blobs/${enc(blobId)}/recipients`, {
      json: { recipients },
    })
  }

  /** Acknowledges a blob (this device has it); `deleted` when that was the last pending recipient. */
  async ackBlob(spaceId: string, blobId: string): Promise<{ deleted: boolean }> {
    const body = await this.#http.json("POST", `/v1/spaces/${enc(spaceId)}/blobs/${enc(blobId)}/ack`)
    const deleted = isRecord(body) ? body.deleted : undefined
    if (typeof deleted !== "boolean") throw badResponse('"deleted"')
    return { deleted }
  }

  /**
   * Deletes a blob: the space's owner deletes it for everyone; a member only drops its own claim on it (as
   * `ackBlob` does), the others keep it.
   */
  async deleteBlob(spaceId: string, blobId: string): Promise<void> {
    await this.#http.request("DELETE", `/v1/spaces/${enc(spaceId)}/blobs/${enc(blobId)}`)
  }

  /** Downloads a blob, or a byte range of it. */
  async getBlob(
    spaceId: string,
    blobId: string,
    range?: BlobRange,
    options: { maxBytes?: number } = {},
  ): Promise<Uint8Array> {
    const headers = range === undefined ? undefined : { range: rangeHeader(range) }
    const response = await this.#http.request("GET", `/v1/spaces/${enc(spaceId)}/blobs/${enc(blobId)}`, {
      headers,
    })
    const bytes =
      options.maxBytes === undefined
        ? new Uint8Array(await response.arrayBuffer())
        : await readAtMost(response, options.maxBytes)
    // A proxy may drop the Range header and send 200 with everything: cut the range out ourselves.
    if (range !== undefined && response.status === 200) return sliceRange(bytes, range)
    return bytes
  }

  /** Sends to another device's mailbox; both must share a space. */
  async sendToMailbox(deviceId: string, bytes: Uint8Array): Promise<{ seq: number }> {
    const body = await this.#http.json("POST", `/v1/devices/${enc(deviceId)}/mailbox`, { body: bytes })
    return { seq: seqField(body, "seq") }
  }

  /** Messages after `after`, oldest first (≤ 100); with `waitMs` (≤ 25000) waits for one to arrive. */
  async fetchMailbox(after: number, waitMs?: number, options: PollOptions = {}): Promise<SignalMessage[]> {
    const body = await this.#http.json("GET", `/v1/mailbox?${pollQuery(after, waitMs)}`, {
      signal: options.signal,
    })
    return decodeMessages(body)
  }

  /** Deletes this device's messages with seq ≤ upTo. */
  async ackMailbox(upTo: number): Promise<void> {
    await this.#http.request("POST", "/v1/mailbox/ack", { json: { upTo } })
  }

  async postToRoom(roomId: string, bytes: Uint8Array): Promise<{ seq: number }> {
    const body = await this.#http.json("POST", `/v1/rooms/${enc(roomId)}/messages`, { body: bytes })
    return { seq: seqField(body, "seq") }
  }

  async readRoom(
    roomId: string,
    after: number,
    waitMs?: number,
    options: PollOptions = {},
  ): Promise<SignalMessage[]> {
    const path = `/v1/rooms/${enc(roomId)}/messages?${pollQuery(after, waitMs)}`
    return decodeMessages(await this.#http.json("GET", path, { signal: options.signal }))
  }

  /**
   * Announces this hub (in pairing mode) to phones behind the same public address, under `roomId`
   * with an opaque `name` (≤ 256 bytes). Repeat it to stay listed.
   */
  async announcePairing(roomId: string, name: Uint8Array): Promise<{ roomId: string; expiresAt: number }> {
    const body = await this.#http.json("POST", "/v1/pairing/announcements", {
      json: { roomId, name: toBase64(name) },
    })
    return { roomId: stringField(body, "roomId"), expiresAt: seqField(body, "expiresAt") }
  }

  /** Hubs announcing from this device's public address, newest first. */
  async listPairingAnnouncements(): Promise<PairingAnnouncement[]> {
    return decodeAnnouncements(await this.#http.json("GET", "/v1/pairing/announcements"))
  }

  /** Withdraws this hub's announcement of `roomId`. */
  async withdrawPairing(roomId: string): Promise<void> {
    await this.#http.request("DELETE", `/v1/pairing/announcements/${enc(roomId)}`)
  }

  /** The ICE servers to use for WebRTC (empty unless the relay's operator configured some). */
  async getIceServers(): Promise<IceServerConfig[]> {
    return decodeIceServers(await this.#http.json("GET", "/v1/rtc/ice-servers"))
  }

  /**
   * Hands an opaque (MLS-encrypted) signalling message to the other device's live WebSockets;
   * `delivered: 0` means it is offline (use the mailbox instead).
   */
  async sendSignal(deviceId: string, bytes: Uint8Array): Promise<{ delivered: number }> {
    const body = await this.#http.json("POST", `/v1/devices/${enc(deviceId)}/signal`, { body: bytes })
    return { delivered: seqField(body, "delivered") }
  }

  /** The relay's VAPID public key (base64url), the `applicationServerKey` to subscribe with. */
  async getVapidPublicKey(): Promise<string> {
    return stringField(await this.#http.json("GET", "/v1/push/vapid-public-key"), "publicKey")
  }

  /** Registers this device's push subscription (replacing an earlier one). */
  async setPushSubscription(subscription: PushSubscriptionJson): Promise<void> {
    await this.#http.request("PUT", "/v1/push/subscription", { json: subscription })
  }

  async deletePushSubscription(): Promise<void> {
    await this.#http.request("DELETE", "/v1/push/subscription")
  }

  /**
   * Asks the relay to Web-Push an opaque (end-to-end encrypted, ≤ 3072 bytes) payload to the space's
   * other devices, or to `to` among them (owner only).
   */
  async push(
    spaceId: string,
    payload: Uint8Array,
    options: { ttlSeconds?: number; urgency?: PushUrgency; to?: readonly string[] } = {},
  ): Promise<{ sent: number; removed: number; failed: number }> {
    const body = await this.#http.json("POST", `/v1/spaces/${enc(spaceId)}/push`, {
      json: { payload: toBase64(payload), ...options },
    })
    return {
      sent: seqField(body, "sent"),
      removed: seqField(body, "removed"),
      failed: seqField(body, "failed"),
    }
  }

  /**
   * Opens the relay's WebSocket (`/v1/ws`) as this device: live mailbox delivery and WebRTC
   * signalling. The token goes in the first frame, never in the URL.
   */
  connect(options: SocketOptions = {}): SignalSocket {
    const token = this.#http.token
    if (token === undefined) throw new SignalError(0, "UNAUTHENTICATED", "register or pass a token first")
    const baseUrl = this.#http.baseUrl
    const base = baseUrl === "" ? (globalThis as { location?: { href: string } }).location?.href : baseUrl
    const url = new URL(`${baseUrl}/v1/ws`, base)
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:"
    const open =
      options.webSocket ??
      ((u: string) =>
        new (globalThis as unknown as { WebSocket: new (u: string) => WebSocketLike }).WebSocket(u))
    return new SignalSocket(open(url.toString()), token, options)
  }
}
