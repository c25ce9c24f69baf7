import { phoneRoles, VigilError, type DeviceId, type PhoneRole } from "@vigil/protocol"
import type { HubSpace } from "../space/hubSpace.ts"
import type { CommandResult } from "./cameras.ts"
import { askRunningHub, type PhoneInfo } from "./controlSocket.ts"

export interface PhonesDeps {
  dataDir: string
  /** Opens the hub's space when no hub is running (this process then owns its state until it is done). */
  openSpace: () => Promise<HubSpace>
  /** How long to wait for signal to take a removal when this process opened the space. Default 30 s. */
  deliverTimeoutMs?: number
}

const help = [
  "Usage: hub phones list            the phones paired with this hub",
  "       hub phones remove ID       remove one (ID: its device id, or a prefix only it has)",
  "       hub phones role ID owner|member",
  "                                  owners add and remove phones and cameras; members only view",
]

function phoneLines(phones: readonly PhoneInfo[]): string[] {
  if (phones.length === 0) return ["No phone is paired."]
  return phones.map(
    (p) =>
      `  ${p.deviceId}  ${(p.name ?? "(no name)").padEnd(24)} ${p.role.padEnd(6)}  paired ${new Date(p.pairedAt).toISOString()}`,
  )
}

/** The one phone whose id is `id` or starts with it; an error line otherwise. */
function pick(phones: readonly PhoneInfo[], id: string): PhoneInfo | string {
  const needle = id.toLowerCase()
  if (!/^[0-9a-f]{1,32}$/.test(needle)) return `"${id}" is not a device id (hex, as hub phones list shows)`
  const found = phones.filter((p) => p.deviceId.startsWith(needle))
  if (found.length === 0) return `no paired phone has the id ${id}`
  if (found.length > 1) return `${found.length} phones have ids starting with ${id}; give more of it`
  return found[0]!
}

/** What `hub phones` was asked, or undefined for a usage error. */
type PhonesAction =
  { kind: "list" } | { kind: "remove"; id: string } | { kind: "role"; id: string; role: PhoneRole }

function parseAction(args: readonly string[]): PhonesAction | undefined {
  const [action, id, role, ...extra] = args
  if (extra.length > 0) return undefined
  if (action === "list" && id === undefined) return { kind: "list" }
  if (action === "remove" && id !== undefined && role === undefined) return { kind: "remove", id }
  if (action === "role" && id !== undefined && (phoneRoles as readonly string[]).includes(role ?? "")) {
    return { kind: "role", id, role: role as PhoneRole }
  }
  return undefined
}

const done = (action: Exclude<PhonesAction, { kind: "list" }>, phone: PhoneInfo) =>
  action.kind === "remove"
    ? `Removed ${phone.deviceId}. It can decrypt nothing new.`
    : `${phone.deviceId} is now ${action.role === "owner" ? "an owner" : "a member"}.`

/**
 * `hub phones list|remove ID|role ID owner|member` (issue 14 finding 6, issue 16 roles): the person at the
 * hub can see and remove the phones and set their roles, not only a paired phone. With a running hub, it
 * asks over the control socket (the running hub owns the state); otherwise it opens the space itself.
 */
export async function runPhonesCommand(args: readonly string[], deps: PhonesDeps): Promise<CommandResult> {
  const action = parseAction(args)
  if (!action) return { code: 2, out: [], err: help }

  const running = await askRunningHub(deps.dataDir, { kind: "phones" })
  if (running && !running.ok) return { code: 1, out: [], err: [`hub phones: ${running.error}`] }
  if (running) {
    const phones = running.phones ?? []
    if (action.kind === "list") return { code: 0, out: phoneLines(phones), err: [] }
    const phone = pick(phones, action.id)
    if (typeof phone === "string") return { code: 1, out: [], err: [`hub phones: ${phone}`] }
    const answer = await askRunningHub(
      deps.dataDir,
      action.kind === "remove"
        ? { kind: "remove-phone", deviceId: phone.deviceId }
        : { kind: "set-role", deviceId: phone.deviceId, role: action.role },
    )
    if (!answer?.ok) {
      const why = answer ? (answer.ok ? "" : answer.error) : "the hub stopped"
      return {
        code: 1,
        out: [],
        err: [
          `hub phones: could not ${action.kind === "remove" ? "remove the phone" : "change the role"}: ${why}`,
        ],
      }
    }
    return { code: 0, out: [done(action, phone)], err: [] }
  }

  const space = await deps.openSpace()
  try {
    const phones = space.phones
    if (action.kind === "list") return { code: 0, out: phoneLines(phones), err: [] }
    const phone = pick(phones, action.id)
    if (typeof phone === "string") return { code: 1, out: [], err: [`hub phones: ${phone}`] }
    try {
      if (action.kind === "remove") await space.removePhone(phone.deviceId as DeviceId)
      else await space.setRole(phone.deviceId as DeviceId, action.role)
    } catch (err) {
      if (!(err instanceof VigilError)) throw err
      return { code: 1, out: [], err: [`hub phones: ${err.message}`] }
    }
    const delivered = await Promise.race([
      space.drained().then(() => true),
      new Promise<false>((r) => setTimeout(() => r(false), deps.deliverTimeoutMs ?? 30_000).unref()),
    ])
    const out = [done(action, phone)]
    if (!delivered) out.push("Signal was not reachable: the hub tells it when it next runs.")
    return { code: 0, out, err: [] }
  } finally {
    await space.close()
  }
}
