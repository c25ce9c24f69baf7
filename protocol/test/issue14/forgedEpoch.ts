import { encodeMlsMessage } from "ts-mls"
import { randomBytes } from "../../src/bytes.ts"

/**
 * What anyone who can write to a mailbox (the relay first of all) can make without a key: a private message
 * whose plaintext header names any group and epoch, with random bytes where the ciphertext goes. 150 bytes
 * with the default sizes, as in the finding.
 */
export function forgedPrivateMessage(groupId: Uint8Array, epoch: bigint, ciphertextBytes = 88): Uint8Array {
  return encodeMlsMessage({
    wireformat: "mls_private_message",
    version: "mls10",
    privateMessage: {
      groupId,
      epoch,
      contentType: "application",
      authenticatedData: new Uint8Array(0),
      encryptedSenderData: randomBytes(28),
      ciphertext: randomBytes(ciphertextBytes),
    },
  })
}
