export { createApp, type AppDeps } from "./app.ts"
export {
  defaultSignalConfig,
  parseServerConfig,
  resolveSignalConfig,
  type ServerConfig,
  type ServerConfigResult,
  type SignalConfig,
} from "./config.ts"
export { ApiError, errorStatus, type ErrorBody, type ErrorCode } from "./errors.ts"
export { Notifier } from "./http/notifier.ts"
export type { BlobId, DeviceId, DeviceKind, RoomId, SpaceId } from "./ids.ts"
export { createLogger, type Logger, type LoggerOptions } from "./log.ts"
export type { BlobStore, ByteRange } from "./store/blobStore.ts"
export { FsBlobStore } from "./store/fsBlobStore.ts"
export type {
  DeviceRecord,
  MailboxAppendResult,
  MetaStore,
  RoomAppendResult,
  SpaceRole,
  StoredMessage,
} from "./store/metaStore.ts"
export { SqliteMetaStore } from "./store/sqliteMetaStore.ts"
export { startTestRelay } from "./testing/startTestRelay.ts"
