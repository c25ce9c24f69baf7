import type { DeviceId } from "../ids.ts"

/** Notifier key of a device's mailbox: long polls and WebSockets listen on it, sends notify it. */
export function mailboxKey(deviceId: DeviceId): string {
  return `mailbox:${deviceId}`
}
