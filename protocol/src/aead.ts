/**
 * AES-128-GCM behind a port. Browsers use WebCrypto (the default here); the hub injects `node:crypto`,
 * which is synchronous and skips WebCrypto's thread hop and copies — that matters at 30 frames a second on
 * a small hub (see `npm run bench:crypto`). Both produce identical bytes: the checked-in vectors run against
 * each.
 */
import { bufferSource } from "./bytes.ts"

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
