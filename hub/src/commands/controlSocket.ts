import { chmod, rm } from "node:fs/promises"
import { connect, createServer, type Server } from "node:net"
import { join } from "node:path"
import { z } from "zod"
import { phoneRoles, type PhoneRole } from "@vigil/protocol"
import type { CameraStatus } from "../camera/cameraPipeline.ts"
import type { DeskEvent } from "./pairingDesk.ts"

/**
 * The running hub's local control channel: a Unix socket in its data directory (mode 0600, so only its
 * user can ask), one JSON request line, one JSON answer line. `hub status` and `hub pair` use it so that
 * only the running hub ever writes its state. Never a network socket.
 */
export const controlSocketName = "hub.sock"

export function controlSocketPath(dataDir: string): string {
  return join(dataDir, controlSocketName)
}

const requestSchema = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("status") }),
  z.object({ kind: z.literal("invite") }),
  // Pairing by discovery for a hub without a terminal (a service): open it, follow its questions, answer.
  z.object({ kind: z.literal("discovery-open") }),
  z.object({
    kind: z.literal("discovery-next"),
    cursor: z.number().int().min(-1),
    waitMs: z.number().int().min(0).max(30_000),
  }),
  z.object({ kind: z.literal("discovery-answer"), id: z.string().max(64), accept: z.boolean() }),
  z.object({ kind: z.literal("phones") }),
  z.object({ kind: z.literal("remove-phone"), deviceId: z.string().regex(/^[0-9a-f]{32}$/) }),
  z.object({
    kind: z.literal("set-role"),
    deviceId: z.string().regex(/^[0-9a-f]{32}$/),
    role: z.enum(phoneRoles),
  }),
])
export type ControlRequest = z.infer<typeof requestSchema>

export interface HubStatus {
  name: string
  startedAt: number
  signalUrl: string
  phones: number
  /** Messages and clips not yet accepted by signal. */
  pendingOutbox: number
  detector: string | undefined
  cameras: CameraStatus[]
}
export interface InviteAnswer {
  url: string
  expiresAt: number
}
export interface DeskAnswer {
  cursor: number
  events: DeskEvent[]
}
/** A paired phone as `hub phones list` shows it. */
export interface PhoneInfo {
  deviceId: string
  pairedAt: number
  name?: string
  role: PhoneRole
}
export type ControlAnswer =
  | { ok: true; status?: HubStatus; invite?: InviteAnswer; desk?: DeskAnswer; phones?: PhoneInfo[] }
  | { ok: false; error: string }

export interface ControlHandlers {
  status(): HubStatus
  invite(): Promise<InviteAnswer>
  /** Starts pairing by discovery (if it is not running). */
  openDiscovery(): void
  nextDiscoveryEvents(cursor: number, waitMs: number): Promise<DeskAnswer>
  /** False when that question is no longer open. */
  answerDiscovery(id: string, accept: boolean): boolean
  phones(): PhoneInfo[]
  /** Removes a paired phone (a Remove commit for every phone, then signal stops serving it). */
  removePhone(deviceId: string): Promise<void>
  /** Makes a paired phone an owner or a member (protocol/src/roles.ts). */
  setRole(deviceId: string, role: PhoneRole): Promise<void>
}

/** Listens on the control socket (replacing a stale one left by a crash). */
export async function startControlServer(dataDir: string, handlers: ControlHandlers): Promise<Server> {
  const path = controlSocketPath(dataDir)
  await rm(path, { force: true })
  const server = createServer((socket) => {
    let buffered = ""
    socket.setEncoding("utf8")
    socket.on("error", () => socket.destroy())
    socket.on("data", (text: string) => {
      buffered += text
      if (buffered.length > 4096) return socket.destroy()
      const newline = buffered.indexOf("\n")
      if (newline === -1) return
      void answer(buffered.slice(0, newline)).then((reply) => socket.end(`${JSON.stringify(reply)}\n`))
    })
  })
  const answer = async (line: string): Promise<ControlAnswer> => {
    let request: ControlRequest
    try {
      request = requestSchema.parse(JSON.parse(line))
    } catch {
      return { ok: false, error: "not a control request" }
    }
    try {
      switch (request.kind) {
        case "status":
          return { ok: true, status: handlers.status() }
        case "invite":
          return { ok: true, invite: await handlers.invite() }
        case "discovery-open":
          handlers.openDiscovery()
          return { ok: true }
        case "discovery-next":
          return { ok: true, desk: await handlers.nextDiscoveryEvents(request.cursor, request.waitMs) }
        case "discovery-answer":
          return handlers.answerDiscovery(request.id, request.accept)
            ? { ok: true }
            : { ok: false, error: "that pairing request is no longer waiting" }
        case "phones":
          return { ok: true, phones: handlers.phones() }
        case "remove-phone":
          await handlers.removePhone(request.deviceId)
          return { ok: true, phones: handlers.phones() }
        case "set-role":
          await handlers.setRole(request.deviceId, request.role)
          return { ok: true, phones: handlers.phones() }
      }
    } catch (error) {
      return { ok: false, error: (error as Error).message }
    }
  }
  // The socket file is created by bind() inside listen(): with this umask it is 0600 from its first moment,
  // not only after a chmod (issue 14 finding 16). bind() runs synchronously within listen().
  // The umask is process-wide: it is put back synchronously, before anything else can create a file.
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject)
    const umask = process.umask(0o177)
    try {
      server.listen(path, () => resolve())
    } finally {
      process.umask(umask)
    }
  })
  await chmod(path, 0o600)
  return server
}

/**
 * Asks the running hub. Resolves undefined when no hub is listening (no socket, or a stale one).
 */
export function askRunningHub(
  dataDir: string,
  request: ControlRequest,
  timeoutMs = 20_000,
): Promise<ControlAnswer | undefined> {
  return new Promise((resolve, reject) => {
    const socket = connect(controlSocketPath(dataDir))
    let text = ""
    const timer = setTimeout(() => {
      socket.destroy()
      reject(new Error("the running hub did not answer"))
    }, timeoutMs)
    socket.setEncoding("utf8")
    socket.on("data", (chunk: string) => (text += chunk))
    socket.on("error", (error: NodeJS.ErrnoException) => {
      clearTimeout(timer)
      if (error.code === "ENOENT" || error.code === "ECONNREFUSED") resolve(undefined)
      else reject(error)
    })
    socket.on("end", () => {
      clearTimeout(timer)
      try {
        resolve(JSON.parse(text) as ControlAnswer)
      } catch {
        reject(new Error("the running hub gave an unreadable answer"))
      }
    })
    socket.write(`${JSON.stringify(request)}\n`)
  })
}
