import type { SignalConfig } from "../config.ts"
import type { Logger } from "../log.ts"
import type { BlobStore } from "../store/blobStore.ts"
import type { MetaStore } from "../store/metaStore.ts"
import type { Notifier } from "./notifier.ts"

/** Everything a feature router needs, passed in one object. */
export interface AppContext {
  store: MetaStore
  blobs: BlobStore
  config: SignalConfig
  logger: Logger
  notifier: Notifier
  now: () => number
}
