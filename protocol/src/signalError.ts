import { VigilError, relayErrorCode } from "./errors.ts"

/**
 * A failed call: `status` is the HTTP status (0 when no answer), `relayCode` the relay's error code (or
 * NETWORK, ABORTED, BAD_RESPONSE, HTTP_ERROR from this client), `code` what that means for us.
 */
export class SignalError extends VigilError {
  readonly status: number
  readonly relayCode: string

  constructor(status: number, relayCode: string, message: string) {
    super(relayErrorCode(status, relayCode), message)
    this.status = status
    this.relayCode = relayCode
  }
}
