import { createHash, randomBytes, timingSafeEqual } from "node:crypto"
import type { RequestHandler, Response } from "express"
import { ApiError } from "../errors.ts"
import type { DeviceRecord, MetaStore } from "../store/metaStore.ts"

/** 32 random bytes, base64url: 43 characters. */
const tokenPattern = /^[A-Za-z0-9_-]{43}$/

/** A fresh bearer token. The server hands it out once and keeps only its hash. */
export function createToken(): string {
  return randomBytes(32).toString("base64url")
}

/** SHA-256 of a token as lowercase hex: what the store keeps. */
export function hashToken(token: string): string {
  return createHash("sha256").update(token, "utf8").digest("hex")
}

function bearerToken(header: string | undefined): string | undefined {
  if (header === undefined) return undefined
  const match = /^Bearer ([^\s]+)$/i.exec(header.trim())
  const token = match?.[1]
  return token !== undefined && tokenPattern.test(token) ? token : undefined
}

/** Middleware: resolves `Authorization: Bearer <token>` to a device, or answers 401 UNAUTHENTICATED. */
export function authenticate(store: MetaStore): RequestHandler {
  return async (req, res, next) => {
    const token = bearerToken(req.headers.authorization)
    if (token === undefined) throw new ApiError("UNAUTHENTICATED", "missing or malformed bearer token")
    const hash = hashToken(token)
    const device = await store.findDeviceByTokenHash(hash)
    // The lookup is by hash, so its timing reveals nothing about the token; the constant-time
    // comparison keeps that true for any store implementation that matches loosely.
    if (
      device === undefined ||
      !timingSafeEqual(Buffer.from(device.tokenHash, "hex"), Buffer.from(hash, "hex"))
    ) {
      throw new ApiError("UNAUTHENTICATED", "unknown token")
    }
    res.locals.device = device
    next()
  }
}

/** The device `authenticate` put on the response; throws if the route forgot the middleware. */
export function authenticatedDevice(res: Response): DeviceRecord {
  const device: unknown = res.locals.device
  if (device === undefined) throw new Error("route is missing the authenticate middleware")
  return device as DeviceRecord
}
