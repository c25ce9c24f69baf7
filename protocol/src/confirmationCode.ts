/**
 * The short code a person compares on the hub and on the phone when pairing without a shared secret
 * (discovery through signal's rooms). Both sides compute it from the MLS epoch authenticator (RFC 9420
 * §8.7) of the epoch that added the phone: equal codes mean both are in the same group with no one in the
 * middle, because a relay that substituted a key package would put each side in a different epoch.
 *
 * code = SHA-256("vigil pairing code v1" || epoch_authenticator), first 8 bytes as a big-endian integer,
 * mod 10^6, as 6 digits (bias below 10^-13).
 */
import { concatBytes, sha256, utf8 } from "./bytes.ts"

export async function confirmationCode(epochAuthenticator: Uint8Array): Promise<string> {
  const digest = await sha256(concatBytes(utf8("vigil pairing code v1"), epochAuthenticator))
  const n = new DataView(digest.buffer, digest.byteOffset, 8).getBigUint64(0)
  return (n % 1_000_000n).toString().padStart(6, "0")
}
