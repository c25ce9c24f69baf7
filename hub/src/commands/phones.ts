import type { DeviceId } from "@vigil/protocol"
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
]

function phoneLines(phones: readonly PhoneInfo[]): string[] {
  if (phones.length === 0) return ["No phone is paired."]
  return phones.map(
    (p) =>
      `  ${p.deviceId}  ${(p.name ?? "(no name)").padEnd(24)} paired ${new Date(p.pairedAt).toISOString()}`,
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

/**
 * `hub phones list|remove ID` (issue 14 finding 6): the person at the hub can see and remove the phones, not
 * only a paired phone. With a running hub, it asks over the control socket (the running hub owns the state);
 * otherwise it opens the space itself.
 */
export async function runPhonesCommand(args: readonly string[], deps: PhonesDeps): Promise<CommandResult> {
  const [action, id, ...extra] = args
  if ((action !== "list" && action !== "remove") || (action === "remove" && !id) || extra.length > 0) {
    return { code: 2, out: [], err: help }
  }
  if (action === "list" && id !== undefined) return { code: 2, out: [], err: help }

  const running = await askRunningHub(deps.dataDir, { kind: "phones" })
  if (running && !running.ok) return { code: 1, out: [], err: [`hub phones: ${running.error}`] }
  if (running) {
    const phones = running.phones ?? []
    if (action === "list") return { code: 0, out: phoneLines(phones), err: [] }
    const phone = pick(phones, id!)
    if (typeof phone === "string") return { code: 1, out: [], err: [`hub phones: ${phone}`] }
    const removed = await askRunningHub(deps.dataDir, { kind: "remove-phone", deviceId: phone.deviceId })
    if (!removed?.ok) {
      const why = removed ? (removed.ok ? "" : removed.error) : "the hub stopped"
      return { code: 1, out: [], err: [`hub phones: could not remove the phone: ${why}`] }
    }
    return { code: 0, out: [`Removed ${phone.deviceId}. It can decrypt nothing new.`], err: [] }
  }

  const space = await deps.openSpace()
  try {
    const phones = space.phones
    if (action === "list") return { code: 0, out: phoneLines(phones), err: [] }
    const phone = pick(phones, id!)
    if (typeof phone === "string") return { code: 1, out: [], err: [`hub phones: ${phone}`] }
    await space.removePhone(phone.deviceId as DeviceId)
    const delivered = await Promise.race([
      space.drained().then(() => true),
      new Promise<false>((r) => setTimeout(() => r(false), deps.deliverTimeoutMs ?? 30_000).unref()),
    ])
    const out = [`Removed ${phone.deviceId}. It can decrypt nothing new.`]
    if (!delivered) out.push("Signal was not reachable: the hub tells it when it next runs.")
    return { code: 0, out, err: [] }
  } finally {
    await space.close()
  }
}
