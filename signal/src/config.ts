import { isIP } from "node:net"
import type { LevelWithSilent } from "pino"
import { z } from "zod"

/** One entry of the WebRTC configuration handed to clients (RTCIceServer). */
export interface IceServer {
  urls: string | string[]
  username?: string
  credential?: string
}

/** A token bucket: `perSecond` tokens refill per second up to `burst`. `perSecond: 0` turns it off. */
export interface RateLimit {
  perSecond: number
  burst: number
}

/** Limits and options of the HTTP app. Byte sizes are bytes, durations milliseconds. */
export interface SignalConfig {
  /** Largest blob a PUT may upload (413 TOO_LARGE past it). */
  maxBlobBytes: number
  /** Largest mailbox message. */
  maxMessageBytes: number
  /** Pending messages a mailbox may hold before sends get 429 MAILBOX_FULL. */
  maxMailboxMessages: number
  /** A mailbox message nobody acknowledged is deleted this long after it was sent. */
  mailboxTtlMs: number
  /** Largest pairing-room message. */
  maxRoomMessageBytes: number
  /** Messages a pairing room may hold before posts get 429 ROOM_FULL. */
  maxRoomMessages: number
  /** A pairing room expires this long after its first message. */
  roomTtlMs: number
  /** After expiry a room is remembered (so late posts get 410, not a fresh room) for this long. */
  roomTombstoneMs: number
  /** Directory of the built PWA, served at `/` when set. */
  webRoot?: string

  /** Blobs are deleted this long after upload, acknowledged or not. */
  retentionMs: number
  /** How often the retention sweep runs; 0 = only when `relay.sweep()` is called. */
  sweepIntervalMs: number
  /** Bytes of blobs one space may hold (413 QUOTA_EXCEEDED past it). */
  spaceQuotaBytes: number
  /** Spaces one hub may own (403 FORBIDDEN past it): with the registration limit, bounds spaces per source. */
  maxSpacesPerHub: number
  /** Devices one space may hold besides its owner (403 FORBIDDEN past it); also bounds a push's fan-out. */
  maxMembersPerSpace: number
  /**
   * A device that posted to a hub's pairing room consents, for this long, to be added to that hub's space
   * (docs/04-relay.md "Joining a space"). Without it the hub cannot add the device.
   */
  joinConsentTtlMs: number
  /** Device registrations per public address group (IPv4 address, IPv6 /64). */
  rateLimitRegistrations: RateLimit
  /** Pushes a space's hub may ask for. */
  rateLimitPushPerSpace: RateLimit

  /** A pairing announcement is listed this long after it was (re)made. */
  announcementTtlMs: number
  /**
   * Live announcements per public address (IPv4, IPv6 /64). Each device holds one at most (a new room
   * replaces its old one); when full, a hub registered before the youngest announcer's device takes that
   * one's place, so devices registered later cannot hide an established hub.
   */
  maxAnnouncementsPerAddress: number
  /** Largest announcement name, in bytes after base64 decoding. */
  maxAnnouncementNameBytes: number
  /**
   * Addresses or CIDR blocks of reverse proxies whose `X-Forwarded-For` is believed. Empty (the
   * default): the header is ignored and the TCP peer is the client.
   */
  trustedProxies: string[]

  /** Origin of the PWA when it is served from elsewhere (e.g. "https://app.example"); CORS is off otherwise. */
  corsOrigin?: string

  /** Handed to clients by `GET /v1/rtc/ice-servers`. Empty by default: no third-party STUN/TURN. */
  iceServers: IceServer[]
  /**
   * Shared secret of a TURN server using time-limited credentials (coturn `use-auth-secret`); when set,
   * every `turn:`/`turns:` entry gets a fresh username and credential per request.
   */
  turnSecret?: string
  /** Lifetime of those TURN credentials. */
  turnCredentialTtlMs: number
  /** Largest WebRTC signalling message (offer, answer, candidate), in bytes. */
  maxSignalBytes: number

  /** Largest Web Push payload a hub may ask for, in bytes (before the push encryption). */
  maxPushPayloadBytes: number
  /**
   * A hub that makes no request for this long is reported to its space's phones by Web Push ("has not
   * checked in since …"), and again when it is back; 0 = never. The relay knows this much anyway.
   */
  hubSilentAlertMs: number
  /**
   * Hosts a push subscription endpoint may point at: an entry matches the host and its subdomains.
   * Keeps the relay from being used to make requests to arbitrary (internal) addresses.
   */
  pushHosts: string[]

