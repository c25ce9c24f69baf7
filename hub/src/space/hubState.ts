import { phoneRoles } from "@vigil/protocol"
import { z } from "zod"
import { HubStateError } from "../errors.ts"

/**
 * Everything the hub must not lose, in ONE file written atomically: its signal credentials, the MLS group
 * state, the paired phones, and the ordered outbox of messages produced from that state but not yet
 * delivered (delivered in per-device lanes, see outboxLanes.ts). Writing state and outbox together is what keeps phones and hub in the same epoch across
 * crashes: a commit is either on disk with its delivery pending, or it never happened.
 */
const hex = (n: number) => z.string().regex(new RegExp(`^[0-9a-f]{${n}}$`))

/** `queuedAt`: when the entry was queued (ms), so mail a phone refuses for days can be parked. */
const queued = { id: z.number().int(), queuedAt: z.number().optional() }

const outboxEntrySchema = z.discriminatedUnion("kind", [
  // Let a device read the space's mailbox and blobs at signal (must precede its Welcome).
  z.object({ ...queued, kind: z.literal("grant"), deviceId: hex(32) }),
  z.object({ ...queued, kind: z.literal("revoke"), deviceId: hex(32) }),
  // An encrypted blob kept on the hub's disk, to upload before the message that announces it.
  z.object({ ...queued, kind: z.literal("blob"), blobId: hex(64), path: z.string() }),
  z.object({ ...queued, kind: z.literal("mail"), to: hex(32), body: z.string() }),
])

export const hubStateSchema = z.object({
  version: z.literal(1),
  signalUrl: z.string(),
  hubName: z.string(),
  device: z.object({ deviceId: hex(32), token: z.string().min(16) }),
  spaceId: hex(32),
  group: z.string(),
  phones: z.array(
    z.object({
      deviceId: hex(32),
      signatureKey: hex(64),
      pairedAt: z.number(),
      /** The device name the phone gave when it paired (discovery pairing). */
      name: z.string().max(64).optional(),
      /** What the phone may do (protocol/src/roles.ts); absent for phones paired before roles: owners. */
      role: z.enum(phoneRoles).optional(),
      /** `issuedAt` of the last rejoin request accepted from this phone (replay guard). */
      lastRejoinAt: z.number().optional(),
      /** `issuedAt` of the last device request (Devices screen) accepted from this phone (replay guard). */
      lastRequestAt: z.number().optional(),
    }),
  ),
  /**
   * Camera names given from a phone (Devices screen), camera id → name; they win over the config's names
   * in everything the hub sends. An entry for a camera no longer configured is kept but unused.
   */
  cameraNames: z.record(z.string().regex(/^[a-z0-9-]{1,32}$/), z.string().min(1).max(64)).optional(),
  /** Cameras reported offline to the phones and not yet back (camera id → since, ms): survives restarts. */
  offlineCameras: z.record(z.string(), z.number()).optional(),
  /** The `seq` of the last clip announcement or sighting sent (hubMessages.ts); phones detect gaps. */
  announcedSeq: z.number().int().nonnegative().optional(),
  /** Highest seq of the hub's own signal mailbox already processed. */
  inboxAfter: z.number().int().nonnegative().default(0),
  outbox: z.array(outboxEntrySchema),
  nextOutboxId: z.number().int(),
})

export type HubStateDoc = z.infer<typeof hubStateSchema>
export type OutboxEntry = z.infer<typeof outboxEntrySchema>
/** An outbox entry before it gets its sequence number. */
export type NewOutboxEntry = OutboxEntry extends infer E
  ? E extends OutboxEntry
    ? Omit<E, "id" | "queuedAt">
    : never
  : never

export { HubStateError }

/** The records the hub keeps in its StateStore: one document, replaced whole on every change. */
export interface HubRecords extends Record<string, unknown> {
  hub: HubStateDoc
}

/** Validates the stored document; a damaged one stops the hub rather than silently losing its pairing. */
export function parseHubState(value: unknown, source: string): HubStateDoc | undefined {
  if (value === undefined) return undefined
  const parsed = hubStateSchema.safeParse(value)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    throw new HubStateError(
      `${source}: field ${issue?.path.join(".") ?? "?"}: ${issue?.message ?? "invalid"}`,
    )
  }
  return parsed.data
}
