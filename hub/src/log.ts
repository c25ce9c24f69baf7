import { pino, type Logger } from "pino"

export type { Logger }

/**
 * The hub's one structured logger: JSON lines on stderr, level from LOG_LEVEL (default info). Person-facing
 * CLI output goes to stdout separately (see cli.ts), so the two never mix.
 */
export function createLogger(name = "hub"): Logger {
  return pino({ name, level: process.env.LOG_LEVEL ?? "info" }, pino.destination(2))
}
