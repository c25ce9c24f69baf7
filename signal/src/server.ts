#!/usr/bin/env -S npx tsx
/**
 * Runs the relay: `npx tsx signal/src/server.ts [--port 8080] [--host 127.0.0.1] [--data-dir DIR]
 * [--web-root DIR] [--log-level info]` (or SIGNAL_PORT, SIGNAL_HOST, SIGNAL_DATA_DIR, SIGNAL_WEB_ROOT,
 * SIGNAL_LOG_LEVEL). Prints one line, `signal listening on http://HOST:PORT`, to stdout; logs go to
 * stderr. Bad settings exit with code 2.
 */
import { mkdirSync, statSync } from "node:fs"
import { createServer } from "node:http"
import type { AddressInfo } from "node:net"
import { join, resolve } from "node:path"
import { pino } from "pino"
import { createApp } from "./app.ts"
import { parseServerConfig, resolveSignalConfig } from "./config.ts"
import { Notifier } from "./http/notifier.ts"
import { createLogger } from "./log.ts"
import { FsBlobStore } from "./store/fsBlobStore.ts"
import { SqliteMetaStore } from "./store/sqliteMetaStore.ts"

/** In-flight requests get this long after SIGTERM before their connections are cut. */
const shutdownGraceMs = 10_000

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

async function main(): Promise<void> {
  const parsed = parseServerConfig(process.argv.slice(2), process.env)
  if (parsed.kind === "error") fail(parsed.message, 2)
  const { port, host, logLevel } = parsed.config
  const dataDir = resolve(parsed.config.dataDir)
  const webRoot = parsed.config.webRoot === undefined ? undefined : resolve(parsed.config.webRoot)
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
  const config = resolveSignalConfig(webRoot === undefined ? {} : { webRoot })
  const app = createApp({ store, blobs, config, logger, notifier })

  const server = createServer(app)
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
  })

  let stopping = false
  const shutdown = (signal: NodeJS.Signals): void => {
    if (stopping) {
      logger.warn({ signal }, "second signal, exiting now")
      process.exit(1)
    }
    stopping = true
    logger.info({ signal }, "shutting down")
    // Wake long polls so they answer (empty) now instead of holding shutdown for up to 25 s.
    notifier.closeAll()
    server.close((err) => {
      void store.close().then(() => {
        logger.info("stopped")
        process.exit(err ? 1 : 0)
      })
    })
    server.closeIdleConnections()
    setTimeout(() => server.closeAllConnections(), shutdownGraceMs).unref()
  }
  process.once("SIGTERM", shutdown)
  process.once("SIGINT", shutdown)
}

main().catch((err: unknown) =>
  fail(`failed to start: ${err instanceof Error ? err.message : String(err)}`, 1),
)
