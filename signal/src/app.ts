import { STATUS_CODES, type Server, type ServerResponse } from "node:http"
import type { Socket } from "node:net"
import express, { type Express, type RequestHandler } from "express"
import { createBlobsRouter } from "./blobs/blobsRouter.ts"
import type { SignalConfig } from "./config.ts"
import { createDevicesRouter } from "./devices/devicesRouter.ts"
import { ApiError, createErrorHandler, type ErrorCode } from "./errors.ts"
import { addressGroup, createAddressResolver } from "./http/clientAddress.ts"
import type { AppContext } from "./http/context.ts"
import { cors } from "./http/cors.ts"
import { KeyedLock } from "./http/keyedLock.ts"
import { Notifier } from "./http/notifier.ts"
import { RateLimiter } from "./http/rateLimiter.ts"
import { logRequests, routeLabel } from "./http/requestLog.ts"
import { noStore, securityHeaders } from "./http/securityHeaders.ts"
import { sweep, type SweepResult } from "./janitor/sweep.ts"
import { HubWatch } from "./push/hubWatch.ts"
import type { Logger } from "./log.ts"
import { createMailboxRouter } from "./mailbox/mailboxRouter.ts"
import { createRelayMetrics, type RelayMetrics } from "./metrics/metrics.ts"
import { createMetricsRouter } from "./metrics/metricsRouter.ts"
import { MemoryAnnouncementStore, type AnnouncementStore } from "./pairing/announcementStore.ts"
import { createAnnouncementsRouter } from "./pairing/announcementsRouter.ts"
import { createRoomsRouter } from "./pairing/roomsRouter.ts"
import type { PushService } from "./push/pushSender.ts"
import { createPushRouter } from "./push/pushRouter.ts"
import { createRtcRouter } from "./rtc-signal/rtcRouter.ts"
import type { BlobStore } from "./store/blobStore.ts"
import type { MetaStore } from "./store/metaStore.ts"
import { createSpacesRouter } from "./spaces/spacesRouter.ts"
import { createStaticWebRouter } from "./web/staticWeb.ts"
import { LiveDevices } from "./ws/liveDevices.ts"
import { createSocketServer } from "./ws/socketServer.ts"

export interface AppDeps {
  store: MetaStore
  blobs: BlobStore
  config: SignalConfig
  logger: Logger
  /** Clock in ms since the epoch; tests inject one to expire rooms and blobs. Default `Date.now`. */
  now?: () => number
  /** Long-poll wake-ups. Pass one to wake all polls on shutdown (`closeAll`); default a private one. */
  notifier?: Notifier
  /** Web Push sender and VAPID public key; without it the push routes answer 404. */
  push?: PushService
  /** Pairing announcements; default in memory. */
  announcements?: AnnouncementStore
}

/** What the process around the app controls: WebSockets, housekeeping, shutdown. */
export interface RelayControl {
  /** Serves `/v1/ws` upgrades on `server` and answers malformed HTTP with JSON 4xx. Call once. */
  attach(server: Server): void
  /** Runs the retention sweep now (it also runs every `sweepIntervalMs`). */
  sweep(): Promise<SweepResult>
  /**
   * Stops the timers, closes every WebSocket (1001), wakes long polls and waits for a running sweep;
   * the HTTP server is the caller's. Close the stores after it.
   */
  shutdown(): Promise<void>
  readonly metrics: RelayMetrics
  /** Open WebSocket connections, authenticated or not. */
  readonly wsConnections: number
}

/** The express app with its controls. */
export type RelayApp = Express & { readonly relay: RelayControl }

/**
 * Answers a request Node's parser rejected with the same JSON error shape as the app. When something
 * was answered on the connection already, or a response is still in flight (the garbage came pipelined
 * after a valid request, e.g. a body on a HEAD), another answer would corrupt the stream: the in-flight
 * response is let finish and the connection closed.
 */
