import { SignalError, VigilError } from "@vigil/protocol"

/** An error as one log field: its stable code when it has one, then its message. */
export function describe(err: unknown): string {
  if (err instanceof VigilError || err instanceof SignalError) return `${err.code}: ${err.message}`
  return err instanceof Error ? err.message : String(err)
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
