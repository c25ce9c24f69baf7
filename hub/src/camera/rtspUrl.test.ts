import { describe, expect, it } from "vitest"
import { CameraConfigError } from "../errors.ts"
import { credentialsOf, withCredentials, withoutCredentials } from "./rtspUrl.ts"

describe("withCredentials", () => {
  it.each([
    ["p@ss", "p%40ss"],
    ["a:b", "a%3Ab"],
    ["a/b", "a%2Fb"],
    ["50%off", "50%25off"],
    ["two words", "two%20words"],
    ["#?[]", "%23%3F%5B%5D"],
  ])("percent-encodes the password %j so it reads back whole", (password, encoded) => {
    const url = withCredentials("rtsp://192.168.1.20:554/stream1", "admin", password)
    expect(url).toBe(`rtsp://admin:${encoded}@192.168.1.20:554/stream1`)
    expect(credentialsOf(url)).toEqual({ username: "admin", password })
    expect(new URL(url).host).toBe("192.168.1.20:554")
  })

  it("replaces credentials already in the URL, and keeps the path and query", () => {
    expect(withCredentials("rtsp://old:gone@cam.local/live?channel=1&subtype=0", "new user", "x")).toBe(
      "rtsp://new%20user:x@cam.local/live?channel=1&subtype=0",
    )
  })

  it("leaves the URL alone without a user name, and removes credentials with an empty one", () => {
    expect(withCredentials("rtsp://a:b@cam/x")).toBe("rtsp://a:b@cam/x")
    expect(withCredentials("rtsp://a:b@cam/x", "", "ignored")).toBe("rtsp://cam/x")
    expect(withCredentials("rtsp://cam/x", "viewer")).toBe("rtsp://viewer@cam/x")
  })

  it("works with an IPv6 host and with rtsps", () => {
    expect(withCredentials("rtsp://[fe80::1]:8554/h264", "admin", "p@ss")).toBe(
      "rtsp://admin:p%40ss@[fe80::1]:8554/h264",
    )
    expect(withCredentials("rtsps://192.168.1.20:322/s0", "admin", "pw")).toBe(
      "rtsps://admin:pw@192.168.1.20:322/s0",
    )
  })

  it("refuses what is not a URL with a host, without repeating it", () => {
    expect(() => withCredentials("rtsp://admin:pa/ss@cam/x", "admin", "pw")).toThrow(CameraConfigError)
    expect(() => withCredentials("rtsp:cam", "admin", "pw")).toThrow(/must look like rtsp:\/\/host\/path$/)
  })
})

describe("withoutCredentials", () => {
  it("removes user and password", () => {
    expect(withoutCredentials("rtsp://admin:p%40ss@192.168.1.20:554/stream1")).toBe(
      "rtsp://192.168.1.20:554/stream1",
    )
    expect(withoutCredentials("rtsps://admin@[::1]/s0")).toBe("rtsps://[::1]/s0")
    expect(withoutCredentials("rtsp://192.168.1.20/stream1")).toBe("rtsp://192.168.1.20/stream1")
  })

  it("removes a password typed with bare @ whole, and strips even what does not parse", () => {
    expect(withoutCredentials("rtsp://admin:p@ss@192.168.1.20/s")).toBe("rtsp://192.168.1.20/s")
    expect(withoutCredentials("rtsp://admin:pa ss@cam:port/x")).toBe("rtsp://cam:port/x")
  })
})

describe("credentialsOf", () => {
  it("decodes what is in the URL, as typed or encoded", () => {
    expect(credentialsOf("rtsp://admin:p%40ss%20w%2Frd%3A%25@cam/x")).toEqual({
      username: "admin",
      password: "p@ss w/rd:%",
    })
    expect(credentialsOf("rtsp://admin:p@ss@cam/x")).toEqual({ username: "admin", password: "p@ss" })
    expect(credentialsOf("rtsp://admin:50%off@cam/x")).toEqual({ username: "admin", password: "50%off" })
    expect(credentialsOf("rtsp://viewer@[::1]/x")).toEqual({ username: "viewer" })
  })

  it("finds nothing where there is nothing", () => {
    expect(credentialsOf("rtsp://cam/x")).toEqual({})
    expect(credentialsOf("not a url")).toEqual({})
  })
})
