import type { LevelWithSilent } from "pino"

/** Limits and options of the HTTP app. Byte sizes are bytes, durations milliseconds. */
export interface SignalConfig {
  /** Largest blob a PUT may upload (413 TOO_LARGE past it). */
  maxBlobBytes: number
  /** Largest mailbox message. */
  maxMessageBytes: number
  /** Pending messages a mailbox may hold before sends get 429 MAILBOX_FULL. */
  maxMailboxMessages: number
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
}

export const defaultSignalConfig: Readonly<SignalConfig> = Object.freeze({
  maxBlobBytes: 256 * 1024 * 1024,
  maxMessageBytes: 256 * 1024,
  maxMailboxMessages: 10_000,
  maxRoomMessageBytes: 16 * 1024,
  maxRoomMessages: 32,
  roomTtlMs: 15 * 60 * 1000,
  roomTombstoneMs: 24 * 60 * 60 * 1000,
})

/** The defaults with the given fields replaced. */
export function resolveSignalConfig(overrides: Partial<SignalConfig> = {}): SignalConfig {
  return { ...defaultSignalConfig, ...overrides }
}

/** Settings of the `server.ts` process (flags and environment). */
export interface ServerConfig {
  port: number
  host: string
  dataDir: string
  webRoot: string | undefined
  logLevel: LevelWithSilent
}

export type ServerConfigResult = { kind: "ok"; config: ServerConfig } | { kind: "error"; message: string }

const logLevels: readonly LevelWithSilent[] = ["fatal", "error", "warn", "info", "debug", "trace", "silent"]

const settings = {
  port: { flag: "--port", env: "SIGNAL_PORT" },
  host: { flag: "--host", env: "SIGNAL_HOST" },
  dataDir: { flag: "--data-dir", env: "SIGNAL_DATA_DIR" },
  webRoot: { flag: "--web-root", env: "SIGNAL_WEB_ROOT" },
  logLevel: { flag: "--log-level", env: "SIGNAL_LOG_LEVEL" },
} as const
type SettingName = keyof typeof settings

/**
 * Reads the server settings: a flag (`--port 8080` or `--port=8080`) wins over the environment
 * variable, which wins over the default. Pure, so the start-up errors can be tested.
 */
export function parseServerConfig(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
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

  const port = raw("port")
  let portNumber = 8080
  if (port !== undefined) {
    portNumber = /^\d{1,5}$/.test(port.value) ? Number(port.value) : NaN
    if (!(portNumber >= 0 && portNumber <= 65535)) {
      return {
        kind: "error",
        message: `${port.source}: expected a port 0..65535, got ${JSON.stringify(port.value)}`,
      }
    }
  }

  const host = raw("host")
  const hostValue = host?.value ?? "127.0.0.1"
  if (!/^[A-Za-z0-9.:-]+$/.test(hostValue)) {
    return {
      kind: "error",
      message: `${host?.source ?? "host"}: not a host name or address: ${JSON.stringify(hostValue)}`,
    }
  }

  const dataDir = raw("dataDir")
  const dataDirValue = dataDir?.value ?? "./.vigil-data/signal"
  if (dataDirValue.trim() === "")
    return { kind: "error", message: `${dataDir?.source ?? "data dir"}: must not be empty` }

  const webRoot = raw("webRoot")
  if (webRoot !== undefined && webRoot.value.trim() === "") {
    return { kind: "error", message: `${webRoot.source}: must not be empty` }
  }

  const logLevel = raw("logLevel")
  const logLevelValue = (logLevel?.value ?? "info") as LevelWithSilent
  if (!logLevels.includes(logLevelValue)) {
    return {
      kind: "error",
      message: `${logLevel?.source ?? "log level"}: expected one of ${logLevels.join(", ")}`,
    }
  }

  return {
    kind: "ok",
    config: {
      port: portNumber,
      host: hostValue,
      dataDir: dataDirValue,
      webRoot: webRoot?.value,
      logLevel: logLevelValue,
    },
  }
}
