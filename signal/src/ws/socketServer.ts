import { STATUS_CODES, type IncomingMessage } from "node:http"
import type { Duplex } from "node:stream"
import { WebSocketServer, type RawData, type WebSocket } from "ws"
import { z } from "zod"
import { ApiError, type ErrorCode } from "../errors.ts"
import { findDeviceByToken } from "../http/auth.ts"
import { addressGroup } from "../http/clientAddress.ts"
import type { AppContext } from "../http/context.ts"
import { pageSize } from "../http/longPoll.ts"
import { encodeWireMessage } from "../http/wireMessage.ts"
import type { DeviceId } from "../ids.ts"
import { mailboxKey } from "../mailbox/mailboxKey.ts"
import { relaySignal } from "../rtc-signal/relaySignal.ts"
import { clientFrameSchema, type ClientFrame, type ServerFrame } from "./frames.ts"
import type { LiveConnection } from "./liveDevices.ts"

/** The path WebSocket upgrades are served on. */
export const webSocketPath = "/v1/ws"

/** WebSocket close codes the relay uses besides the standard ones. */
export const closeCodes = {
  goingAway: 1001,
  tooBig: 1009,
  internal: 1011,
  slowReader: 1013,
  unauthenticated: 4401,
  tooManyConnections: 4429,
} as const

/** Frames a connection may have waiting to be handled before it is cut as abusive. */
const maxQueuedFrames = 64

export interface SocketServer {
  /** Handles an HTTP upgrade (`server.on("upgrade", …)`): `/v1/ws` only, everything else gets a JSON 4xx. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void
  /** Closes every socket with 1001 and stops the timers. */
  close(): void
  /** Open sockets, authenticated or not. */
  readonly connections: number
}

