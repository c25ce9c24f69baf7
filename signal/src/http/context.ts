import type { IncomingMessage } from "node:http"
import type { SignalConfig } from "../config.ts"
import type { Logger } from "../log.ts"
import type { RelayMetrics } from "../metrics/metrics.ts"
import type { AnnouncementStore } from "../pairing/announcementStore.ts"
import type { HubWatch } from "../push/hubWatch.ts"
import type { PushService } from "../push/pushSender.ts"
import type { BlobStore } from "../store/blobStore.ts"
import type { MetaStore } from "../store/metaStore.ts"
import type { LiveDevices } from "../ws/liveDevices.ts"
import type { KeyedLock } from "./keyedLock.ts"
import type { Notifier } from "./notifier.ts"
import type { RateLimiter } from "./rateLimiter.ts"

/** Everything a feature router needs, passed in one object. */
export interface AppContext {
  store: MetaStore
  blobs: BlobStore
  config: SignalConfig
  logger: Logger
  notifier: Notifier
  now: () => number
  metrics: RelayMetrics
  /** Serialises uploads and deletions of one blob id. */
  blobLock: KeyedLock
  /** Requests and WebSocket upgrades per client address. */
  addressLimiter: RateLimiter
  /** Authenticated requests and WebSocket frames per device. */
  deviceLimiter: RateLimiter
  /** Device registrations per public address group (IPv4 address, IPv6 /64). */
  registrationLimiter: RateLimiter
  /** Pushes per space. */
  pushLimiter: RateLimiter
  /** The client's address (X-Forwarded-For honoured only from a trusted proxy). */
  clientAddress: (req: IncomingMessage) => string
  announcements: AnnouncementStore
  /** Absent when the relay was started without Web Push. */
  push: PushService | undefined
  /** WebSocket connections by device, for live delivery. */
  live: LiveDevices
  /** Hubs that stopped checking in, told to their phones (push/hubWatch.ts). */
  hubWatch: HubWatch
}