function answerClientError(err: NodeJS.ErrnoException, socket: Socket): void {
  if (err.code === "ECONNRESET" || !socket.writable || socket.bytesWritten > 0) {
    socket.destroy()
    return
  }
  const inFlight = (socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage
  if (inFlight !== undefined && inFlight !== null) {
    inFlight.shouldKeepAlive = false
    if (inFlight.writableFinished) socket.destroy()
    else inFlight.once("close", () => socket.destroy())
    return
  }
  const [status, code]: [number, ErrorCode] =
    err.code === "HPE_HEADER_OVERFLOW"
      ? [431, "HEADERS_TOO_LARGE"]
      : err.code === "ERR_HTTP_REQUEST_TIMEOUT"
        ? [408, "REQUEST_TIMEOUT"]
        : [400, "VALIDATION"]
  const body = JSON.stringify({ error: { code, message: "malformed HTTP request" } })
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ""}\r\n` +
      `Content-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
      `Connection: close\r\n\r\n${body}`,
  )
}

/**
 * Builds the relay's HTTP app (API v1, see docs/04-relay.md) without listening: `server.ts` binds it
 * to a port and calls `app.relay.attach(server)` for WebSockets; tests do the same on an ephemeral port.
 */
export function createApp(deps: AppDeps): RelayApp {
  const now = deps.now ?? Date.now
  const config = deps.config
  const resolveAddress = createAddressResolver(config.trustedProxies)
  const base: Omit<AppContext, "hubWatch"> = {
    store: deps.store,
    blobs: deps.blobs,
    config,
    logger: deps.logger,
    notifier: deps.notifier ?? new Notifier(),
    now,
    metrics: createRelayMetrics(),
    blobLock: new KeyedLock(),
    addressLimiter: new RateLimiter(config.rateLimitPerAddress, now),
    deviceLimiter: new RateLimiter(config.rateLimitPerDevice, now),
    registrationLimiter: new RateLimiter(config.rateLimitRegistrations, now),
    pushLimiter: new RateLimiter(config.rateLimitPushPerSpace, now),
    clientAddress: (req) => resolveAddress(req.socket.remoteAddress, req.headers["x-forwarded-for"]),
    announcements: deps.announcements ?? new MemoryAnnouncementStore(),
    push: deps.push,
    live: new LiveDevices(),
  }
  const ctx: AppContext = { ...base, hubWatch: new HubWatch(base) }
  ctx.hubWatch.start().catch((err: unknown) => ctx.logger.error({ err }, "hub watch did not start"))
  const sockets = createSocketServer(ctx)
  registerGauges(ctx, () => sockets.connections)

  const app = express()
  app.disable("x-powered-by")
  // API answers are per-caller and uncacheable; the static files get their own ETags from serve-static.
  app.set("etag", false)
  app.set("query parser", "simple")

  app.use(logRequests(ctx.logger))
  app.use((req, res, next) => {
    res.once("finish", () => {
      ctx.metrics.httpRequests.inc({
        method: req.method,
        route: routeLabel(req, res),
        status: String(res.statusCode),
      })
    })
    next()
  })
  app.use(securityHeaders)

  app.get("/healthz", (_req, res) => {
    res.setHeader("Cache-Control", "no-store")
    res.json({ ok: true })
  })
  app.use(createMetricsRouter(ctx))

  const limitByAddress: RequestHandler = (req, _res, next) => {
    // An IPv6 client picks any of its /64's addresses: the /64 is the unit, as for announcements.
    const taken = ctx.addressLimiter.take(`address:${addressGroup(ctx.clientAddress(req))}`)
    if (taken.ok) {
      next()
      return
    }
    ctx.metrics.rateLimited.inc({ scope: "address" })
    throw new ApiError("RATE_LIMITED", "too many requests from this address", {
      "Retry-After": String(Math.ceil(taken.retryAfterMs / 1000)),
    })
  }
  app.use(limitByAddress)
  app.use(cors(config.corsOrigin))

  const v1 = express.Router()
  v1.use(noStore)
  v1.use(createDevicesRouter(ctx))
  v1.use(createSpacesRouter(ctx))
  v1.use(createBlobsRouter(ctx))
  v1.use(createMailboxRouter(ctx))
  v1.use(createRoomsRouter(ctx))
  v1.use(createAnnouncementsRouter(ctx))
  v1.use(createRtcRouter(ctx))
  v1.use(createPushRouter(ctx))
  app.use("/v1", v1)

  if (config.webRoot !== undefined) {
    app.use((_req, res, next) => {
      res.locals.metricsRoute = "static"
      next()
    }, createStaticWebRouter(config.webRoot))
  }

  app.use((req, res, next) => {
    res.locals.metricsRoute = undefined
    next(new ApiError("NOT_FOUND", `no route for ${req.method} ${req.path}`))
  })
  app.use(createErrorHandler(ctx.logger))

  const runSweep = (): Promise<SweepResult> => sweep(ctx)
  let sweeping: Promise<unknown> = Promise.resolve()
  const timer =
    config.sweepIntervalMs > 0
      ? setInterval(() => {
          sweeping = runSweep().catch((err: unknown) => ctx.logger.error({ err }, "sweep failed"))
        }, config.sweepIntervalMs)
      : undefined
  timer?.unref()

  const relay: RelayControl = {
    attach(server) {
      server.on("upgrade", (req, socket, head) => sockets.handleUpgrade(req, socket, head))
      server.on("clientError", answerClientError)
    },
    sweep: runSweep,
    async shutdown() {
      clearInterval(timer)
      await ctx.hubWatch.stop()
      sockets.close()
      ctx.notifier.closeAll()
      await sweeping
    },
    metrics: ctx.metrics,
    get wsConnections() {
      return sockets.connections
    },
  }
  return Object.assign(app, { relay })
}

