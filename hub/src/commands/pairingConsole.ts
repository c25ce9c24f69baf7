/**
 * Pairing while `hub start` runs: the one-time invite link and QR code on the terminal, pairing mode by
 * discovery (the code compared at this terminal, or at a `hub pair` attached over the control socket), and
 * the rooms of join links that paired phones open. User-facing lines go to `say`.
 */
import type { DeviceId } from "@vigil/protocol"
import type { Logger } from "../log.ts"
import type { DiscoveryRequest, HubSpace, PairedPhone } from "../space/hubSpace.ts"
import { ConsolePrompt, hasConsoleInput } from "./consolePrompt.ts"
import { PairingDesk } from "./pairingDesk.ts"
import { renderQrText } from "./qrText.ts"

export interface PairingConsoleOptions {
  space: HubSpace
  log: Logger
  say: (line: string) => void
  hubName: string
  /** Where phones open the app (pairing links point there). */
  webUrl: string
  /** `--pair`: stay in pairing mode after a phone paired, and print the link even off a terminal. */
  keepPairing: boolean
  /** The link holds a one-time secret: printed only on a terminal, with --pair, or when asked for. */
  linkOnStdout: boolean
}

export function startPairingConsole(o: PairingConsoleOptions) {
  const { space, say } = o
  const offerPairing = async () => {
    if (!o.linkOnStdout) {
      say(`To pair a phone by its camera, run "hub pair" in a terminal: it shows a one-time code.`)
      return
    }
    const { url } = await space.createInvite((phone) => {
      say(`Phone paired (${phone.deviceId.slice(0, 8)}…). New clips are encrypted for it.`)
      void offerPairing()
    })
    say(`Or scan this code with the phone, or open the link on it within 15 minutes (it works once):`)
    say(renderQrText(url))
    say(`  Pairing link: ${url}`)
  }

  const prompt = hasConsoleInput() ? new ConsolePrompt(process.stdin) : undefined
  const desk = new PairingDesk(say, prompt)
  let discovery: { stop: () => void } | undefined
  const callbacks = (onPaired: () => void) => ({
    confirm: desk.confirm,
    onPaired: (phone: PairedPhone) => {
      desk.paired(phone.name ?? phone.deviceId.slice(0, 8))
      say(`Phone paired: ${phone.name ?? phone.deviceId.slice(0, 8)}. New clips are encrypted for it.`)
      onPaired()
    },
    onRefused: (request: DiscoveryRequest | { deviceId: DeviceId }, reason: string) => {
      desk.refused("deviceName" in request ? request.deviceName : request.deviceId.slice(0, 8), reason)
      say(`Pairing refused (${reason}).`)
    },
    onApproval: (request: DiscoveryRequest, by: DeviceId, approve: boolean) => {
      const phone = space.phones.find((p) => p.deviceId === by)
      const who = phone?.name ?? by.slice(0, 8)
      say(`${approve ? "Approved" : "Refused"} on ${who} for ${request.deviceName}.`)
    },
  })
  // A paired phone's join link: watch the room it picked until the invited phone paired or the link expired.
  // A few at once at most: each costs a long-poll at signal.
  const roomWatches = new Set<{ stop: () => void }>()
  space.onPairingOpenRequested((room) => {
    if (roomWatches.size >= 3) return o.log.warn("a join link was refused: three are open already")
    const watch = space.startDiscovery({
      ...callbacks(() => {
        watch.stop()
        roomWatches.delete(watch)
      }),
      room,
    })
    roomWatches.add(watch)
    setTimeout(() => roomWatches.delete(watch), room.until - Date.now()).unref()
  })
  const startDiscovery = () => {
    if (discovery) return
    discovery = space.startDiscovery(
      callbacks(() => {
        if (!o.keepPairing) {
          discovery?.stop()
          discovery = undefined
          say(prompt ? `Type "pair" and Enter to add another phone.` : "Run hub pair to add another phone.")
        }
      }),
    )
    say(
      `Pairing mode: open ${o.webUrl.replace(/\/+$/, "")} on the phone, tap Add camera, pick "${o.hubName}", check the code` +
        (prompt ? ", then type y here." : ", then confirm it with hub pair."),
    )
  }
  if (prompt) {
    prompt.onCommand = (line) => {
      if (line === "pair") startDiscovery()
      else say(`Unknown command "${line}". Type "pair" to add a phone.`)
    }
  }

  return {
    desk,
    startDiscovery,
    /** No phone yet, or --pair: pairing mode and the link at once. */
    async begin() {
      if (space.phones.length === 0 || o.keepPairing) {
        startDiscovery()
        await offerPairing()
      } else {
        say(
          `${space.phones.length} phone(s) paired. ${prompt ? 'Type "pair" and Enter' : "Run with --pair"} to add another.`,
        )
      }
    },
    stop() {
      discovery?.stop()
      for (const w of roomWatches) w.stop()
    },
  }
}
