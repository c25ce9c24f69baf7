import { ApiError } from "../errors.ts"
import type { DeviceId, SpaceId } from "../ids.ts"
import type { MetaStore, SpaceRole } from "../store/metaStore.ts"

/**
 * Passes for the space's owner. A member gets 403; a device with no role gets 404 as if the space
 * did not exist, so outsiders cannot probe for spaces.
 */
export async function requireOwner(store: MetaStore, spaceId: SpaceId, deviceId: DeviceId): Promise<void> {
  const role = await store.getRole(spaceId, deviceId)
  if (role === undefined) throw new ApiError("NOT_FOUND", "space not found")
  if (role !== "owner") throw new ApiError("FORBIDDEN", "only the space owner may do this")
}

/** The caller's role in the space; 404 when it has none. */
export async function requireRole(
  store: MetaStore,
  spaceId: SpaceId,
  deviceId: DeviceId,
): Promise<SpaceRole> {
  const role = await store.getRole(spaceId, deviceId)
  if (role === undefined) throw new ApiError("NOT_FOUND", "space not found")
  return role
}