  /** Requests (and WebSocket upgrades) per client address. */
  rateLimitPerAddress: RateLimit
  /** Authenticated requests and WebSocket messages per device. */
  rateLimitPerDevice: RateLimit
  /** WebSocket connections the process holds at most. */
  maxWsConnections: number
  /** WebSocket connections one device may hold at most. */
  maxWsPerDevice: number
  /** Largest WebSocket frame a client may send. */
  maxWsMessageBytes: number
  /** A WebSocket must authenticate within this time. */
  wsAuthTimeoutMs: number
  /** WebSocket liveness ping interval; a socket that missed the previous pong is dropped. */
  wsHeartbeatMs: number
  /** Server-side send buffer per WebSocket past which a slow reader is disconnected. */
  wsMaxBufferedBytes: number

  /** When set, `/metrics` also answers `Authorization: Bearer <metricsToken>` from any address. */
  metricsToken?: string
}

const day = 24 * 60 * 60 * 1000

export const defaultSignalConfig: Readonly<SignalConfig> = Object.freeze({
  maxBlobBytes: 256 * 1024 * 1024,
  maxMessageBytes: 256 * 1024,
  maxMailboxMessages: 10_000,
  mailboxTtlMs: 30 * day,
  maxRoomMessageBytes: 16 * 1024,
  maxRoomMessages: 32,
  roomTtlMs: 15 * 60 * 1000,
  roomTombstoneMs: day,
  retentionMs: 30 * day,
  sweepIntervalMs: 10 * 60 * 1000,
  spaceQuotaBytes: 10 * 1024 * 1024 * 1024,
  maxSpacesPerHub: 4,
  maxMembersPerSpace: 32,
  joinConsentTtlMs: 60 * 60 * 1000,
  // A household registers a hub and a few phones, once: 20 at once, then one every 3 minutes.
  rateLimitRegistrations: { perSecond: 1 / 180, burst: 20 },
  // A busy driveway: a push every few seconds for a while; not an unbounded false-alarm hose.
  rateLimitPushPerSpace: { perSecond: 0.2, burst: 30 },
  announcementTtlMs: 10 * 60 * 1000,
  maxAnnouncementsPerAddress: 32,
  maxAnnouncementNameBytes: 256,
  trustedProxies: [],
  iceServers: [],
  turnCredentialTtlMs: 2 * 60 * 60 * 1000,
  maxSignalBytes: 64 * 1024,
  maxPushPayloadBytes: 3072,
  hubSilentAlertMs: 15 * 60 * 1000,
  // Web Push is off until the operator names the push services the relay may post to (docs/04-relay.md):
  // the relay contacts no third-party host by default.
  pushHosts: [],
  // Generous: a household's devices behind one NAT, long polls and clip uploads stay far below it.
  rateLimitPerAddress: { perSecond: 100, burst: 1000 },
  rateLimitPerDevice: { perSecond: 50, burst: 500 },
  maxWsConnections: 20_000,
  maxWsPerDevice: 16,
  maxWsMessageBytes: 128 * 1024,
  wsAuthTimeoutMs: 10_000,
  wsHeartbeatMs: 30_000,
  wsMaxBufferedBytes: 4 * 1024 * 1024,
})

/** The defaults with the given fields replaced. */
export function resolveSignalConfig(overrides: Partial<SignalConfig> = {}): SignalConfig {
  return { ...defaultSignalConfig, ...overrides }
}

/** "a.b.c.d", "a.b.c.d/n", "v6", "v6/n". */
export function isAddressOrCidr(value: string): boolean {
  const [address = "", prefix, ...rest] = value.split("/")
  const family = isIP(address)
  if (family === 0 || rest.length > 0) return false
  if (prefix === undefined) return true
  if (!/^\d{1,3}$/.test(prefix)) return false
  return Number(prefix) <= (family === 4 ? 32 : 128)
}

function isOrigin(value: string): boolean {
  try {
    const url = new URL(value)
    return (url.protocol === "https:" || url.protocol === "http:") && url.origin === value
  } catch {
    return false
  }
}

const count = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER)
const positive = z.number().int().positive().max(Number.MAX_SAFE_INTEGER)
const rateLimitSchema = z.strictObject({ perSecond: z.number().nonnegative().max(1e9), burst: positive })
const iceServerSchema = z.strictObject({
  urls: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]),
  username: z.string().optional(),
  credential: z.string().optional(),
})

