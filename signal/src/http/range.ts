import type { ByteRange } from "../store/blobStore.ts"

export type RangeRequest =
  { kind: "full" } | { kind: "partial"; range: ByteRange } | { kind: "unsatisfiable" }

/**
 * Interprets a `Range` header for a resource of `size` bytes (RFC 9110 §14). Only one range in
 * bytes units is supported: anything else (other units, several ranges, bad syntax) is ignored and
 * the full body is sent, which the RFC allows. A range that starts past the end, an empty suffix,
 * or `last < first` is unsatisfiable (416).
 */
export function parseRange(header: string | undefined, size: number): RangeRequest {
  if (header === undefined) return { kind: "full" }
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim())
  if (match === null) return { kind: "full" }
  const first = match[1] ?? ""
  const last = match[2] ?? ""
  if (first === "" && last === "") return { kind: "full" }

  if (first === "") {
    const suffix = Number(last)
    if (suffix === 0 || size === 0) return { kind: "unsatisfiable" }
    return { kind: "partial", range: { start: Math.max(0, size - suffix), end: size - 1 } }
  }

  const start = Number(first)
  const end = last === "" ? size - 1 : Number(last)
  if (end < start || start >= size) return { kind: "unsatisfiable" }
  return { kind: "partial", range: { start, end: Math.min(end, size - 1) } }
}
