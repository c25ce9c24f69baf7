/**
 * AES-128-GCM behind a port. Browsers use WebCrypto (the default here); the hub injects `node:crypto`,
 * which is synchronous and skips WebCrypto's thread hop and copies — that matters at 30 frames a second on
 * a small hub (see `npm run bench:crypto`). Both produce identical bytes: the checked-in vectors run against
 * each.
 */
import { bufferSource } from "./bytes.ts"
import { CodecError } from "./errors.ts"

export interface AeadKey {
  /** Returns ciphertext || 16-byte tag. */
  seal(nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array): Uint8Array | Promise<Uint8Array>
  /** Throws (any error) when the tag does not verify. */
  open(nonce: Uint8Array, aad: Uint8Array, ciphertext: Uint8Array): Uint8Array | Promise<Uint8Array>
}

export interface AeadProvider {
  readonly name: string
  importAes128GcmKey(raw: Uint8Array): Promise<AeadKey>
}

export const webCryptoAead: AeadProvider = {
  name: "webcrypto",
  async importAes128GcmKey(raw) {
    const key = await crypto.subtle.importKey("raw", bufferSource(raw.slice()), "AES-GCM", false, [
      "encrypt",
      "decrypt",
    ])
    return {
      async seal(nonce, aad, plaintext) {
        const ct = await crypto.subtle.encrypt(
          { name: "AES-GCM", iv: bufferSource(nonce), additionalData: bufferSource(aad) },
          key,
          bufferSource(plaintext),
        )
        return new Uint8Array(ct)
      },
      async open(nonce, aad, ciphertext) {
        const pt = await crypto.subtle.decrypt(
          { name: "AES-GCM", iv: bufferSource(nonce), additionalData: bufferSource(aad) },
          key,
          bufferSource(ciphertext),
        )
        return new Uint8Array(pt)
      },
    }
  },
}

/** Bytes exported from MLS for one clip or stream: a 16-byte AES-128-GCM key, then a 12-byte nonce salt. */
export const mediaSecretLength = 28

export interface MediaKey {
  key: AeadKey
  salt: Uint8Array
}

export async function importMediaSecret(
  secret: Uint8Array,
  aead: AeadProvider = webCryptoAead,
): Promise<MediaKey> {
  if (secret.length !== mediaSecretLength) throw new CodecError("media secret has the wrong length")
  return { key: await aead.importAes128GcmKey(secret.subarray(0, 16)), salt: secret.slice(16) }
}

/** Nonce = salt XOR counter as a 96-bit big-endian integer (RFC 9605 §4.4.3 style). */
export function counterNonce(salt: Uint8Array, counter: bigint): Uint8Array {
  const nonce = new Uint8Array(salt)
  const view = new DataView(nonce.buffer)
  view.setBigUint64(4, view.getBigUint64(4) ^ counter)
  return nonce
}
