import { pino, type DestinationStream, type LevelWithSilent, type Logger } from "pino"

export type { Logger }

export interface LoggerOptions {
  /** Default "info". Tests use "silent". */
  level?: LevelWithSilent
  /** Default stdout. The server passes stderr so stdout carries only the "listening" line. */
  destination?: DestinationStream
}

/**
 * The relay's one logger factory. Handlers log ids, sizes and statuses only: never tokens, never
 * bodies. The redaction list is a second line of defence against someone logging a request object.
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  return pino(
    {
      name: "signal",
      level: options.level ?? "info",
      redact: {
        paths: [
          "token",
          "*.token",
          "body",
          "*.body",
          "authorization",
          "headers.authorization",
          "req.headers.authorization",
          "req.headers.cookie",
        ],
        censor: "[redacted]",
      },
    },
    options.destination,
  )
}
