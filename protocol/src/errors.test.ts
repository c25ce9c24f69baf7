import { describe, expect, it } from "vitest"
import { VigilError, errorCodes, relayErrorCode } from "./errors.ts"
import { SignalError } from "./signalClient.ts"

describe("error codes", () => {
  it("are unique", () => {
    expect(new Set(errorCodes).size).toBe(errorCodes.length)
  })

  it("map relay failures to ours, keeping the names programs switch on", () => {
    expect(relayErrorCode(404, "NOT_FOUND")).toBe("NOT_FOUND")
    expect(relayErrorCode(429, "MAILBOX_FULL")).toBe("MAILBOX_FULL")
    expect(relayErrorCode(413, "QUOTA_EXCEEDED")).toBe("QUOTA_EXCEEDED")
    expect(relayErrorCode(0, "FORBIDDEN")).toBe("RELAY_UNAUTHORIZED") // over the WebSocket
    expect(relayErrorCode(0, "NETWORK")).toBe("RELAY_UNREACHABLE")
    expect(relayErrorCode(410, "ROOM_EXPIRED")).toBe("PAIRING_EXPIRED")
    // A proxy's page is judged by its status, and is never the relay's NOT_FOUND.
    expect(relayErrorCode(404, "HTTP_ERROR")).toBe("RELAY_REFUSED")
    expect(relayErrorCode(502, "HTTP_ERROR")).toBe("RELAY_UNAVAILABLE")
    expect(relayErrorCode(0, "toString")).toBe("RELAY_BAD_RESPONSE")
  })

  it("SignalError is a VigilError that keeps the status and the relay's code", () => {
    const err = new SignalError(429, "RATE_LIMITED", "slow down")
    expect(err).toBeInstanceOf(VigilError)
    expect(err).toMatchObject({
      name: "SignalError",
      status: 429,
      relayCode: "RATE_LIMITED",
      code: "RELAY_BUSY",
    })
  })
})
