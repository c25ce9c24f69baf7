/**
 * The short code a person compares on the hub and on the phone when pairing without a shared secret
 * (discovery through signal's rooms). Both sides compute it from the MLS epoch authenticator (RFC 9420
 * §8.7) of the epoch that added the phone and from a nonce the phone committed to in its join request.
 *
 * Why the nonce: without it, a relay in the middle joins the hub's group itself (learning the hub's code)
 * and then, posing as the hub to the phone, grinds its own commits until its fake epoch yields the same six
 * digits — about 10^6 cheap hashes. With it, the phone sends `commitment = SHA-256(label || nonce)` in
 * its join (before the hub's epoch exists) and reveals the nonce only after it holds a Welcome (after the
 * epoch it joined is fixed). Whoever sits in the middle must fix each side's epoch before learning the
 * other input of that side's code, so the two codes match by chance only: one in 10^6 per attempt, and
 * every attempt is a request the person at the hub sees (the commitment scheme of Vaudenay's SAS-based
 * authentication, as in Bluetooth numeric comparison).
 *
 * code = SHA-256("vigil pairing code v2" || u16(len(authenticator)) || authenticator || nonce), first 8
 * bytes as a big-endian integer, mod 10^6, as 6 digits (bias below 10^-13).
 */
import { concatBytes, equalBytes, randomBytes, sha256, utf8 } from "./bytes.ts"
import { CryptoError } from "./errors.ts"

/** Bytes of the phone's pairing nonce. */
export const pairingNonceBytes = 32

export async function confirmationCode(
  epochAuthenticator: Uint8Array,
  phoneNonce: Uint8Array,
): Promise<string> {
  if (phoneNonce.length !== pairingNonceBytes) throw new CryptoError("PAIRING_INVALID", "pairing nonce size")
  const length = new Uint8Array([epochAuthenticator.length >> 8, epochAuthenticator.length & 0xff])
  const digest = await sha256(
    concatBytes(utf8("vigil pairing code v2"), length, epochAuthenticator, phoneNonce),
  )
  const n = new DataView(digest.buffer, digest.byteOffset, 8).getBigUint64(0)
  return (n % 1_000_000n).toString().padStart(6, "0")
}

/** The phone's commitment to its nonce, sent in the join request. */
export function pairingNonceCommitment(nonce: Uint8Array): Promise<Uint8Array> {
  return sha256(concatBytes(utf8("vigil pairing nonce v1"), nonce))
}

/** A fresh nonce and its commitment, for one join request. */
export async function newPairingNonce(): Promise<{ nonce: Uint8Array; commitment: Uint8Array }> {
  const nonce = randomBytes(pairingNonceBytes)
  return { nonce, commitment: await pairingNonceCommitment(nonce) }
}

/** The hub checks a revealed nonce against the commitment of the join request. */
export async function checkPairingNonce(nonce: Uint8Array, commitment: Uint8Array): Promise<void> {
  if (nonce.length !== pairingNonceBytes || !equalBytes(await pairingNonceCommitment(nonce), commitment)) {
    throw new CryptoError("PAIRING_INVALID", "the revealed pairing nonce does not match the join request")
  }
}
