import { createHash, randomBytes, timingSafeEqual } from "node:crypto"
import type { RequestHandler, Response } from "express"
import { ApiError } from "../errors.ts"
import type { DeviceRecord, MetaStore } from "../store/metaStore.ts"
import type { AppContext } from "./context.ts"

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
  return match?.[1]
}

/**
 * The device holding `token`, or undefined. Looks up by the token's hash, then compares in constant
 * time, so that stays true for any store implementation that matches loosely.
 */
export async function findDeviceByToken(store: MetaStore, token: unknown): Promise<DeviceRecord | undefined> {
  if (typeof token !== "string" || !tokenPattern.test(token)) return undefined
  const hash = hashToken(token)
  const device = await store.findDeviceByTokenHash(hash)
  if (device === undefined) return undefined
  const stored = Buffer.from(device.tokenHash, "hex")
  const given = Buffer.from(hash, "hex")
  return stored.length === given.length && timingSafeEqual(stored, given) ? device : undefined
}

/**
 * Middleware: resolves `Authorization: Bearer <token>` to a device, or answers 401 UNAUTHENTICATED;
 * then charges the device's rate limit (429 RATE_LIMITED).
 */
export function authenticate(
  ctx: Pick<AppContext, "store" | "deviceLimiter" | "metrics"> & Partial<Pick<AppContext, "hubWatch">>,
): RequestHandler {
  return async (req, res, next) => {
    const token = bearerToken(req.headers.authorization)
    if (token === undefined) throw new ApiError("UNAUTHENTICATED", "missing or malformed bearer token")
    const device = await findDeviceByToken(ctx.store, token)
    if (device === undefined) throw new ApiError("UNAUTHENTICATED", "unknown token")
    const taken = ctx.deviceLimiter.take(`device:${device.deviceId}`)
    if (!taken.ok) {
      ctx.metrics.rateLimited.inc({ scope: "device" })
      throw new ApiError("RATE_LIMITED", "too many requests from this device", {
        "Retry-After": String(Math.ceil(taken.retryAfterMs / 1000)),
      })
    }
    res.locals.device = device
    // A hub's every request says it is alive (its mailbox long poll runs all the time).
    if (device.kind === "hub") ctx.hubWatch?.heard(device.deviceId)
    next()
  }
}

/** The device `authenticate` put on the response; throws if the route forgot the middleware. */
export function authenticatedDevice(res: Response): DeviceRecord {
  const device: unknown = res.locals.device
  if (device === undefined) throw new Error("route is missing the authenticate middleware")
  return device as DeviceRecord
}