/** Schema of a `--config` file: any SignalConfig fields, unknown fields rejected. */
export const signalConfigSchema = z
  .strictObject({
    maxBlobBytes: positive,
    maxMessageBytes: positive,
    maxMailboxMessages: positive,
    mailboxTtlMs: positive,
    maxRoomMessageBytes: positive,
    maxRoomMessages: positive,
    roomTtlMs: positive,
    roomTombstoneMs: count,
    webRoot: z.string().min(1),
    retentionMs: positive,
    sweepIntervalMs: count,
    spaceQuotaBytes: count,
    maxSpacesPerHub: positive,
    maxMembersPerSpace: positive,
    joinConsentTtlMs: positive,
    rateLimitRegistrations: rateLimitSchema,
    rateLimitPushPerSpace: rateLimitSchema,
    announcementTtlMs: positive,
    maxAnnouncementsPerAddress: positive,
    maxAnnouncementNameBytes: positive,
    trustedProxies: z.array(z.string().refine(isAddressOrCidr, "expected an IP address or CIDR block")),
    corsOrigin: z.string().refine(isOrigin, "expected an origin such as https://app.example"),
    iceServers: z.array(iceServerSchema),
    turnSecret: z.string().min(16),
    turnCredentialTtlMs: positive,
    maxSignalBytes: positive,
    maxPushPayloadBytes: z.number().int().positive().max(3993),
    hubSilentAlertMs: count,
    pushHosts: z.array(z.string().regex(/^[a-z0-9.-]+$/, "expected a lowercase host name")),
    rateLimitPerAddress: rateLimitSchema,
    rateLimitPerDevice: rateLimitSchema,
    maxWsConnections: positive,
    maxWsPerDevice: positive,
    maxWsMessageBytes: positive,
    wsAuthTimeoutMs: positive,
    wsHeartbeatMs: positive,
    wsMaxBufferedBytes: positive,
    metricsToken: z.string().min(16),
  })
  .partial()

/** Settings of the `server.ts` process (flags and environment). */
export interface ServerConfig {
  port: number
  host: string
  dataDir: string
  webRoot: string | undefined
  logLevel: LevelWithSilent
  /** `mailto:` or `https:` contact put in the VAPID JWT, as push services require. */
  vapidSubject: string
  /** After SIGTERM, in-flight requests (uploads) get this long before their connections are cut. */
  shutdownGraceMs: number
  /** Overrides of the app limits (from `--config` and the dedicated flags). */
  signal: Partial<SignalConfig>
}

export type ServerConfigResult = { kind: "ok"; config: ServerConfig } | { kind: "error"; message: string }

const logLevels: readonly LevelWithSilent[] = ["fatal", "error", "warn", "info", "debug", "trace", "silent"]

const settings = {
  port: { flag: "--port", env: "SIGNAL_PORT" },
  host: { flag: "--host", env: "SIGNAL_HOST" },
  dataDir: { flag: "--data-dir", env: "SIGNAL_DATA_DIR" },
  webRoot: { flag: "--web-root", env: "SIGNAL_WEB_ROOT" },
  logLevel: { flag: "--log-level", env: "SIGNAL_LOG_LEVEL" },
  config: { flag: "--config", env: "SIGNAL_CONFIG" },
  trustedProxies: { flag: "--trusted-proxies", env: "SIGNAL_TRUSTED_PROXIES" },
  corsOrigin: { flag: "--cors-origin", env: "SIGNAL_CORS_ORIGIN" },
  retentionDays: { flag: "--retention-days", env: "SIGNAL_RETENTION_DAYS" },
  spaceQuotaBytes: { flag: "--space-quota-bytes", env: "SIGNAL_SPACE_QUOTA_BYTES" },
  vapidSubject: { flag: "--vapid-subject", env: "SIGNAL_VAPID_SUBJECT" },
  shutdownGraceMs: { flag: "--shutdown-grace-ms", env: "SIGNAL_SHUTDOWN_GRACE_MS" },
} as const
type SettingName = keyof typeof settings

/** Names the first problem of a zod error by path, without echoing values (they may be secrets). */
function describeIssues(error: z.ZodError): string {
  const issue = error.issues[0]
  if (issue === undefined) return "invalid"
  const path = issue.path.length > 0 ? issue.path.join(".") : "(root)"
  return `${path}: ${issue.message}`
}

/**
 * Reads the server settings: a flag (`--port 8080` or `--port=8080`) wins over the environment
 * variable, which wins over the default; the dedicated flags win over the `--config` JSON file.
 * Pure but for `readText`, so the start-up errors can be tested.
 */
