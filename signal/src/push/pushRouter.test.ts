import { describe, expect, it } from "vitest"
import { defaultSignalConfig } from "../config.ts"
import { isAllowedPushEndpoint } from "./pushRouter.ts"

describe("isAllowedPushEndpoint", () => {
  const hosts = defaultSignalConfig.pushHosts
  it.each([
    ["https://fcm.googleapis.com/fcm/send/abc", true],
    ["https://updates.push.services.mozilla.com/wpush/v2/x", true],
    ["https://web.push.apple.com/QGx", true],
    ["https://wns2-by3p.notify.windows.com/w/?token=x", true],
    ["http://fcm.googleapis.com/fcm/send/abc", false],
    ["https://fcm.googleapis.com:8443/x", false],
    ["https://user:pw@fcm.googleapis.com/x", false],
    ["https://fcm.googleapis.com.evil.example/x", false],
    ["https://evilfcm.googleapis.com.example/x", false],
    ["https://127.0.0.1/x", false],
    ["https://localhost/x", false],
    ["not a url", false],
  ])("%s → %s", (endpoint, allowed) => {
    expect(isAllowedPushEndpoint(endpoint, hosts)).toBe(allowed)
  })
})
