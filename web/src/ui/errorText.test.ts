import { CodecError, CryptoError, SignalError, VigilError, errorCodes, type ErrorCode } from "@vigil/protocol"
import { describe, expect, it } from "vitest"
import { errorSentence, errorTexts, explainError } from "./errorText.ts"

const sentence = /^[A-Z].*[.]$/

describe("the error table", () => {
  it.each(errorCodes.map((code) => [code]))("explains %s in words and says what to do", (code) => {
    const text = (errorTexts as Record<string, { what: string; next: string } | undefined>)[code]
    expect(text, `no sentence for ${code} in web/src/ui/errorText.ts`).toBeDefined()
    expect(text!.what).toMatch(sentence)
    expect(text!.next).toMatch(sentence)
    expect(text!.what).not.toContain(code)
  })

  it("has no entry for a code that does not exist", () => {
    expect(Object.keys(errorTexts).sort()).toEqual([...errorCodes].sort())
  })

  it("reads the code of any VigilError, never its message", () => {
    const err = new CryptoError("CLIP_TAMPERED", "chunk 3 failed authentication")
    expect(errorSentence(err)).toContain("altered")
    expect(errorSentence(err)).not.toContain("chunk 3")
    expect(explainError(new CodecError("bad bytes"))).toBe(errorTexts.CODEC_INVALID)
    const every = errorCodes.map((code: ErrorCode) => explainError(new VigilError(code, "x")))
    expect(every).toEqual(errorCodes.map((code) => errorTexts[code]))
  })

  it("tells relay failures apart by status and relay code", () => {
    expect(explainError(new SignalError(0, "NETWORK", "cannot reach relay: x"))).toBe(
      errorTexts.RELAY_UNREACHABLE,
    )
    expect(explainError(new SignalError(413, "QUOTA_EXCEEDED", "x"))).toBe(errorTexts.QUOTA_EXCEEDED)
    expect(explainError(new SignalError(503, "HTTP_ERROR", "x"))).toBe(errorTexts.RELAY_UNAVAILABLE)
    expect(errorSentence(new SignalError(429, "ROOM_FULL", "x"))).toContain("pairing at once")
  })

  it("explains network failures, browser refusals and anything else", () => {
    expect(errorSentence(new TypeError("Failed to fetch"))).toContain("network cannot be reached")
    expect(errorSentence(new DOMException("denied", "NotAllowedError"))).toContain("did not allow")
    expect(errorSentence(new Error("x is undefined"))).toBe(
      "Something went wrong. Please report this, with the time it happened; reloading the app may help meanwhile.",
    )
    expect(errorSentence("a string")).toMatch(/^Something went wrong/)
  })
})