export function parseServerConfig(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  readText: (path: string) => string = () => {
    throw new Error("no file reader")
  },
): ServerConfigResult {
  const fromFlags: Partial<Record<SettingName, string>> = {}
  const byFlag = new Map(Object.entries(settings).map(([name, s]) => [s.flag as string, name as SettingName]))
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? ""
    const eq = arg.indexOf("=")
    const flag = eq >= 0 ? arg.slice(0, eq) : arg
    const name = byFlag.get(flag)
    if (name === undefined) return { kind: "error", message: `unknown argument ${JSON.stringify(arg)}` }
    const value = eq >= 0 ? arg.slice(eq + 1) : argv[++i]
    if (value === undefined) return { kind: "error", message: `${flag} needs a value` }
    fromFlags[name] = value
  }
  const raw = (name: SettingName): { value: string; source: string } | undefined => {
    const flagValue = fromFlags[name]
    if (flagValue !== undefined) return { value: flagValue, source: settings[name].flag }
    const envValue = env[settings[name].env]
    if (envValue !== undefined && envValue !== "") return { value: envValue, source: settings[name].env }
    return undefined
  }
  const error = (source: string, message: string): ServerConfigResult => ({
    kind: "error",
    message: `${source}: ${message}`,
  })

  const port = raw("port")
  let portNumber = 8080
  if (port !== undefined) {
    portNumber = /^\d{1,5}$/.test(port.value) ? Number(port.value) : NaN
    if (!(portNumber >= 0 && portNumber <= 65535)) {
      return error(port.source, `expected a port 0..65535, got ${JSON.stringify(port.value)}`)
    }
  }

  const host = raw("host")
  const hostValue = host?.value ?? "127.0.0.1"
  if (!/^[A-Za-z0-9.:-]+$/.test(hostValue)) {
    return error(host?.source ?? "host", `not a host name or address: ${JSON.stringify(hostValue)}`)
  }

  const dataDir = raw("dataDir")
  const dataDirValue = dataDir?.value ?? "./.vigil-data/signal"
  if (dataDirValue.trim() === "") return error(dataDir?.source ?? "data dir", "must not be empty")

  const webRoot = raw("webRoot")
  if (webRoot !== undefined && webRoot.value.trim() === "") return error(webRoot.source, "must not be empty")

  const logLevel = raw("logLevel")
  const logLevelValue = (logLevel?.value ?? "info") as LevelWithSilent
  if (!logLevels.includes(logLevelValue)) {
    return error(logLevel?.source ?? "log level", `expected one of ${logLevels.join(", ")}`)
  }

  let signal: Partial<SignalConfig> = {}
  const configFile = raw("config")
  if (configFile !== undefined) {
    let parsedJson: unknown
    try {
      parsedJson = JSON.parse(readText(configFile.value))
    } catch (err) {
      const why = err instanceof SyntaxError ? "not valid JSON" : (err as Error).message
      return error(configFile.source, `cannot read ${configFile.value}: ${why}`)
    }
    const checked = signalConfigSchema.safeParse(parsedJson)
    if (!checked.success) return error(configFile.source, describeIssues(checked.error))
    signal = checked.data as Partial<SignalConfig>
  }

  const proxies = raw("trustedProxies")
  if (proxies !== undefined) {
    const list = proxies.value
      .split(",")
      .map((s) => s.trim())
      .filter((s) => s !== "")
    const bad = list.find((entry) => !isAddressOrCidr(entry))
    if (bad !== undefined)
      return error(proxies.source, `not an IP address or CIDR block: ${JSON.stringify(bad)}`)
    signal.trustedProxies = list
  }

  const cors = raw("corsOrigin")
  if (cors !== undefined) {
    if (!isOrigin(cors.value)) return error(cors.source, "expected an origin such as https://app.example")
    signal.corsOrigin = cors.value
  }

  const retention = raw("retentionDays")
  if (retention !== undefined) {
    const days = /^\d{1,5}(\.\d+)?$/.test(retention.value) ? Number(retention.value) : NaN
    if (!(days > 0)) return error(retention.source, "expected a positive number of days")
    signal.retentionMs = Math.round(days * day)
  }

  const quota = raw("spaceQuotaBytes")
  if (quota !== undefined) {
    if (!/^\d{1,16}$/.test(quota.value)) return error(quota.source, "expected a number of bytes")
    signal.spaceQuotaBytes = Number(quota.value)
  }

  const vapid = raw("vapidSubject")
  const vapidSubject = vapid?.value ?? "mailto:vigil-relay@localhost"
  if (!/^(mailto:[^\s@]+@[^\s@]+|https:\/\/\S+)$/.test(vapidSubject)) {
    return error(vapid?.source ?? "vapid subject", "expected mailto:someone@example.org or an https: URL")
  }

  const grace = raw("shutdownGraceMs")
  let shutdownGraceMs = 30_000
  if (grace !== undefined) {
    if (!/^\d{1,7}$/.test(grace.value)) return error(grace.source, "expected milliseconds")
    shutdownGraceMs = Number(grace.value)
  }

  return {
    kind: "ok",
    config: {
      port: portNumber,
      host: hostValue,
      dataDir: dataDirValue,
      webRoot: webRoot?.value,
      logLevel: logLevelValue,
      vapidSubject,
      shutdownGraceMs,
      signal,
    },
  }
}
