/** Branded identifiers, so one kind of id cannot be passed where another is expected. */

declare const brand: unique symbol
type Brand<T, B extends string> = T & { readonly [brand]: B }

/** A device registered at signal: 32 lowercase hex characters. */
export type DeviceId = Brand<string, "DeviceId">
/** A camera space (one MLS group: a hub and its phones) at signal: 32 lowercase hex characters. */
export type SpaceId = Brand<string, "SpaceId">
/** One recorded clip: 32 lowercase hex characters, random. */
export type ClipId = Brand<string, "ClipId">
/** Content address of an encrypted blob at signal: SHA-256 hex of the ciphertext. */
export type BlobId = Brand<string, "BlobId">
/** A camera attached to a hub (config key). */
export type CameraId = Brand<string, "CameraId">

const hex32 = /^[0-9a-f]{32}$/
const hex64 = /^[0-9a-f]{64}$/

export const isDeviceId = (s: string): s is DeviceId => hex32.test(s)
export const isSpaceId = (s: string): s is SpaceId => hex32.test(s)
export const isClipId = (s: string): s is ClipId => hex32.test(s)
export const isBlobId = (s: string): s is BlobId => hex64.test(s)
