/**
 * MLS bytes before a group is involved: what a message is (without processing it), key packages as they
 * cross the wire, a phone's pending join (its key package and the private half it keeps), and who signed
 * a Welcome. SpaceSession (spaceSession.ts) uses these; so do the pairing modules.
 */
import {
  decodeMlsMessage,
  defaultCapabilities,
  defaultLifetime,
  emptyPskIndex,
  encodeMlsMessage,
  generateKeyPackage,
  generateKeyPackageWithKey,
  type CiphersuiteImpl,
  type CiphersuiteName,
  type KeyPackage,
  type MLSMessage,
  type PrivateKeyPackage,
} from "ts-mls"
// Not re-exported by ts-mls's index: joinGroup verifies the GroupInfo's signature but does not say whose it
// was, so the signer's leaf is read here from the same decryption (package.json exports "./*.js").
import { makeKeyPackageRef } from "ts-mls/keyPackage.js"
import { accumulatePskSecret } from "ts-mls/pskIndex.js"
import { decryptGroupInfo, decryptGroupSecrets } from "ts-mls/welcome.js"
import { fromBase64, toBase64 } from "./bytes.ts"
import { credentialFor, identityOf, type DeviceIdentity } from "./credentials.ts"
import { CodecError, ProtocolStateError } from "./errors.ts"
import { defaultSuiteName, loadSuite } from "./suite.ts"

/** A phone's fresh key package, and the private half it keeps until the Welcome arrives. */
export interface PendingJoin {
  keyPackage: Uint8Array
  privatePackage: Uint8Array
}

/** Decodes one whole MLS message; anything else is a CodecError. */
export function decodeMessage(bytes: Uint8Array): MLSMessage {
  let decoded: [MLSMessage, number] | undefined
  try {
    decoded = decodeMlsMessage(bytes, 0)
  } catch (cause) {
    throw new CodecError("not an MLS message", { cause })
  }
  if (!decoded || decoded[1] !== bytes.length) throw new CodecError("not an MLS message")
  return decoded[0]
}

/** The wire format of an MLS message (welcome, private message, ...), without processing it. */
export function mlsWireformat(bytes: Uint8Array): MLSMessage["wireformat"] {
  return decodeMessage(bytes).wireformat
}

/**
 * The epoch a private message's header claims, without processing it; undefined for other wire formats.
 * Unauthenticated: use it only to decide how long to keep a message, never to change state.
 */
export function claimedEpoch(bytes: Uint8Array): bigint | undefined {
  const msg = decodeMessage(bytes)
  return msg.wireformat === "mls_private_message" ? msg.privateMessage.epoch : undefined
}

/** Encodes a key package as an MLSMessage (RFC 9420 §6), the form that crosses the wire. */
const encodeKeyPackage = (keyPackage: KeyPackage): Uint8Array =>
  encodeMlsMessage({ keyPackage, wireformat: "mls_key_package", version: "mls10" })

/** Decodes a key package received from the network. */
export function decodeKeyPackage(bytes: Uint8Array): KeyPackage {
  const msg = decodeMessage(bytes)
  if (msg.wireformat !== "mls_key_package")
    throw new CodecError(`expected a key package, got ${msg.wireformat}`)
  return msg.keyPackage
}

/** The identity a key package claims. */
export function keyPackageIdentity(keyPackage: KeyPackage): DeviceIdentity | undefined {
  return identityOf(keyPackage.leafNode.credential)
}

function encodePrivatePackage(p: PrivateKeyPackage): Uint8Array {
  const json = JSON.stringify({
    init: toBase64(p.initPrivateKey),
    hpke: toBase64(p.hpkePrivateKey),
    sig: toBase64(p.signaturePrivateKey),
  })
  return new TextEncoder().encode(json)
}

export function decodePrivatePackage(bytes: Uint8Array): PrivateKeyPackage {
  try {
    const o = JSON.parse(new TextDecoder().decode(bytes)) as Record<string, unknown>
    if (typeof o.init !== "string" || typeof o.hpke !== "string" || typeof o.sig !== "string")
      throw new Error()
    return {
      initPrivateKey: fromBase64(o.init),
      hpkePrivateKey: fromBase64(o.hpke),
      signaturePrivateKey: fromBase64(o.sig),
    }
  } catch (cause) {
    throw new CodecError("invalid private key package", { cause })
  }
}

/**
 * A phone prepares to join: a key package for the hub, and the private half to keep. The suite must be the
 * space's (the invite says which; suite 1 by default).
 */
export async function createPendingJoin(
  identity: DeviceIdentity,
  suite: CiphersuiteName = defaultSuiteName,
  /** Reuse this signature key pair (to rejoin as the same device); a fresh one otherwise. */
  signatureKeys?: SignatureKeys,
): Promise<PendingJoin> {
  const cs = await loadSuite(suite)
  const credential = credentialFor(identity)
  const { publicPackage, privatePackage } = signatureKeys
    ? await generateKeyPackageWithKey(
        credential,
        defaultCapabilities(),
        defaultLifetime,
        [],
        signatureKeys,
        cs,
      )
    : await generateKeyPackage(credential, defaultCapabilities(), defaultLifetime, [], cs)
  return { keyPackage: encodeKeyPackage(publicPackage), privatePackage: encodePrivatePackage(privatePackage) }
}

/** An Ed25519 (or the suite's) signature key pair: the device's lasting identity in its space. */
export interface SignatureKeys {
  publicKey: Uint8Array
  signKey: Uint8Array
}

/** The signature key pair inside a pending join; a phone keeps it to prove who it is when it rejoins. */
export function pendingSignatureKeys(pending: PendingJoin): SignatureKeys {
  return {
    publicKey: decodeKeyPackage(pending.keyPackage).leafNode.signaturePublicKey,
    signKey: decodePrivatePackage(pending.privatePackage).signaturePrivateKey,
  }
}

/**
 * The leaf index of the member that signed a Welcome's GroupInfo. Called after `joinGroup` accepted the
 * same Welcome (which verified that signature against that leaf), so failures here are internal.
 */
export async function welcomeSignerLeaf(
  welcome: Extract<MLSMessage, { wireformat: "mls_welcome" }>["welcome"],
  keyPackage: KeyPackage,
  privatePackage: Uint8Array,
  cs: CiphersuiteImpl,
): Promise<number> {
  const initKey = await cs.hpke.importPrivateKey(decodePrivatePackage(privatePackage).initPrivateKey)
  const secrets = await decryptGroupSecrets(
    initKey,
    await makeKeyPackageRef(keyPackage, cs.hash),
    welcome,
    cs.hpke,
  )
  if (!secrets) throw new ProtocolStateError("INTERNAL", "Welcome secrets unreadable on second pass")
  const [pskSecret] = await accumulatePskSecret(secrets.psks, emptyPskIndex, cs, new Uint8Array(cs.kdf.size))
  const info = await decryptGroupInfo(welcome, secrets.joinerSecret, pskSecret, cs)
  if (!info) throw new ProtocolStateError("INTERNAL", "Welcome group info unreadable on second pass")
  return info.signer
}
