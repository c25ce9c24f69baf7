import {
  getCiphersuiteFromName,
  getCiphersuiteImpl,
  type CiphersuiteImpl,
  type CiphersuiteName,
} from "ts-mls"

/** The default ciphersuite: MLS suite 1, X25519 + AES-128-GCM + SHA-256 + Ed25519 (RFC 9420 §17.1). */
export const defaultSuiteName: CiphersuiteName = "MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519"

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
