import {
  getCiphersuiteFromName,
  getCiphersuiteImpl,
  type CiphersuiteImpl,
  type CiphersuiteName,
} from "ts-mls"

/**
 * The suites a space may use: MLS suite 1 (X25519 + AES-128-GCM + SHA-256 + Ed25519, RFC 9420 §17.1), the
 * default; and the post-quantum hybrid X-Wing (X25519 + ML-KEM-768) with AES-256-GCM, SHA-512 and Ed25519,
 * for users who want harvest-now-decrypt-later protection (needs `@hpke/hybridkem-x-wing`).
 */
export const supportedSuites = [
  "MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519",
  "MLS_256_XWING_AES256GCM_SHA512_Ed25519",
] as const satisfies readonly CiphersuiteName[]
export type SupportedSuite = (typeof supportedSuites)[number]

export const defaultSuiteName: SupportedSuite = "MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519"

const cache = new Map<CiphersuiteName, Promise<CiphersuiteImpl>>()

/** The ciphersuite implementation, built once per process (it imports WebCrypto keys lazily). */
export function loadSuite(name: CiphersuiteName = defaultSuiteName): Promise<CiphersuiteImpl> {
  let impl = cache.get(name)
  if (!impl) {
    impl = getCiphersuiteImpl(getCiphersuiteFromName(name))
    cache.set(name, impl)
  }
  return impl
}
