import { describe, expect, it } from "vitest"
import { isAllowedPushEndpoint } from "./pushRouter.ts"

describe("isAllowedPushEndpoint", () => {
  // Fictitious services stand in for the ones an operator would list (docs/04-relay.md).
  const hosts = ["push.example", "notify.example.net"]
  it.each([
    ["https://push.example/send/abc", true],
    ["https://eu.push.example/wpush/v2/x", true],
    ["https://wns2.notify.example.net/w/?token=x", true],
    ["http://push.example/send/abc", false],
    ["https://push.example:8443/x", false],
    ["https://user:pw@push.example/x", false],
    ["https://push.example.evil.example/x", false],
    ["https://evilpush.example.org/x", false],
    ["https://127.0.0.1/x", false],
    ["https://localhost/x", false],
    ["not a url", false],
  ])("%s → %s", (endpoint, allowed) => {
    expect(isAllowedPushEndpoint(endpoint, hosts)).toBe(allowed)
  })
})

describe("push service allow-list", () => {
  it("is empty by default: the relay contacts no push service the operator did not name", async () => {
    const { defaultSignalConfig } = await import("../config.ts")
    expect(defaultSignalConfig.pushHosts).toEqual([])
    expect(isAllowedPushEndpoint("https://push.example/send/abc", defaultSignalConfig.pushHosts)).toBe(false)
  })
})