/** Answers an upgrade request with a JSON error, like the HTTP API does, and closes the socket. */
function refuse(
  socket: Duplex,
  status: number,
  code: ErrorCode,
  message: string,
  headers: Record<string, string> = {},
): void {
  const body = JSON.stringify({ error: { code, message } })
  const lines = [
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ""}`,
    "Content-Type: application/json; charset=utf-8",
    `Content-Length: ${Buffer.byteLength(body)}`,
    "Cache-Control: no-store",
    "X-Content-Type-Options: nosniff",
    "Connection: close",
    ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
  ]
  socket.end(`${lines.join("\r\n")}\r\n\r\n${body}`)
}

function describeZodError(err: z.ZodError): string {
  const fields = err.issues.map((i) => (i.path.length > 0 ? i.path.join(".") : "(root)"))
  return `invalid ${[...new Set(fields)].join(", ")}`
}

/** Origin checks: non-browser clients send none; browsers must be same-origin or the PWA origin. */
function originAllowed(req: IncomingMessage, corsOrigin: string | undefined): boolean {
  const origin = req.headers.origin
  if (origin === undefined) return true
  if (corsOrigin !== undefined && origin === corsOrigin) return true
  try {
    return new URL(origin).host === req.headers.host
  } catch {
    return false
  }
}

/**
 * The relay's WebSocket endpoint: authenticates with the first frame, then streams the device's
 * mailbox live (same message shape as `GET /v1/mailbox`) and relays WebRTC signalling between the
 * devices of a space. Frames are JSON; see `frames.ts` and docs/04-relay.md.
 */
export function createSocketServer(ctx: AppContext): SocketServer {
  const { config, logger, metrics } = ctx
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: config.maxWsMessageBytes,
    perMessageDeflate: false,
    clientTracking: false,
  })
  const sockets = new Set<{ ws: WebSocket; alive: boolean }>()
  let closed = false

  const heartbeat = setInterval(() => {
    for (const entry of sockets) {
      if (!entry.alive) {
        entry.ws.terminate()
        continue
      }
      entry.alive = false
      entry.ws.ping()
    }
  }, config.wsHeartbeatMs)
  heartbeat.unref()

  function serve(ws: WebSocket, address: string): void {
    const entry = { ws, alive: true }
    sockets.add(entry)
    metrics.wsConnections.inc()
    let connection: (LiveConnection & { deviceId: DeviceId }) | undefined
    let cursor: number | undefined
    let pumping = false
    let pumpAgain = false
    let stopListening: (() => void) | undefined
    let queue: Promise<void> = Promise.resolve()
    let queued = 0

    const sendRaw = (frame: ServerFrame, done?: () => void): boolean => {
      if (ws.readyState !== ws.OPEN) return false
      if (ws.bufferedAmount > config.wsMaxBufferedBytes) {
        // A reader this far behind would make us buffer without bound: drop it, it can reconnect.
        logger.debug({ deviceId: connection?.deviceId }, "dropping slow websocket reader")
        ws.terminate()
        return false
      }
      metrics.wsMessages.inc({ direction: "out", kind: frame.kind })
      ws.send(JSON.stringify(frame), done === undefined ? undefined : () => done())
      return true
    }
    const sendError = (code: ErrorCode, message: string, id?: string): void => {
      sendRaw(id === undefined ? { kind: "error", code, message } : { kind: "error", code, message, id })
    }

    const authTimer = setTimeout(() => {
      sendError("UNAUTHENTICATED", "authenticate with the first frame")
      ws.close(closeCodes.unauthenticated, "authentication timeout")
    }, config.wsAuthTimeoutMs)

    // Sends everything after `cursor`, one page at a time, waiting for each page to be written
    // so a long backlog is paced by the reader instead of piling up in memory.
    const pump = async (): Promise<void> => {
      if (connection === undefined || cursor === undefined) return
      if (pumping) {
        pumpAgain = true
        return
      }
      pumping = true
      try {
        do {
          pumpAgain = false
          for (;;) {
            const messages = await ctx.store.listMailbox(connection.deviceId, cursor, pageSize)
            const last = messages.at(-1)
            if (last === undefined || ws.readyState !== ws.OPEN) break
            cursor = last.seq
            const written = new Promise<void>((resolve) => {
              if (!sendRaw({ kind: "mailbox", messages: messages.map(encodeWireMessage) }, resolve)) resolve()
            })
            await written
          }
        } while (pumpAgain && ws.readyState === ws.OPEN)
      } finally {
        pumping = false
      }
    }
    const pumpSafely = (): void => {
      pump().catch((err: unknown) => {
        logger.error({ err, deviceId: connection?.deviceId }, "websocket mailbox delivery failed")
        ws.close(closeCodes.internal, "internal error")
      })
    }

    const handle = async (frame: ClientFrame): Promise<void> => {
      if (connection === undefined) {
        if (frame.kind !== "auth") {
          sendError("UNAUTHENTICATED", "the first frame must be auth", frame.id)
          ws.close(closeCodes.unauthenticated, "unauthenticated")
          return
        }
        const device = await findDeviceByToken(ctx.store, frame.token)
        if (device === undefined) {
          sendError("UNAUTHENTICATED", "unknown token", frame.id)
          ws.close(closeCodes.unauthenticated, "unauthenticated")
          return
        }
        if (ctx.live.count(device.deviceId) >= config.maxWsPerDevice) {
          sendError("RATE_LIMITED", "too many connections for this device", frame.id)
          ws.close(closeCodes.tooManyConnections, "too many connections")
          return
        }
        clearTimeout(authTimer)
        const deviceId = device.deviceId
        connection = {
          deviceId,
          send: (f) => sendRaw(f),
          close: (code, reason) => ws.close(code, reason),
        }
        ctx.live.add(connection)
        logger.debug({ deviceId, address }, "websocket authenticated")
        sendRaw(
          frame.id === undefined ? { kind: "ready", deviceId } : { kind: "ready", deviceId, id: frame.id },
        )
        return
      }

      const taken = ctx.deviceLimiter.take(`device:${connection.deviceId}`)
      if (!taken.ok) {
        metrics.rateLimited.inc({ scope: "device" })
        sendError("RATE_LIMITED", "too many frames from this device", frame.id)
        return
      }
      switch (frame.kind) {
        case "auth":
          sendError("VALIDATION", "already authenticated", frame.id)
          return
        case "subscribe":
          cursor = frame.after
          stopListening ??= ctx.notifier.listen(mailboxKey(connection.deviceId), pumpSafely)
          sendRaw(
            frame.id === undefined
              ? { kind: "subscribed", after: frame.after }
              : { kind: "subscribed", after: frame.after, id: frame.id },
          )
          pumpSafely()
          return
        case "ack":
          await ctx.store.ackMailbox(connection.deviceId, frame.upTo)
          sendRaw(
            frame.id === undefined
              ? { kind: "acked", upTo: frame.upTo }
              : { kind: "acked", upTo: frame.upTo, id: frame.id },
          )
          return
        case "signal": {
          const delivered = await relaySignal(
            ctx,
            connection.deviceId,
            frame.to,
            Buffer.from(frame.body, "base64"),
          )
          sendRaw(
            frame.id === undefined
              ? { kind: "signal-sent", delivered }
              : { kind: "signal-sent", delivered, id: frame.id },
          )
          return
        }
        case "ping":
          sendRaw(frame.id === undefined ? { kind: "pong" } : { kind: "pong", id: frame.id })
          return
      }
    }

    ws.on("pong", () => {
      entry.alive = true
    })
    ws.on("message", (data: RawData, isBinary: boolean) => {
      entry.alive = true
      if (isBinary) {
        metrics.wsMessages.inc({ direction: "in", kind: "invalid" })
        sendError("VALIDATION", "expected a JSON text frame")
        return
      }
      let frame: ClientFrame
      try {
        const text = Array.isArray(data)
          ? Buffer.concat(data).toString("utf8")
          : Buffer.from(data as ArrayBuffer).toString("utf8")
        frame = clientFrameSchema.parse(JSON.parse(text))
      } catch (err) {
        metrics.wsMessages.inc({ direction: "in", kind: "invalid" })
        sendError("VALIDATION", err instanceof z.ZodError ? describeZodError(err) : "malformed JSON")
        if (connection === undefined) ws.close(closeCodes.unauthenticated, "unauthenticated")
        return
      }
      metrics.wsMessages.inc({ direction: "in", kind: frame.kind })
      if (++queued > maxQueuedFrames) {
        sendError("RATE_LIMITED", "too many frames in flight")
        ws.close(1008, "too many frames in flight")
        return
      }
      queue = queue
        .then(() => handle(frame))
        .catch((err: unknown) => {
          if (err instanceof ApiError) {
            sendError(err.code, err.message, frame.id)
            return
          }
          logger.error({ err, deviceId: connection?.deviceId }, "websocket frame failed")
          sendError("INTERNAL", "internal error", frame.id)
        })
        .finally(() => {
          queued--
        })
    })
    ws.on("error", (err) => {
      // Protocol violations (oversized or malformed frames) end up here; ws closes the socket itself.
      logger.debug({ err: err.message, deviceId: connection?.deviceId }, "websocket error")
    })
    ws.once("close", () => {
      clearTimeout(authTimer)
      sockets.delete(entry)
      stopListening?.()
      if (connection !== undefined) ctx.live.remove(connection)
    })
  }

  return {
    handleUpgrade(req, socket, head) {
      // Without a listener, a reset during the handshake would be an uncaught 'error' event.
      socket.on("error", () => socket.destroy())
      const url = req.url ?? ""
      const path = url.split("?")[0]
      if (path !== webSocketPath) return refuse(socket, 404, "NOT_FOUND", "no websocket endpoint here")
      if (closed) return refuse(socket, 503, "UNAVAILABLE", "shutting down")
      const address = ctx.clientAddress(req)
      const taken = ctx.addressLimiter.take(`address:${addressGroup(address)}`)
      if (!taken.ok) {
        metrics.rateLimited.inc({ scope: "address" })
        return refuse(socket, 429, "RATE_LIMITED", "too many requests from this address", {
          "Retry-After": String(Math.ceil(taken.retryAfterMs / 1000)),
        })
      }
      if (req.method !== "GET") return refuse(socket, 400, "VALIDATION", "websocket upgrades use GET")
      const key = req.headers["sec-websocket-key"]
      const version = req.headers["sec-websocket-version"]
      if (
        (req.headers.upgrade ?? "").toLowerCase() !== "websocket" ||
        typeof key !== "string" ||
        !/^[+/0-9A-Za-z]{22}==$/.test(key) ||
        (version !== "13" && version !== "8")
      ) {
        return refuse(socket, 400, "VALIDATION", "malformed websocket handshake")
      }
      if (!originAllowed(req, config.corsOrigin))
        return refuse(socket, 403, "FORBIDDEN", "origin not allowed")
      if (sockets.size >= config.maxWsConnections) {
        return refuse(socket, 503, "UNAVAILABLE", "too many connections", { "Retry-After": "30" })
      }
      wss.handleUpgrade(req, socket, head, (ws) => serve(ws, address))
    },
    close() {
      closed = true
      clearInterval(heartbeat)
      for (const { ws } of sockets) ws.close(closeCodes.goingAway, "server shutting down")
      // Sockets that do not answer the close handshake are cut shortly after.
      const sweep = setTimeout(() => {
        for (const { ws } of sockets) ws.terminate()
      }, 2000)
      sweep.unref()
    },
    get connections() {
      return sockets.size
    },
  }
}
