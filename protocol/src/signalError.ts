/** A failed call: `status` is the HTTP status (0 when no answer), `code` the relay's error code. */
export class SignalError extends Error {
  readonly status: number
  readonly code: string

  constructor(status: number, code: string, message: string) {
    super(message)
    this.name = "SignalError"
    this.status = status
    this.code = code
  }
}
