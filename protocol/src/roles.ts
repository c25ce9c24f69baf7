/**
 * Roles in a household: owners add and remove phones and cameras and change settings; members view
 * (clips, timeline, live) and may leave. The hub enforces these rules on every signed request from a
 * phone (hub/src/space/phoneInbox.ts, discoveryDesk.ts); the app asks the same function which controls to
 * show, so what a phone offers and what its hub accepts cannot drift apart.
 *
 * - The first phone of a household is its owner; later phones are members until an owner promotes them.
 * - Phones paired before roles existed carry no role and count as owners: they could do everything then,
 *   and an update must not take a household's rights away.
 * - There is always an owner while any phone is paired: the last owner can neither leave nor be made a
 *   member without naming another owner first. (The hub's own terminal, `hub phones role`, can always
 *   make a phone an owner: it is the household's root of trust.)
 */
import type { DeviceId } from "./ids.ts"

export const phoneRoles = ["owner", "member"] as const
export type PhoneRole = (typeof phoneRoles)[number]

export interface RoledPhone {
  deviceId: string
  /** Absent for phones paired before roles: owners. */
  role?: PhoneRole
}

/** What a phone asks the hub to do that roles govern. */
export type RoleAct =
  | { kind: "remove-phone"; target: DeviceId }
  | { kind: "set-role"; target: DeviceId; role: PhoneRole }
  | { kind: "rename-camera" }
  | { kind: "invite" }
  | { kind: "approve-pairing" }
  /** Discover, test, add, change or remove cameras, or read their settings (cameraSetup.ts). */
  | { kind: "manage-cameras" }

export const roleOf = (phone: RoledPhone): PhoneRole => phone.role ?? "owner"

/** The role a phone gets when it pairs: owner when the household has no owner yet, member otherwise. */
export function newPhoneRole(phones: readonly RoledPhone[]): PhoneRole {
  return phones.some((p) => roleOf(p) === "owner") ? "member" : "owner"
}

/**
 * Why `by` may not do `act` in a household of `phones`, in words for the hub's log and the app; undefined
 * when it may.
 */
export function roleRefusal(phones: readonly RoledPhone[], by: DeviceId, act: RoleAct): string | undefined {
  const self = phones.find((p) => p.deviceId === by)
  if (!self) return "the phone is not paired"
  const owner = roleOf(self) === "owner"
  const owners = phones.filter((p) => roleOf(p) === "owner").length
  switch (act.kind) {
    case "remove-phone": {
      const target = phones.find((p) => p.deviceId === act.target)
      if (!target) return "the phone to remove is not paired"
      if (act.target === by) {
        // Leaving: anyone may, except the last owner of a household that keeps other phones.
        return owner && owners === 1 && phones.length > 1
          ? "the last owner cannot leave without making another phone an owner first"
          : undefined
      }
      return owner ? undefined : "only an owner can remove another phone"
    }
    case "set-role": {
      if (!owner) return "only an owner can change roles"
      const target = phones.find((p) => p.deviceId === act.target)
      if (!target) return "the phone is not paired"
      if (act.role === "member" && roleOf(target) === "owner" && owners === 1) {
        return "the last owner cannot be made a member without making another phone an owner first"
      }
      return undefined
    }
    case "rename-camera":
      return owner ? undefined : "only an owner can rename cameras"
    case "invite":
      return owner ? undefined : "only an owner can add phones"
    case "approve-pairing":
      return owner ? undefined : "only an owner can approve a new phone"
    case "manage-cameras":
      return owner ? undefined : "only an owner can add cameras or change their settings"
  }
}
