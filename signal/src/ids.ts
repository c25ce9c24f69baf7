import { randomBytes } from "node:crypto"
import { z } from "zod"

/** Device kinds the relay knows about. Only a hub may create a space. */
export const deviceKinds = ["hub", "phone"] as const
export type DeviceKind = (typeof deviceKinds)[number]
export const deviceKindSchema = z.enum(deviceKinds)

const hex32 = /^[0-9a-f]{32}$/
const hex64 = /^[0-9a-f]{64}$/

/** 16 random bytes as 32 lowercase hex characters, chosen by the server. */
export const deviceIdSchema = z
  .string()
  .regex(hex32, "expected 32 lowercase hex characters")
  .brand<"DeviceId">()
export type DeviceId = z.infer<typeof deviceIdSchema>

/** 16 random bytes as 32 lowercase hex characters, chosen by the server. */
export const spaceIdSchema = z
  .string()
  .regex(hex32, "expected 32 lowercase hex characters")
  .brand<"SpaceId">()
export type SpaceId = z.infer<typeof spaceIdSchema>

/** SHA-256 of the ciphertext as 64 lowercase hex characters; the relay checks it on upload. */
export const blobIdSchema = z.string().regex(hex64, "expected 64 lowercase hex characters").brand<"BlobId">()
export type BlobId = z.infer<typeof blobIdSchema>

/** 64 lowercase hex characters chosen by the pairing clients. */
export const roomIdSchema = z.string().regex(hex64, "expected 64 lowercase hex characters").brand<"RoomId">()
export type RoomId = z.infer<typeof roomIdSchema>

/** Creates a fresh random device id. */
export function createDeviceId(): DeviceId {
  return randomBytes(16).toString("hex") as DeviceId
}

/** Creates a fresh random space id. */
export function createSpaceId(): SpaceId {
  return randomBytes(16).toString("hex") as SpaceId
}
