import { createServer, type Server } from "node:http"
import { mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { createApp } from "../app.ts"
import { resolveSignalConfig } from "../config.ts"
import { Notifier } from "../http/notifier.ts"
import { createLogger } from "../log.ts"
import { FsBlobStore } from "../store/fsBlobStore.ts"
import { SqliteMetaStore } from "../store/sqliteMetaStore.ts"

/** For tests only: a real signal relay (SQLite + files in a temp dir) listening on 127.0.0.1 for one test. */
export async function startTestRelay(): Promise<{ url: string; dir: string; close: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), "vigil-relay-"))
  const store = SqliteMetaStore.open(join(dir, "meta.sqlite"))
  const blobs = await FsBlobStore.open(join(dir, "blobs"))
  const notifier = new Notifier()
  const app = createApp({
    store,
    blobs,
    config: resolveSignalConfig(),
    logger: createLogger({ level: "silent" }),
    notifier,
  })
  const server: Server = createServer(app)
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r))
  const address = server.address()
  if (!address || typeof address === "string") throw new Error("no address")
  return {
    url: `http://127.0.0.1:${address.port}`,
    dir,
    close: async () => {
      notifier.closeAll()
      server.closeAllConnections()
      await new Promise((r) => server.close(r))
      await store.close()
      await rm(dir, { recursive: true, force: true })
    },
  }
}
