/** Small byte helpers that work the same in Node and in browsers (no Buffer). */

import { CodecError } from "./errors.ts"

export const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s)
export const fromUtf8 = (b: Uint8Array): string => new TextDecoder("utf-8", { fatal: true }).decode(b)

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  let length = 0
  for (const p of parts) length += p.length
  const out = new Uint8Array(length)
  let offset = 0
  for (const p of parts) {
    out.set(p, offset)
    offset += p.length
  }
  return out
}

export function toHex(b: Uint8Array): string {
  let s = ""
  for (const x of b) s += x.toString(16).padStart(2, "0")
  return s
}

export function fromHex(s: string): Uint8Array {
  if (s.length % 2 !== 0 || !/^[0-9a-f]*$/i.test(s)) throw new CodecError("invalid hex string")
  const out = new Uint8Array(s.length / 2)
  for (let i = 0; i < out.length; i++) out[i] = parseInt(s.slice(i * 2, i * 2 + 2), 16)
  return out
}

export function toBase64(b: Uint8Array): string {
  let bin = ""
  const step = 0x8000
  for (let i = 0; i < b.length; i += step) bin += String.fromCharCode(...b.subarray(i, i + step))
  return btoa(bin)
}

export function fromBase64(s: string): Uint8Array {
  let bin: string
  try {
    bin = atob(s)
  } catch (cause) {
    throw new CodecError("invalid base64", { cause })
  }
  const out = new Uint8Array(bin.length)
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i)
  return out
}

export const toBase64Url = (b: Uint8Array): string =>
  toBase64(b).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "")

export function fromBase64Url(s: string): Uint8Array {
  if (!/^[A-Za-z0-9_-]*$/.test(s)) throw new CodecError("invalid base64url")
  const padded = s.replaceAll("-", "+").replaceAll("_", "/") + "===".slice((s.length + 3) % 4)
  return fromBase64(padded)
}

/** Constant-time comparison for secrets and tags of equal public length. */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  let diff = 0
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!
  return diff === 0
}

export function randomBytes(n: number): Uint8Array {
  const out = new Uint8Array(n)
  // getRandomValues fills at most 65,536 bytes per call.
  for (let i = 0; i < n; i += 65536) crypto.getRandomValues(out.subarray(i, Math.min(n, i + 65536)))
  return out
}

/**
 * WebCrypto wants an ArrayBuffer-backed view; TypeScript 5.9's lib types distinguish it from a view over a
 * SharedArrayBuffer. Every Uint8Array in this codebase is ArrayBuffer-backed, so this is a type-level cast.
 */
export const bufferSource = (b: Uint8Array): Uint8Array<ArrayBuffer> => b as Uint8Array<ArrayBuffer>

export async function sha256(data: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", bufferSource(data)))
}
