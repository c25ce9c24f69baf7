/**
 * Getting an announced clip or picture from the relay, for the page (PhoneSpace) and the service worker
 * (push notifications) alike: never more than the hub-signed size, only the blob the hub named (its
 * SHA-256), and decrypted record by record under the clip key.
 */
import {
  CryptoError,
  decryptClip,
  fromBase64,
  fromBase64Url,
  importClipKey,
  sha256,
  toHex,
  type ClipId,
  type ClipKey,
  type RelayTransport,
} from "@vigil/protocol"
import type { DeviceRecord, EventRecord } from "../store/db.ts"

/** A blob as the hub announced it (in a clip announcement, a sighting's picture or a push notice). */
export interface AnnouncedMedia {
  spaceId: string
  /** SHA-256 (hex) of the whole stored blob. */
  blobId: string
  /** The blob's size in bytes, as the hub signed it. */
  size: number
  clipId: string
}

/**
 * Downloads an announced blob, checks it is the one the hub named and decrypts it. `size` is the
 * hub-signed blob size: the download is cancelled past it (issue 14, finding 15).
 */
export async function downloadAndDecrypt(
  client: RelayTransport,
  media: AnnouncedMedia,
  secret: Uint8Array,
): Promise<Uint8Array> {
  const blob = await client.getBlob(media.spaceId, media.blobId, undefined, { maxBytes: media.size })
  if (toHex(await sha256(blob)) !== media.blobId) {
    throw new CryptoError("CLIP_NOT_ANNOUNCED", "the stored media is not what the hub announced")
  }
  return decryptClip(await importClipKey(media.clipId as ClipId, secret), blob)
}

/** An event's clip at signal: its URL, the request headers, and the key of its records. */
export interface ClipSource {
  url: string
  headers: Record<string, string>
  /** SHA-256 (hex) of the whole stored blob, as the hub announced it. */
  blobId: string
  /** The blob's size in bytes, as the hub signed it: a download stops past it. */
  size: number
  /** The hub-signed SHA-256 of each record, when the announcement listed them. */
  recordHashes?: Uint8Array
  key: ClipKey
}

/** Where a recorded event's clip is and the key to open it, for streaming playback. */
export async function clipSourceOf(device: DeviceRecord, event: EventRecord): Promise<ClipSource> {
  const path = `/v1/spaces/${encodeURIComponent(event.spaceId)}/blobs/${encodeURIComponent(event.blobId)}`
  return {
    url: `${device.signalUrl.replace(/\/+$/, "")}${path}`,
    headers: { authorization: `Bearer ${device.token}` },
    blobId: event.blobId,
    size: event.size,
    ...(event.recordHashes ? { recordHashes: fromBase64Url(event.recordHashes) } : {}),
    key: await importClipKey(event.clipId as ClipId, fromBase64(event.secret)),
  }
}
