/**
 * The contract every RelayTransport keeps: the observable behaviour of the relay (docs/04-relay.md) as
 * the hub and the phone rely on it. It runs against MemoryRelay (protocol/src/memoryRelay.test.ts) and
 * against the real signal app over HTTP (signal/test/relayTransport.test.ts), so the memory relay that
 * backs fast tests cannot drift from signal unnoticed.
 */
import { afterEach, describe, expect, it } from "vitest"
import { sha256, toHex, utf8 } from "../src/bytes.ts"
import type { RelayLimits } from "../src/memoryRelay.ts"
import type { DeviceKind, RelayTransport } from "../src/relayTransport.ts"
import { SignalError } from "../src/signalError.ts"

/** A relay started for one test. */
export interface RelayUnderTest {
  /** A transport acting as the device holding `token`, or as a new device until it registers. */
  transport(options?: { token?: string }): RelayTransport
  /** Moves the relay's clock forward. */
  advance(ms: number): void
  close(): Promise<void>
}

export type StartRelay = (limits?: Partial<RelayLimits>) => Promise<RelayUnderTest>

interface Device {
  relay: RelayTransport
  deviceId: string
  token: string
}

const hex64 = (n: number) => n.toString(16).padStart(64, "0")
const roomA = hex64(0xa)
const roomB = hex64(0xb)

async function blobOf(text: string): Promise<{ bytes: Uint8Array; blobId: string }> {
  const bytes = utf8(text)
  return { bytes, blobId: toHex(await sha256(bytes)) }
}

/** Resolves with the SignalError the call rejected with. */
async function failure(call: Promise<unknown>): Promise<{ status: number; code: string }> {
  try {
    await call
  } catch (err) {
    expect(err).toBeInstanceOf(SignalError)
    // The contract is the relay's own code; `code` is what it means to a client (relayErrorCode).
    const { status, relayCode } = err as SignalError
    return { status, code: relayCode }
  }
  throw new Error("expected the call to fail")
}

