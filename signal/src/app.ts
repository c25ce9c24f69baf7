import express, { type Express } from "express"
import { createBlobsRouter } from "./blobs/blobsRouter.ts"
import type { SignalConfig } from "./config.ts"
import { createDevicesRouter } from "./devices/devicesRouter.ts"
import { ApiError, createErrorHandler } from "./errors.ts"
import type { AppContext } from "./http/context.ts"
import { Notifier } from "./http/notifier.ts"
import { logRequests } from "./http/requestLog.ts"
import { noStore, securityHeaders } from "./http/securityHeaders.ts"
import type { Logger } from "./log.ts"
import { createMailboxRouter } from "./mailbox/mailboxRouter.ts"
import { createRoomsRouter } from "./pairing/roomsRouter.ts"
import type { BlobStore } from "./store/blobStore.ts"
import type { MetaStore } from "./store/metaStore.ts"
import { createSpacesRouter } from "./spaces/spacesRouter.ts"
import { createStaticWebRouter } from "./web/staticWeb.ts"

export interface AppDeps {
  store: MetaStore
  blobs: BlobStore
  config: SignalConfig
  logger: Logger
  /** Clock in ms since the epoch; tests inject one to expire rooms. Default `Date.now`. */
  now?: () => number
  /** Long-poll wake-ups. Pass one to wake all polls on shutdown (`closeAll`); default a private one. */
  notifier?: Notifier
}

/**
 * Builds the relay's HTTP app (API v1, see docs/04-relay.md) without listening: `server.ts` binds it
 * to a port, tests bind it to an ephemeral one.
 */
export function createApp(deps: AppDeps): Express {
  const ctx: AppContext = {
    store: deps.store,
    blobs: deps.blobs,
    config: deps.config,
    logger: deps.logger,
    notifier: deps.notifier ?? new Notifier(),
    now: deps.now ?? Date.now,
  }

  const app = express()
  app.disable("x-powered-by")
  // API answers are per-caller and uncacheable; the static files get their own ETags from serve-static.
  app.set("etag", false)
  app.set("query parser", "simple")

  app.use(logRequests(ctx.logger))
  app.use(securityHeaders)

  app.get("/healthz", (_req, res) => {
    res.setHeader("Cache-Control", "no-store")
    res.json({ ok: true })
  })

  const v1 = express.Router()
  v1.use(noStore)
  v1.use(createDevicesRouter(ctx))
  v1.use(createSpacesRouter(ctx))
  v1.use(createBlobsRouter(ctx))
  v1.use(createMailboxRouter(ctx))
  v1.use(createRoomsRouter(ctx))
  app.use("/v1", v1)

  if (ctx.config.webRoot !== undefined) app.use(createStaticWebRouter(ctx.config.webRoot))

  app.use((req, _res, next) => {
    next(new ApiError("NOT_FOUND", `no route for ${req.method} ${req.path}`))
  })
  app.use(createErrorHandler(ctx.logger))
  return app
}
