import { describe, expect, it } from "vitest"
import { addressGroup, createAddressResolver, normalizeAddress } from "./clientAddress.ts"

describe("createAddressResolver", () => {
  it("uses the TCP peer and ignores X-Forwarded-For without trusted proxies", () => {
    const resolve = createAddressResolver([])
    expect(resolve("::ffff:203.0.113.7", "1.2.3.4")).toBe("203.0.113.7")
  })

  it("ignores X-Forwarded-For from an untrusted peer", () => {
    const resolve = createAddressResolver(["10.0.0.1"])
    expect(resolve("203.0.113.7", "1.2.3.4")).toBe("203.0.113.7")
  })

  it("takes the right-most untrusted hop when the peer is a trusted proxy", () => {
    const resolve = createAddressResolver(["10.0.0.1", "172.16.0.0/12"])
    // The client prepended a fake hop; the proxies appended the real one.
    expect(resolve("10.0.0.1", "6.6.6.6, 198.51.100.9, 172.20.1.1")).toBe("198.51.100.9")
    expect(resolve("::ffff:10.0.0.1", ["6.6.6.6", "198.51.100.9"])).toBe("198.51.100.9")
    expect(resolve("10.0.0.1", undefined)).toBe("10.0.0.1")
    // Only trusted hops: the left-most is as far as we can see, but we keep the peer.
    expect(resolve("10.0.0.1", "172.16.0.5")).toBe("10.0.0.1")
    // Garbage in the header: do not guess.
    expect(resolve("10.0.0.1", "6.6.6.6, not-an-ip")).toBe("10.0.0.1")
  })

  it("supports IPv6 proxies", () => {
    const resolve = createAddressResolver(["::1", "fd00::/8"])
    expect(resolve("::1", "2001:db8::1")).toBe("2001:db8::1")
    expect(resolve("fd12::3", "2001:db8::2, fd00::9")).toBe("2001:db8::2")
  })
})

describe("addressGroup", () => {
  it("keeps IPv4 and cuts IPv6 to its /64", () => {
    expect(addressGroup("::ffff:192.0.2.1")).toBe("192.0.2.1")
    expect(addressGroup("2001:db8:1:2:aaaa::1")).toBe("2001:0db8:0001:0002::/64")
    expect(addressGroup("2001:db8:1:2::99")).toBe("2001:0db8:0001:0002::/64")
    expect(addressGroup("::1")).toBe("0000:0000:0000:0000::/64")
    expect(normalizeAddress(" 2001:DB8::1 ")).toBe("2001:db8::1")
  })
})
