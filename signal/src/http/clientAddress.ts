import { BlockList, isIP } from "node:net"

/** "::ffff:1.2.3.4" → "1.2.3.4"; other addresses unchanged (lowercased). */
export function normalizeAddress(address: string): string {
  const lower = address.trim().toLowerCase()
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/.exec(lower)
  return mapped?.[1] ?? lower
}

function expandIpv6(address: string): string[] | undefined {
  const [head = "", tail, ...more] = address.split("::")
  if (more.length > 0) return undefined
  const parse = (part: string): string[] => (part === "" ? [] : part.split(":"))
  let left = parse(head)
  let right = tail === undefined ? [] : parse(tail)
  // An embedded IPv4 tail ("::1.2.3.4") counts as two groups.
  const convert = (groups: string[]): string[] =>
    groups.flatMap((g) => {
      if (!g.includes(".")) return [g]
      const b = g.split(".").map(Number)
      return [
        (((b[0] ?? 0) << 8) | (b[1] ?? 0)).toString(16),
        (((b[2] ?? 0) << 8) | (b[3] ?? 0)).toString(16),
      ]
    })
  left = convert(left)
  right = convert(right)
  const missing = 8 - left.length - right.length
  if (tail === undefined ? missing !== 0 : missing < 0) return undefined
  return [...left, ...Array<string>(Math.max(0, missing)).fill("0"), ...right].map((g) => g.padStart(4, "0"))
}

/**
 * The "public address" two devices of one household share: an IPv4 address as is, an IPv6 address
 * cut to its /64 prefix (each IPv6 device picks its own interface id, but a home gets one /64).
 */
export function addressGroup(address: string): string {
  const normalized = normalizeAddress(address)
  if (isIP(normalized) !== 6) return normalized
  const groups = expandIpv6(normalized)
  return groups === undefined ? normalized : `${groups.slice(0, 4).join(":")}::/64`
}

/**
 * Resolves a request's client address. The TCP peer is the client unless it is one of the trusted
 * proxies (addresses or CIDR blocks); then `X-Forwarded-For` is read from the right, skipping
 * trusted proxies, and the first untrusted valid address is the client. Anything a client prepends
 * to the header is therefore ignored.
 */
export function createAddressResolver(
  trustedProxies: readonly string[],
): (peer: string | undefined, forwardedFor: string | string[] | undefined) => string {
  const trusted = new BlockList()
  for (const entry of trustedProxies) {
    const [address = "", prefix] = entry.split("/")
    const family = isIP(address) === 6 ? "ipv6" : "ipv4"
    if (prefix === undefined) trusted.addAddress(normalizeAddress(address), family)
    else trusted.addSubnet(normalizeAddress(address), Number(prefix), family)
  }
  const isTrusted = (address: string): boolean => {
    const family = isIP(address)
    if (family === 0) return false
    return trusted.check(address, family === 6 ? "ipv6" : "ipv4")
  }

  return (peer, forwardedFor) => {
    const direct = normalizeAddress(peer ?? "")
    if (trustedProxies.length === 0 || !isTrusted(direct) || forwardedFor === undefined) return direct
    const hops = (Array.isArray(forwardedFor) ? forwardedFor.join(",") : forwardedFor)
      .split(",")
      .map((h) => normalizeAddress(h))
    for (let i = hops.length - 1; i >= 0; i--) {
      const hop = hops[i] ?? ""
      // A malformed hop was written by someone we do not trust: stop and use what we know.
      if (isIP(hop) === 0) return direct
      if (!isTrusted(hop)) return hop
    }
    return direct
  }
}
