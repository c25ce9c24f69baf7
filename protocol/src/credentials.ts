import type { AuthenticationService, Credential } from "ts-mls"
import { fromUtf8, utf8 } from "./bytes.ts"
import { isDeviceId, type DeviceId } from "./ids.ts"

/** What a member is in a camera space. The hub is the only committer and the only author of media. */
export const roles = ["hub", "phone"] as const
export type Role = (typeof roles)[number]

/** Who a leaf of the group claims to be; the claim is only believed when its signature key is pinned. */
export interface DeviceIdentity {
  role: Role
  deviceId: DeviceId
}

const prefix = "vigil/1/"

/** The MLS basic credential for a device: `vigil/1/<role>/<deviceId>`. */
export function credentialFor(identity: DeviceIdentity): Credential {
  return { credentialType: "basic", identity: utf8(`${prefix}${identity.role}/${identity.deviceId}`) }
}

/** Parses a credential back into an identity, or undefined for anything that is not ours. */
export function identityOf(credential: Credential): DeviceIdentity | undefined {
  if (credential.credentialType !== "basic") return undefined
  let text: string
  try {
    text = fromUtf8(credential.identity)
  } catch {
    return undefined
  }
  if (!text.startsWith(prefix)) return undefined
  const [role, deviceId, ...rest] = text.slice(prefix.length).split("/")
  if (rest.length > 0 || !role || !deviceId) return undefined
  if (!(roles as readonly string[]).includes(role) || !isDeviceId(deviceId)) return undefined
  return { role: role as Role, deviceId }
}

/**
 * Decides whether a (claimed identity, signature key) pair may sit in our group. ts-mls's default service
 * accepts any credential; ours accepts only keys we pinned when pairing.
 */
export type TrustPolicy = (identity: DeviceIdentity, signaturePublicKey: Uint8Array) => boolean

export function pinnedAuthService(trust: TrustPolicy): AuthenticationService {
  return {
    async validateCredential(credential, signaturePublicKey) {
      const identity = identityOf(credential)
      return identity !== undefined && trust(identity, signaturePublicKey)
    },
  }
}
