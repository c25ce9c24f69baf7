import type { HubSpace, PairedPhone } from "../space/hubSpace.ts"
import { askRunningHub } from "./controlSocket.ts"
import { renderQrText } from "./qrText.ts"

export interface PairDeps {
  dataDir: string
  /** Opens the hub's space when no hub is running (this process then owns its state until pairing ends). */
  openSpace: () => Promise<HubSpace>
  /** Prints a line for a person. */
  print: (line: string) => void
  /** With a running hub: wait for the phone (default) or return once the code is shown. */
  wait: boolean
  /** How often to ask a running hub whether the phone joined. Default 2000 ms. */
  pollMs?: number
  /**
   * Asks the person here a yes/no question (resolves undefined when there is nobody to ask). With it, a
   * running hub is also put into pairing by discovery and its code questions are asked here.
   */
  ask?: (question: string) => Promise<boolean | undefined>
}

function show(print: (line: string) => void, url: string, expiresAt: number): void {
  print("Scan this code with the phone's camera, or open the link on the phone. It works once,")
  print(`until ${new Date(expiresAt).toLocaleTimeString()}:`)
  print("")
  print(renderQrText(url))
  print("")
  print(`  Pairing link: ${url}`)
}

/**
 * `hub pair`: shows a one-time pairing code. If a hub is running it makes the invite (it owns the state);
 * otherwise this process opens the space, shows the code and waits for the phone. Returns the exit code.
 */
export async function runPairCommand(deps: PairDeps): Promise<number> {
  const running = await askRunningHub(deps.dataDir, { kind: "invite" })
  if (running) {
    if (!running.ok || !running.invite) {
      deps.print(
        `hub pair: the running hub could not make an invite: ${running.ok ? "no answer" : running.error}`,
      )
      return 1
    }
    const { url, expiresAt } = running.invite
    show(deps.print, url, expiresAt)
    if (!deps.wait) return 0
    const before = await phoneCount(deps.dataDir)
    const desk = deps.ask ? await openDesk(deps, deps.ask) : undefined
    while (Date.now() < expiresAt) {
      if (desk) {
        const outcome = await desk.step()
        if (outcome === "paired") return 0
      } else {
        await new Promise((r) => setTimeout(r, deps.pollMs ?? 2000))
      }
      if ((await phoneCount(deps.dataDir)) > before) {
        deps.print("Phone paired. New clips are encrypted for it.")
        return 0
      }
    }
    deps.print("The pairing code expired; run hub pair again.")
    return 1
  }

  const space = await deps.openSpace()
  try {
    const paired = new Promise<PairedPhone>((resolve) => {
      void space.createInvite(resolve).then(({ url, invite }) => show(deps.print, url, invite.expiresAt))
    })
    // This process is the one watching for the phone, so it waits whatever `wait` says.
    const expired = new Promise<undefined>((r) => setTimeout(() => r(undefined), 15 * 60_000 + 5000).unref())
    const phone = await Promise.race([paired, expired])
    if (!phone) {
      deps.print("The pairing code expired; run hub pair again.")
      return 1
    }
    // Let the outbox deliver the Welcome before this process exits.
    await space.drained()
    deps.print(`Phone paired (${phone.deviceId.slice(0, 8)}…). Start the hub with hub start.`)
    return 0
  } finally {
    await space.close()
  }
}

/**
 * Follows the running hub's pairing by discovery: each code question is asked here and answered back.
 */
async function openDesk(deps: PairDeps, ask: NonNullable<PairDeps["ask"]>) {
  const opened = await askRunningHub(deps.dataDir, { kind: "discovery-open" })
  if (!opened?.ok) return undefined
  const hubName = await askRunningHub(deps.dataDir, { kind: "status" })
  deps.print(
    `Or, on a phone on this home's network: open the app, tap Add camera and pick "${hubName?.ok ? hubName.status?.name : "this hub"}"; the code appears here.`,
  )
  let cursor = -1
  return {
    async step(): Promise<"paired" | undefined> {
      const waitMs = cursor < 0 ? 0 : (deps.pollMs ?? 2000)
      const answer = await askRunningHub(
        deps.dataDir,
        { kind: "discovery-next", cursor, waitMs },
        waitMs + 10_000,
      )
      if (!answer?.ok || !answer.desk) return undefined
      cursor = answer.desk.cursor
      for (const event of answer.desk.events) {
        if (event.kind === "question") {
          const spaced = `${event.code.slice(0, 3)} ${event.code.slice(3)}`
          const yes = await ask(
            `Pairing request from ${event.deviceName}. Code ${spaced}. Does the phone show the same code? [y/N]`,
          )
          if (yes === undefined) continue
          const sent = await askRunningHub(deps.dataDir, {
            kind: "discovery-answer",
            id: event.id,
            accept: yes,
          })
          deps.print(
            !sent?.ok
              ? "That request is no longer waiting (answered elsewhere, or it ended)."
              : yes
                ? "Confirmed; waiting for the phone to confirm too…"
                : "Refused.",
          )
        } else if (event.kind === "paired") {
          deps.print(`Phone paired: ${event.deviceName}. New clips are encrypted for it.`)
          return "paired"
        } else if (event.kind === "refused") {
          deps.print(`Pairing of ${event.deviceName} did not happen (${event.reason}).`)
        }
      }
      return undefined
    },
  }
}

async function phoneCount(dataDir: string): Promise<number> {
  const answer = await askRunningHub(dataDir, { kind: "status" })
  return answer?.ok ? (answer.status?.phones ?? 0) : 0
}
