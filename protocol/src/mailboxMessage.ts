/**
 * What a mailbox message is, read off its first bytes without trusting or processing it: the one place
 * that tells apart the kinds of bytes that share a device's mailbox at signal.
 *
 *   0x00 …  an MLS message (RFC 9420: version mls10), by its wire format
 *   0x01 …  a signed envelope outside MLS: only unsealed pairing notices of hubs before issue 14 (refused)
 *   0x02 …  a sealed pairing notice (pairingApproval.ts)
 *   0x7b …  "{": a phone's rejoin request to its hub (rejoin.ts, JSON)
 */
import type { MLSMessage } from "ts-mls"
import { mlsWireformat } from "./keyPackages.ts"
import { isPairingNoticeBytes, isSealedPairingNoticeBytes } from "./pairingApproval.ts"
import { isRejoinRequest } from "./rejoin.ts"

export type MailboxMessage =
  | { kind: "mls"; wireformat: MLSMessage["wireformat"] }
  | { kind: "sealed-pairing-notice" }
  | { kind: "unsealed-pairing-notice" }
  | { kind: "rejoin-request" }
  | { kind: "unknown" }

export function classifyMailboxMessage(bytes: Uint8Array): MailboxMessage {
  if (isRejoinRequest(bytes)) return { kind: "rejoin-request" }
  if (isSealedPairingNoticeBytes(bytes)) return { kind: "sealed-pairing-notice" }
  if (isPairingNoticeBytes(bytes)) return { kind: "unsealed-pairing-notice" }
  if (bytes[0] !== 0) return { kind: "unknown" }
  try {
    return { kind: "mls", wireformat: mlsWireformat(bytes) }
  } catch {
    return { kind: "unknown" }
  }
}
