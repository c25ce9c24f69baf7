export { createApp, type AppDeps, type RelayApp, type RelayControl } from "./app.ts"
export {
  defaultSignalConfig,
  parseServerConfig,
  resolveSignalConfig,
  signalConfigSchema,
  type IceServer,
  type RateLimit,
  type ServerConfig,
  type ServerConfigResult,
  type SignalConfig,
} from "./config.ts"
export { ApiError, errorStatus, type ErrorBody, type ErrorCode } from "./errors.ts"
export { Notifier } from "./http/notifier.ts"
export type { BlobId, DeviceId, DeviceKind, RoomId, SpaceId } from "./ids.ts"
export type { SweepResult } from "./janitor/sweep.ts"
export { createLogger, type Logger, type LoggerOptions } from "./log.ts"
export {
  MemoryAnnouncementStore,
  type Announcement,
  type AnnouncementStore,
} from "./pairing/announcementStore.ts"
export type { PushSender, PushSendResult, PushService, PushUrgency } from "./push/pushSender.ts"
export { loadOrCreateVapidKeys, type VapidKeys } from "./push/vapidKeys.ts"
export { createWebPushSender } from "./push/webPushSender.ts"
export type { BlobStore, ByteRange } from "./store/blobStore.ts"
export { FsBlobStore } from "./store/fsBlobStore.ts"
export type {
  AckBlobResult,
  BlobRefRecord,
  DeviceRecord,
  MailboxAppendResult,
  MetaStore,
  PushSubscriptionRecord,
  PutBlobRefResult,
  RoomAppendResult,
  SpaceRole,
  StoreStats,
  StoredMessage,
} from "./store/metaStore.ts"
export { SqliteMetaStore } from "./store/sqliteMetaStore.ts"
export { startTestRelay, type StartTestRelayOptions } from "./testing/startTestRelay.ts"
export type { ClientFrame, ServerFrame } from "./ws/frames.ts"
