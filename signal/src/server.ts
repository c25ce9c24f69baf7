#!/usr/bin/env -S npx tsx
/**
 * Runs the relay: `npx tsx signal/src/server.ts [--port 8080] [--host 127.0.0.1] [--data-dir DIR]
 * [--web-root DIR] [--log-level info]` (or SIGNAL_PORT, SIGNAL_HOST, SIGNAL_DATA_DIR, SIGNAL_WEB_ROOT,
 * SIGNAL_LOG_LEVEL). Prints one line, `signal listening on http://HOST:PORT`, to stdout; logs go to
 * stderr. Bad settings exit with code 2.
 */
import { createHash } from "node:crypto"
import { mkdirSync, readFileSync, statSync } from "node:fs"
import { createServer } from "node:http"
import type { AddressInfo } from "node:net"
import { basename, join, resolve } from "node:path"
import { fileURLToPath } from "node:url"
import { pino } from "pino"
import { createApp } from "./app.ts"
import { parseServerConfig, resolveSignalConfig } from "./config.ts"
import { Notifier } from "./http/notifier.ts"
import { createLogger } from "./log.ts"
import { loadOrCreateVapidKeys } from "./push/vapidKeys.ts"
import { createWebPushSender } from "./push/webPushSender.ts"
import { FsBlobStore } from "./store/fsBlobStore.ts"
import { SqliteMetaStore } from "./store/sqliteMetaStore.ts"
import pkg from "../package.json" with { type: "json" }

function fail(message: string, exitCode: number): never {
  console.error(`signal: ${message}`)
  process.exit(exitCode)
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory()
  } catch {
    return false
  }
}

/**
 * `--version`: run from the release bundle, its SHA-256, to compare with the published release
 * (docs/06-reproducible-builds.md).
 */
function versionText(): string {
  const self = fileURLToPath(import.meta.url)
  if (self.endsWith(".ts")) return `${pkg.name} ${pkg.version}\ndevelopment build (tsx)`
  const digest = createHash("sha256").update(readFileSync(self)).digest("hex")
  return `${pkg.name} ${pkg.version}\n${basename(self)} sha256 ${digest}`
}

async function main(): Promise<void> {
  if (process.argv.slice(2).includes("--version")) {
    console.log(versionText())
    return
  }
  const parsed = parseServerConfig(process.argv.slice(2), process.env, (path) => readFileSync(path, "utf8"))
  if (parsed.kind === "error") fail(parsed.message, 2)
  const { port, host, logLevel, shutdownGraceMs } = parsed.config
  const dataDir = resolve(parsed.config.dataDir)
  const webRootSetting = parsed.config.webRoot ?? parsed.config.signal.webRoot
  const webRoot = webRootSetting === undefined ? undefined : resolve(webRootSetting)
  if (webRoot !== undefined && !isDirectory(webRoot)) fail(`web root is not a directory: ${webRoot}`, 2)
  try {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 })
  } catch (err) {
    fail(`cannot create data dir ${dataDir}: ${(err as Error).message}`, 2)
  }

  const logger = createLogger({ level: logLevel, destination: pino.destination({ dest: 2, sync: true }) })
  const store = SqliteMetaStore.open(join(dataDir, "meta.sqlite"))
  const blobs = await FsBlobStore.open(join(dataDir, "blobs"))
  const notifier = new Notifier()
  const vapid = await loadOrCreateVapidKeys(dataDir)
  const push = { sender: createWebPushSender(vapid, parsed.config.vapidSubject), publicKey: vapid.publicKey }
  const config = resolveSignalConfig({ ...parsed.config.signal, webRoot })
  const app = createApp({ store, blobs, config, logger, notifier, push })

  const server = createServer(app)
  app.relay.attach(server)
  // Large clip uploads on slow uplinks need more than Node's default 5 minutes.
  server.requestTimeout = 30 * 60 * 1000

  server.once("error", (err) => {
    logger.fatal({ err }, "server error")
    void store.close().finally(() => fail(`cannot listen on ${host}:${port}: ${err.message}`, 1))
  })

  server.listen(port, host, () => {
    const address = server.address() as AddressInfo
    const shownHost = host.includes(":") ? `[${host}]` : host
    console.log(`signal listening on http://${shownHost}:${address.port}`)
    logger.info({ host, port: address.port, dataDir, webRoot }, "listening")
    // Catch up on whatever expired while the relay was down.
    app.relay.sweep().catch((err: unknown) => logger.error({ err }, "start-up sweep failed"))
  })

  let stopping = false
  const shutdown = (signal: NodeJS.Signals): void => {
    if (stopping) {
      logger.warn({ signal }, "second signal, exiting now")
      process.exit(1)
    }
    stopping = true
    logger.info({ signal }, "shutting down")
    // Stop accepting; in-flight requests (uploads) finish. Long polls are woken so they answer (empty)
    // now instead of holding shutdown for up to 25 s; WebSockets are closed with 1001.
    const closed = new Promise<Error | undefined>((r) => server.close((err) => r(err)))
    // Connections turn idle as their last request finishes (a woken long poll, an upload): close
    // them as they do rather than waiting for the keep-alive timeout.
    server.closeIdleConnections()
    setInterval(() => server.closeIdleConnections(), 100).unref()
    const cut = setTimeout(() => {
      logger.warn("grace period over, cutting the remaining connections")
      server.closeAllConnections()
    }, shutdownGraceMs)
    cut.unref()
    void app.relay
      .shutdown()
      .then(() => closed)
      .then(async (err) => {
        await store.close()
        logger.info("stopped")
        process.exit(err ? 1 : 0)
      })
  }
  process.once("SIGTERM", shutdown)
  process.once("SIGINT", shutdown)
}

main().catch((err: unknown) =>
  fail(`failed to start: ${err instanceof Error ? err.message : String(err)}`, 1),
)