function registerGauges(ctx: AppContext, wsConnections: () => number): void {
  const { registry } = ctx.metrics
  const startedAt = Date.now() / 1000
  // One store query per scrape, shared by the gauges below.
  let cached: { at: number; stats: ReturnType<AppContext["store"]["stats"]> } | undefined
  const stats = (): ReturnType<AppContext["store"]["stats"]> => {
    const at = Date.now()
    if (cached === undefined || at - cached.at > 1000) cached = { at, stats: ctx.store.stats() }
    return cached.stats
  }
  registry.gauge("signal_ws_connections", "Open WebSocket connections.", wsConnections)
  registry.gauge("signal_ws_devices_online", "Authenticated WebSocket connections.", () => ctx.live.size)
  registry.gauge("signal_long_polls", "Long polls and live feeds waiting.", () => ctx.notifier.listenerCount)
  registry.gauge("signal_mailbox_depth", "Messages waiting in all mailboxes.", async () => {
    return (await stats()).mailboxMessages
  })
  registry.gauge("signal_blob_bytes", "Bytes of stored blobs referenced by a space.", async () => {
    return (await stats()).blobBytes
  })
  registry.gauge("signal_blobs", "Stored blobs referenced by a space.", async () => (await stats()).blobs)
  registry.gauge("signal_devices", "Registered devices.", async () => (await stats()).devices)
  registry.gauge("signal_spaces", "Spaces.", async () => (await stats()).spaces)
  registry.gauge("signal_push_subscriptions", "Web Push subscriptions.", async () => {
    return (await stats()).pushSubscriptions
  })
  registry.gauge("signal_pairing_announcements", "Live pairing announcements.", () => ctx.announcements.size)
  registry.gauge("process_resident_memory_bytes", "Resident memory size in bytes.", () =>
    process.memoryUsage.rss(),
  )
  registry.gauge("process_start_time_seconds", "Start time of the process since the epoch, in seconds.", () =>
    Math.floor(startedAt),
  )
}
