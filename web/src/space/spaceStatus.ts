/** What the app shows about this phone's membership, and the knobs tests turn. */
import { SignalClient, type RelayTransport } from "@vigil/protocol"

export type SpaceStatus =
  | { kind: "waiting-for-hub" }
  | { kind: "repairing"; reason: string }
  | { kind: "paired" }
  | { kind: "offline"; reason: string }
  | { kind: "removed" }

export interface PhoneSpaceOptions {
  /** How often the phone refreshes its leaf keys (post-compromise security). Default 24 hours. */
  keyRefreshMs?: number
  /**
   * How long messages claiming a later epoch may wait, with nothing authenticated arriving after them,
   * before the phone asks the hub to let it back in (it keeps its group until the hub's Welcome). Default 60 s.
   */
  stuckAfterMs?: number
  /**
   * After how long without any authenticated message from the hub the app says so. The hub commits a new
   * epoch at least hourly, so silence beyond two of those means it is off, or its messages are withheld.
   * Default 2 h 15 min.
   */
  silentAfterMs?: number
  /**
   * The relay as a transport for a device token (none before registering). Default: signal over HTTP at
   * the device's (or the invite's) signal URL; unit tests pass an in-memory relay (protocol/src/memoryRelay.ts).
   */
  relay?: RelayFactory
}

/** Makes the relay transport for `baseUrl` and a device `token` (none before registering). */
export type RelayFactory = (baseUrl: string, token?: string) => RelayTransport

/** `options.relay`, else signal over HTTP. */
export function relayFor(options: { relay?: RelayFactory }, baseUrl: string, token?: string): RelayTransport {
  return options.relay ? options.relay(baseUrl, token) : new SignalClient({ baseUrl, token })
}

/**
 * What the phone can tell about the hub's messages reaching it (issue 14, finding 5): the relay can drop
 * or hold back messages, but not without the phone noticing a skipped number or a long silence.
 */
export interface HubNews {
  /** Set when nothing authenticated came from the hub for `silentAfterMs`: since when (ms). */
  silentSince?: number
  /** Clip announcements and sightings whose numbers were skipped. */
  missing: number
  /** Cameras the hub said stopped delivering video, and since when (ms). */
  offline: { cameraId: string; name: string; since: number }[]
}

/** Default of `PhoneSpaceOptions.silentAfterMs`. */
export const defaultSilentAfterMs = 135 * 60_000