export function describeRelayTransportContract(name: string, start: StartRelay): void {
  describe(`RelayTransport contract: ${name}`, () => {
    let current: RelayUnderTest | undefined
    afterEach(async () => {
      await current?.close()
      current = undefined
    })

    async function open(limits?: Partial<RelayLimits>): Promise<RelayUnderTest> {
      current = await start(limits)
      return current
    }

    async function register(relay: RelayUnderTest, kind: DeviceKind): Promise<Device> {
      const transport = relay.transport()
      const { deviceId, token } = await transport.registerDevice(kind)
      return { relay: transport, deviceId, token }
    }

    /** The phone writes into a room the hub claimed (its consent), then the hub adds it. */
    async function enroll(hub: Device, phone: Device, spaceId: string, opts: { pending?: boolean } = {}) {
      const roomId = toHex(await sha256(utf8(`${hub.deviceId}${phone.deviceId}${String(opts.pending)}`)))
      await hub.relay.claimRoom(roomId)
      await phone.relay.postToRoom(roomId, utf8("join"))
      await hub.relay.addMember(spaceId, phone.deviceId, opts)
    }

    async function household(relay: RelayUnderTest) {
      const hub = await register(relay, "hub")
      const phone = await register(relay, "phone")
      const { spaceId } = await hub.relay.createSpace()
      await enroll(hub, phone, spaceId)
      return { hub, phone, spaceId }
    }

    describe("devices and spaces", () => {
      it("acts as the registered device, or as its token; refuses calls without one", async () => {
        const relay = await open()
        const hub = await register(relay, "hub")
        expect(hub.deviceId).toMatch(/^[0-9a-f]{32}$/)
        expect((await hub.relay.createSpace()).spaceId).toMatch(/^[0-9a-f]{32}$/)
        expect((await relay.transport({ token: hub.token }).createSpace()).spaceId).toMatch(/^[0-9a-f]{32}$/)
        expect(await failure(relay.transport().createSpace())).toEqual({
          status: 401,
          code: "UNAUTHENTICATED",
        })
        const unknown = relay.transport({ token: "A".repeat(43) })
        expect(await failure(unknown.fetchMailbox(0))).toEqual({ status: 401, code: "UNAUTHENTICATED" })
      })

      it("lets only a hub found spaces, and a few of them", async () => {
        const relay = await open({ maxSpacesPerHub: 2 })
        const phone = await register(relay, "phone")
        expect(await failure(phone.relay.createSpace())).toEqual({ status: 403, code: "FORBIDDEN" })
        const hub = await register(relay, "hub")
        await hub.relay.createSpace()
        await hub.relay.createSpace()
        expect(await failure(hub.relay.createSpace())).toEqual({ status: 403, code: "FORBIDDEN" })
      })

      it("adds a device only once it wrote into a room of this hub; only the owner adds", async () => {
        const relay = await open()
        const hub = await register(relay, "hub")
        const phone = await register(relay, "phone")
        const { spaceId } = await hub.relay.createSpace()
        expect(await failure(hub.relay.addMember(spaceId, phone.deviceId))).toEqual({
          status: 403,
          code: "FORBIDDEN",
        })
        const stranger = await register(relay, "hub")
        expect(await failure(stranger.relay.addMember(spaceId, phone.deviceId))).toEqual({
          status: 404,
          code: "NOT_FOUND",
        })
        await enroll(hub, phone, spaceId)
        await hub.relay.addMember(spaceId, phone.deviceId)
        const other = await register(relay, "phone")
        expect(await failure(phone.relay.addMember(spaceId, other.deviceId))).toEqual({
          status: 403,
          code: "FORBIDDEN",
        })
        expect(await failure(hub.relay.addMember(spaceId, "not-an-id"))).toEqual({
          status: 400,
          code: "VALIDATION",
        })
      })

      it("holds a bounded number of devices per space", async () => {
        const relay = await open({ maxMembersPerSpace: 1 })
        const { hub, spaceId } = await household(relay)
        const second = await register(relay, "phone")
        expect(await failure(enroll(hub, second, spaceId))).toEqual({ status: 403, code: "FORBIDDEN" })
      })

      it("uses a consent up: a removed phone cannot be added again without asking again", async () => {
        const relay = await open()
        const { hub, phone, spaceId } = await household(relay)
        await hub.relay.removeMember(spaceId, phone.deviceId)
        expect(await failure(hub.relay.addMember(spaceId, phone.deviceId))).toEqual({
          status: 403,
          code: "FORBIDDEN",
        })
        expect(await failure(phone.relay.listBlobs(spaceId))).toEqual({ status: 404, code: "NOT_FOUND" })
        expect(await failure(phone.relay.sendToMailbox(hub.deviceId, utf8("x")))).toEqual({
          status: 403,
          code: "FORBIDDEN",
        })
      })

      it("lets a pending member use mailboxes but not blobs, until it is added for good", async () => {
        const relay = await open()
        const hub = await register(relay, "hub")
        const phone = await register(relay, "phone")
        const { spaceId } = await hub.relay.createSpace()
        await enroll(hub, phone, spaceId, { pending: true })
        await hub.relay.sendToMailbox(phone.deviceId, utf8("welcome"))
        await phone.relay.sendToMailbox(hub.deviceId, utf8("confirm"))
        expect(await failure(phone.relay.listBlobs(spaceId))).toEqual({ status: 404, code: "NOT_FOUND" })
        await hub.relay.addMember(spaceId, phone.deviceId)
        expect((await phone.relay.listBlobs(spaceId)).blobs).toEqual([])
      })
    })

    describe("mailboxes", () => {
      it("delivers in seq order, after a cursor, and deletes only what was acknowledged", async () => {
        const relay = await open()
        const { hub, phone } = await household(relay)
        expect(await hub.relay.sendToMailbox(phone.deviceId, utf8("one"))).toEqual({ seq: 1 })
        expect(await hub.relay.sendToMailbox(phone.deviceId, utf8("two"))).toEqual({ seq: 2 })
        expect(await hub.relay.sendToMailbox(phone.deviceId, utf8("three"))).toEqual({ seq: 3 })
        const all = await phone.relay.fetchMailbox(0)
        expect(all.map((m) => [m.seq, m.from, new TextDecoder().decode(m.body)])).toEqual([
          [1, hub.deviceId, "one"],
          [2, hub.deviceId, "two"],
          [3, hub.deviceId, "three"],
        ])
        expect(all.every((m) => Number.isSafeInteger(m.sentAt) && m.sentAt > 0)).toBe(true)
        expect((await phone.relay.fetchMailbox(2)).map((m) => m.seq)).toEqual([3])
        await phone.relay.ackMailbox(2)
        expect((await phone.relay.fetchMailbox(0)).map((m) => m.seq)).toEqual([3])
        await phone.relay.ackMailbox(3)
        expect(await phone.relay.fetchMailbox(0)).toEqual([])
        // Seqs are never reused, and each recipient has its own.
        expect(await hub.relay.sendToMailbox(phone.deviceId, utf8("four"))).toEqual({ seq: 4 })
        expect(await phone.relay.sendToMailbox(hub.deviceId, utf8("reply"))).toEqual({ seq: 1 })
      })

      it("returns at most 100 messages per read", async () => {
        const relay = await open()
        const { hub, phone } = await household(relay)
        for (let i = 0; i < 101; i++) await hub.relay.sendToMailbox(phone.deviceId, utf8(`m${i}`))
        const page = await phone.relay.fetchMailbox(0)
        expect(page.length).toBe(100)
        expect((await phone.relay.fetchMailbox(100)).map((m) => m.seq)).toEqual([101])
      })

      it("refuses mail to oneself, to strangers, empty mail and malformed ids", async () => {
        const relay = await open()
        const { hub, phone } = await household(relay)
        const stranger = await register(relay, "phone")
        const refused = (call: Promise<unknown>) => failure(call)
        expect(await refused(hub.relay.sendToMailbox(hub.deviceId, utf8("x")))).toEqual({
          status: 403,
          code: "FORBIDDEN",
        })
        expect(await refused(stranger.relay.sendToMailbox(hub.deviceId, utf8("x")))).toEqual({
          status: 403,
          code: "FORBIDDEN",
        })
        expect(await refused(hub.relay.sendToMailbox(phone.deviceId, new Uint8Array()))).toEqual({
          status: 400,
          code: "VALIDATION",
        })
        expect(await refused(hub.relay.sendToMailbox("ABC", utf8("x")))).toEqual({
          status: 400,
          code: "VALIDATION",
        })
        expect(await refused(phone.relay.fetchMailbox(0, 25_001))).toEqual({
          status: 400,
          code: "VALIDATION",
        })
        expect(await refused(phone.relay.fetchMailbox(-1))).toEqual({ status: 400, code: "VALIDATION" })
        // An empty id leaves a path that names no route.
        expect(await refused(hub.relay.sendToMailbox("", utf8("x")))).toEqual({
          status: 404,
          code: "NOT_FOUND",
        })
      })

      it("refuses a message over the size limit", async () => {
        const relay = await open({ maxMessageBytes: 4 })
        const { hub, phone } = await household(relay)
        expect(await hub.relay.sendToMailbox(phone.deviceId, new Uint8Array(4))).toEqual({ seq: 1 })
        expect(await failure(hub.relay.sendToMailbox(phone.deviceId, new Uint8Array(5)))).toEqual({
          status: 413,
          code: "TOO_LARGE",
        })
      })

      it("caps a mailbox, and acknowledging makes room again", async () => {
        const relay = await open({ maxMailboxMessages: 2 })
        const { hub, phone } = await household(relay)
        await hub.relay.sendToMailbox(phone.deviceId, utf8("1"))
        await hub.relay.sendToMailbox(phone.deviceId, utf8("2"))
        expect(await failure(hub.relay.sendToMailbox(phone.deviceId, utf8("3")))).toEqual({
          status: 429,
          code: "MAILBOX_FULL",
        })
        await phone.relay.ackMailbox(1)
        expect(await hub.relay.sendToMailbox(phone.deviceId, utf8("3"))).toEqual({ seq: 3 })
      })

      it("long-polls until a message arrives, and an abort ends the wait with ABORTED", async () => {
        const relay = await open()
        const { hub, phone } = await household(relay)
        const waiting = phone.relay.fetchMailbox(0, 10_000)
        await new Promise((r) => setTimeout(r, 50))
        await hub.relay.sendToMailbox(phone.deviceId, utf8("wake"))
        expect((await waiting).map((m) => m.seq)).toEqual([1])
        const abort = new AbortController()
        const aborted = phone.relay.fetchMailbox(1, 10_000, { signal: abort.signal })
        setTimeout(() => abort.abort(), 50)
        expect(await failure(aborted)).toEqual({ status: 0, code: "ABORTED" })
        // A wait that times out answers an empty list.
        expect(await phone.relay.fetchMailbox(1, 100)).toEqual([])
      })
    })

    describe("blobs", () => {
      it("stores ciphertext under its SHA-256 and serves it whole or in ranges", async () => {
        const relay = await open()
        const { hub, phone, spaceId } = await household(relay)
        const { bytes, blobId } = await blobOf("0123456789")
        expect(await hub.relay.putBlob(spaceId, blobId, bytes)).toEqual({ blobId, size: 10 })
        expect(await phone.relay.getBlob(spaceId, blobId)).toEqual(bytes)
        expect(await phone.relay.getBlob(spaceId, blobId, { start: 2, end: 4 })).toEqual(utf8("234"))
        expect(await phone.relay.getBlob(spaceId, blobId, { start: 7 })).toEqual(utf8("789"))
        expect(await phone.relay.getBlob(spaceId, blobId, { suffix: 2 })).toEqual(utf8("89"))
        expect(await phone.relay.getBlob(spaceId, blobId, { start: 8, end: 99 })).toEqual(utf8("89"))
        expect(await failure(phone.relay.getBlob(spaceId, blobId, { start: 10 }))).toEqual({
          status: 416,
          code: "RANGE_NOT_SATISFIABLE",
        })
        expect(await failure(phone.relay.getBlob(spaceId, blobId, undefined, { maxBytes: 9 }))).toEqual({
          status: 200,
          code: "BAD_RESPONSE",
        })
        expect(await phone.relay.getBlob(spaceId, blobId, undefined, { maxBytes: 10 })).toEqual(bytes)
      })

      it("refuses a wrong hash, a member's upload, outsiders and unknown blobs", async () => {
        const relay = await open()
        const { hub, phone, spaceId } = await household(relay)
        const { bytes, blobId } = await blobOf("clip")
        const other = await blobOf("other")
        expect(await failure(hub.relay.putBlob(spaceId, other.blobId, bytes))).toEqual({
          status: 400,
          code: "HASH_MISMATCH",
        })
        expect(await failure(hub.relay.putBlob(spaceId, "ab", bytes))).toEqual({
          status: 400,
          code: "VALIDATION",
        })
        expect(await failure(phone.relay.putBlob(spaceId, blobId, bytes))).toEqual({
          status: 403,
          code: "FORBIDDEN",
        })
        await hub.relay.putBlob(spaceId, blobId, bytes)
        const outsider = await register(relay, "phone")
        expect(await failure(outsider.relay.getBlob(spaceId, blobId))).toEqual({
          status: 404,
          code: "NOT_FOUND",
        })
        expect(await failure(outsider.relay.listBlobs(spaceId))).toEqual({ status: 404, code: "NOT_FOUND" })
        expect(await failure(phone.relay.getBlob(spaceId, other.blobId))).toEqual({
          status: 404,
          code: "NOT_FOUND",
        })
        expect(
          await failure(hub.relay.putBlob(spaceId, blobId, bytes, { recipients: [outsider.deviceId] })),
        ).toEqual({ status: 400, code: "VALIDATION" })
      })

      it("lists blobs oldest first, a page at a time, with usage and pending recipients", async () => {
        const relay = await open()
        const { hub, phone, spaceId } = await household(relay)
        const first = await blobOf("first")
        const second = await blobOf("second!")
        await hub.relay.putBlob(spaceId, first.blobId, first.bytes, { recipients: [phone.deviceId] })
        relay.advance(1000)
        await hub.relay.putBlob(spaceId, second.blobId, second.bytes)
        const page1 = await phone.relay.listBlobs(spaceId, { limit: 1 })
        expect(page1.blobs.map((b) => [b.blobId, b.size, b.pendingRecipients])).toEqual([
          [first.blobId, 5, [phone.deviceId]],
        ])
        const [listed] = page1.blobs
        expect(listed!.expiresAt - listed!.createdAt).toBe(30 * 24 * 3600 * 1000)
        expect(page1.usedBytes).toBe(12)
        expect(page1.quotaBytes).toBe(10 * 1024 ** 3)
        expect(page1.nextCursor).not.toBeNull()
        const page2 = await phone.relay.listBlobs(spaceId, { limit: 1, cursor: page1.nextCursor! })
        expect(page2.blobs.map((b) => [b.blobId, b.pendingRecipients])).toEqual([[second.blobId, []]])
        const page3 = await phone.relay.listBlobs(spaceId, { limit: 1, cursor: page2.nextCursor! })
        expect(page3).toMatchObject({ blobs: [], nextCursor: null })
        expect((await phone.relay.listBlobs(spaceId)).nextCursor).toBeNull()
        expect(await failure(phone.relay.listBlobs(spaceId, { limit: 0 }))).toEqual({
          status: 400,
          code: "VALIDATION",
        })
      })

      it("releases a blob when its last recipient deletes it; without recipients a member's delete keeps it", async () => {
        const relay = await open()
        const { hub, phone, spaceId } = await household(relay)
        const second = await register(relay, "phone")
        await enroll(hub, second, spaceId)
        const named = await blobOf("for both")
        const unnamed = await blobOf("for nobody")
        await hub.relay.putBlob(spaceId, named.blobId, named.bytes, {
          recipients: [phone.deviceId, second.deviceId],
        })
        await hub.relay.putBlob(spaceId, unnamed.blobId, unnamed.bytes)
        await phone.relay.deleteBlob(spaceId, named.blobId)
        const ids = async () => (await hub.relay.listBlobs(spaceId)).blobs.map((b) => b.blobId)
        expect(await ids()).toEqual(expect.arrayContaining([named.blobId, unnamed.blobId]))
        expect(await second.relay.getBlob(spaceId, named.blobId)).toEqual(named.bytes)
        await second.relay.deleteBlob(spaceId, named.blobId)
        expect(await ids()).toEqual([unnamed.blobId])
        expect(await failure(second.relay.getBlob(spaceId, named.blobId))).toEqual({
          status: 404,
          code: "NOT_FOUND",
        })
        await phone.relay.deleteBlob(spaceId, unnamed.blobId)
        expect(await ids()).toEqual([unnamed.blobId])
        await hub.relay.deleteBlob(spaceId, unnamed.blobId)
        expect(await ids()).toEqual([])
        expect(await failure(hub.relay.deleteBlob(spaceId, unnamed.blobId))).toEqual({
          status: 404,
          code: "NOT_FOUND",
        })
      })

      it("forgets a removed member's claims: the others' acknowledgements release the blob", async () => {
        const relay = await open()
        const { hub, phone, spaceId } = await household(relay)
        const second = await register(relay, "phone")
        await enroll(hub, second, spaceId)
        const { bytes, blobId } = await blobOf("for both")
        await hub.relay.putBlob(spaceId, blobId, bytes, { recipients: [phone.deviceId, second.deviceId] })
        await hub.relay.removeMember(spaceId, second.deviceId)
        expect((await hub.relay.listBlobs(spaceId)).blobs[0]?.pendingRecipients).toEqual([phone.deviceId])
        await phone.relay.deleteBlob(spaceId, blobId)
        expect((await hub.relay.listBlobs(spaceId)).blobs).toEqual([])
      })

      it("refuses a blob over the size limit", async () => {
        const relay = await open({ maxBlobBytes: 4 })
        const { hub, spaceId } = await household(relay)
        const { bytes, blobId } = await blobOf("12345")
        expect(await failure(hub.relay.putBlob(spaceId, blobId, bytes))).toEqual({
          status: 413,
          code: "TOO_LARGE",
        })
      })

      it("keeps a space within its quota; a blob it already holds costs nothing", async () => {
        const relay = await open({ spaceQuotaBytes: 8 })
        const { hub, spaceId } = await household(relay)
        const small = await blobOf("12345")
        const big = await blobOf("abcd")
        await hub.relay.putBlob(spaceId, small.blobId, small.bytes)
        expect(await failure(hub.relay.putBlob(spaceId, big.blobId, big.bytes))).toEqual({
          status: 413,
          code: "QUOTA_EXCEEDED",
        })
        await hub.relay.putBlob(spaceId, small.blobId, small.bytes)
        await hub.relay.deleteBlob(spaceId, small.blobId)
        await hub.relay.putBlob(spaceId, big.blobId, big.bytes)
      })
    })

    describe("pairing rooms", () => {
      it("keeps messages in order for anyone who knows the room; long-polls for the next", async () => {
        const relay = await open()
        const hub = await register(relay, "hub")
        const phone = await register(relay, "phone")
        await hub.relay.claimRoom(roomA)
        expect(await phone.relay.postToRoom(roomA, utf8("hello"))).toEqual({ seq: 1 })
        expect(await hub.relay.postToRoom(roomA, utf8("welcome"))).toEqual({ seq: 2 })
        const read = await phone.relay.readRoom(roomA, 0)
        expect(read.map((m) => [m.seq, m.from, new TextDecoder().decode(m.body)])).toEqual([
          [1, phone.deviceId, "hello"],
          [2, hub.deviceId, "welcome"],
        ])
        expect((await hub.relay.readRoom(roomA, 1)).map((m) => m.seq)).toEqual([2])
        expect(await hub.relay.readRoom(roomB, 0)).toEqual([])
        const waiting = hub.relay.readRoom(roomA, 2, 10_000)
        await new Promise((r) => setTimeout(r, 50))
        await phone.relay.postToRoom(roomA, utf8("again"))
        expect((await waiting).map((m) => m.seq)).toEqual([3])
      })

      it("lets only a hub claim a room, and not one another device claimed or wrote into", async () => {
        const relay = await open()
        const hub = await register(relay, "hub")
        const other = await register(relay, "hub")
        const phone = await register(relay, "phone")
        expect(await failure(phone.relay.claimRoom(roomA))).toEqual({ status: 403, code: "FORBIDDEN" })
        await hub.relay.claimRoom(roomA)
        await hub.relay.claimRoom(roomA)
        expect(await failure(other.relay.claimRoom(roomA))).toEqual({ status: 403, code: "FORBIDDEN" })
        await phone.relay.postToRoom(roomB, utf8("first"))
        expect(await failure(hub.relay.claimRoom(roomB))).toEqual({ status: 403, code: "FORBIDDEN" })
        expect(await failure(hub.relay.claimRoom("00"))).toEqual({ status: 400, code: "VALIDATION" })
      })

      it("fills up, and expires: no writes, nothing to read", async () => {
        const relay = await open({ maxRoomMessages: 2 })
        const phone = await register(relay, "phone")
        await phone.relay.postToRoom(roomA, utf8("1"))
        await phone.relay.postToRoom(roomA, utf8("2"))
        expect(await failure(phone.relay.postToRoom(roomA, utf8("3")))).toEqual({
          status: 429,
          code: "ROOM_FULL",
        })
        expect(await failure(phone.relay.postToRoom(roomA, new Uint8Array()))).toEqual({
          status: 400,
          code: "VALIDATION",
        })
        relay.advance(15 * 60 * 1000)
        expect(await phone.relay.readRoom(roomA, 0)).toEqual([])
        expect(await failure(phone.relay.postToRoom(roomA, utf8("late")))).toEqual({
          status: 410,
          code: "ROOM_EXPIRED",
        })
      })

      it("takes a consent only while it lasts", async () => {
        const relay = await open()
        const hub = await register(relay, "hub")
        const phone = await register(relay, "phone")
        const { spaceId } = await hub.relay.createSpace()
        await hub.relay.claimRoom(roomA)
        await phone.relay.postToRoom(roomA, utf8("join"))
        relay.advance(60 * 60 * 1000)
        expect(await failure(hub.relay.addMember(spaceId, phone.deviceId))).toEqual({
          status: 403,
          code: "FORBIDDEN",
        })
      })
    })

    describe("pairing announcements", () => {
      it("lists hubs announcing from this address, newest first, until withdrawn or expired", async () => {
        const relay = await open()
        const hub = await register(relay, "hub")
        const other = await register(relay, "hub")
        const phone = await register(relay, "phone")
        const announced = await hub.relay.announcePairing(roomA, utf8("Garage"))
        expect(announced.roomId).toBe(roomA)
        relay.advance(1000)
        await other.relay.announcePairing(roomB, new Uint8Array([0, 255, 7]))
        const listed = await phone.relay.listPairingAnnouncements()
        expect(listed.map((a) => [a.roomId, a.deviceId, [...a.name]])).toEqual([
          [roomB, other.deviceId, [0, 255, 7]],
          [roomA, hub.deviceId, [...utf8("Garage")]],
        ])
        expect(listed[1]!.expiresAt).toBe(announced.expiresAt)
        expect(listed[1]!.expiresAt - listed[1]!.announcedAt).toBe(10 * 60 * 1000)
        await other.relay.withdrawPairing(roomB)
        await phone.relay.withdrawPairing(roomA)
        expect((await phone.relay.listPairingAnnouncements()).map((a) => a.roomId)).toEqual([roomA])
        relay.advance(10 * 60 * 1000)
        expect(await phone.relay.listPairingAnnouncements()).toEqual([])
      })

      it("announcing claims the room: a phone writing into it may be added", async () => {
        const relay = await open()
        const hub = await register(relay, "hub")
        const phone = await register(relay, "phone")
        const { spaceId } = await hub.relay.createSpace()
        await hub.relay.announcePairing(roomA, utf8("Hub"))
        await phone.relay.postToRoom(roomA, utf8("join"))
        await hub.relay.addMember(spaceId, phone.deviceId)
        expect((await phone.relay.listBlobs(spaceId)).blobs).toEqual([])
      })

      it("keeps few announcements per address; a hub registered earlier takes a younger one's place", async () => {
        const relay = await open({ maxAnnouncementsPerAddress: 1 })
        const older = await register(relay, "hub")
        relay.advance(1000)
        const younger = await register(relay, "hub")
        const phone = await register(relay, "phone")
        await younger.relay.announcePairing(roomA, utf8("young"))
        await older.relay.announcePairing(roomB, utf8("old"))
        expect((await phone.relay.listPairingAnnouncements()).map((a) => a.deviceId)).toEqual([
          older.deviceId,
        ])
        expect(await failure(younger.relay.announcePairing(hex64(0xc), utf8("again")))).toEqual({
          status: 429,
          code: "ANNOUNCEMENTS_FULL",
        })
      })

      it("refuses phones, long names and another hub's room", async () => {
        const relay = await open()
        const hub = await register(relay, "hub")
        const other = await register(relay, "hub")
        const phone = await register(relay, "phone")
        expect(await failure(phone.relay.announcePairing(roomA, utf8("x")))).toEqual({
          status: 403,
          code: "FORBIDDEN",
        })
        expect(await failure(hub.relay.announcePairing(roomA, new Uint8Array(257)))).toEqual({
          status: 413,
          code: "TOO_LARGE",
        })
        await hub.relay.announcePairing(roomA, new Uint8Array(256))
        expect(await failure(other.relay.announcePairing(roomA, utf8("mine")))).toEqual({
          status: 403,
          code: "FORBIDDEN",
        })
        // One announcement per hub: a new room replaces its earlier one.
        await hub.relay.announcePairing(roomB, utf8("again"))
        expect((await phone.relay.listPairingAnnouncements()).map((a) => a.roomId)).toEqual([roomB])
      })
    })

    describe("the rest", () => {
      it("hands out no ICE servers by default, and has no Web Push by default", async () => {
        const relay = await open()
        const { hub, spaceId } = await household(relay)
        expect(await hub.relay.getIceServers()).toEqual([])
        expect(await failure(hub.relay.push(spaceId, utf8("payload")))).toEqual({
          status: 404,
          code: "NOT_FOUND",
        })
      })
    })
  })
}
