import { createServer, type Server } from "node:http"
import { mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { createApp, type RelayApp } from "../app.ts"
import { resolveSignalConfig, type SignalConfig } from "../config.ts"
import { Notifier } from "../http/notifier.ts"
import { createLogger } from "../log.ts"
import type { PushService } from "../push/pushSender.ts"
import { FsBlobStore } from "../store/fsBlobStore.ts"
import { SqliteMetaStore } from "../store/sqliteMetaStore.ts"

export interface StartTestRelayOptions {
  config?: Partial<SignalConfig>
  now?: () => number
  push?: PushService
}

/** For tests only: a real signal relay (SQLite + files in a temp dir) listening on 127.0.0.1 for one test. */
export async function startTestRelay(options: StartTestRelayOptions = {}): Promise<{
  url: string
  dir: string
  app: RelayApp
  close: () => Promise<void>
}> {
  const dir = await mkdtemp(join(tmpdir(), "vigil-relay-"))
  const store = SqliteMetaStore.open(join(dir, "meta.sqlite"))
  const blobs = await FsBlobStore.open(join(dir, "blobs"))
  const notifier = new Notifier()
  const app = createApp({
    store,
    blobs,
    config: resolveSignalConfig(options.config),
    logger: createLogger({ level: "silent" }),
    notifier,
    now: options.now,
    push: options.push,
  })
  const server: Server = createServer(app)
  app.relay.attach(server)
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r))
  const address = server.address()
  if (!address || typeof address === "string") throw new Error("no address")
  return {
    url: `http://127.0.0.1:${address.port}`,
    dir,
    app,
    close: async () => {
      await app.relay.shutdown()
      server.closeAllConnections()
      await new Promise((r) => server.close(r))
      await store.close()
      await rm(dir, { recursive: true, force: true })
    },
  }
}
