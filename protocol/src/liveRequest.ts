/**
 * What a phone sends the hub to start or end live view (docs/05-livestream.md). These travel as MLS
 * application messages through the hub's signal mailbox, so signal can neither read nor alter them; inside,
 * they are also signed with the phone's MLS signature key, which the hub pinned at pairing. MLS alone says
 * "a member sent this"; the signature says which one, so the hub answers the device that asked, and no
 * member can start a session in another phone's name.
 *
 * Envelope: version (u8 = 1) | signature length (u16) | signature | body (UTF-8 JSON)
 * Signed content: "vigil phone live v1" | group id length (u8) | group id | body
 *
 * The offer carries the phone's whole SDP (DTLS fingerprint and ICE candidates; no trickle): a relay that
 * swapped the fingerprint would have to forge an MLS message and a signature.
 */
import type { Signature } from "ts-mls"
import { openPhoneSigned, signEnvelope, type PhoneSigner } from "./signedEnvelope.ts"
import { z } from "zod"
import { ProtocolStateError } from "./errors.ts"
import type { CameraId, DeviceId } from "./ids.ts"

const signLabel = "vigil phone live v1"

/** A live offer older than this (or this far in the future) is refused: it cannot be a fresh tap on Live. */
export const liveRequestMaxAgeMs = 60_000
/** Upper bound for an SDP in a live message; a data-channel-only SDP is 1–2 KB. */
export const liveSdpMaxLength = 16_384

const sessionId = z.string().regex(/^[0-9a-f]{32}$/)
const deviceId = z.string().regex(/^[0-9a-f]{32}$/)

export const liveOfferSchema = z.strictObject({
  kind: z.literal("live-offer"),
  sessionId,
  deviceId,
  /** Which camera; absent means the hub's first camera. */
  cameraId: z.string().min(1).max(64).optional(),
  sdp: z.string().min(1).max(liveSdpMaxLength),
  issuedAt: z.number().int().nonnegative(),
})

export const liveCloseSchema = z.strictObject({
  kind: z.literal("live-close"),
  sessionId,
  deviceId,
})

export const liveRequestSchema = z.discriminatedUnion("kind", [liveOfferSchema, liveCloseSchema])

export type LiveOffer = Omit<z.infer<typeof liveOfferSchema>, "deviceId" | "cameraId"> & {
  deviceId: DeviceId
  cameraId?: CameraId
}
export type LiveClose = Omit<z.infer<typeof liveCloseSchema>, "deviceId"> & { deviceId: DeviceId }
export type LiveRequest = LiveOffer | LiveClose

/** Phone: signs a live request with its MLS signature key; the result is then sealed with `SpaceSession.seal`. */
export function signLiveRequest(
  request: LiveRequest,
  groupId: Uint8Array,
  signKey: Uint8Array,
  signature: Signature,
): Promise<Uint8Array> {
  return signEnvelope(signLabel, groupId, request, signKey, signature)
}

/**
 * Hub: verifies and parses a live request that arrived (MLS-decrypted) from `from`, the device signal says
 * sent it. The body must name the same device, and carry that device's pinned signature.
 */
export async function openLiveRequest(
  bytes: Uint8Array,
  opts: PhoneSigner & { now: number },
): Promise<LiveRequest> {
  const request = (await openPhoneSigned(bytes, {
    ...opts,
    label: signLabel,
    schema: liveRequestSchema,
    what: "live request",
  })) as LiveRequest
  if (request.kind === "live-offer" && Math.abs(opts.now - request.issuedAt) > liveRequestMaxAgeMs) {
    throw new ProtocolStateError("REQUEST_STALE", "live offer is too old or from the future")
  }
  return request
}
