import { fromBase64, toHex } from "@vigil/protocol"
import { h } from "../../ui/dom.ts"
import "./pairing.css"

/** A home as the confirmation screen names it: what the user called it, and what tells two apart. */
export interface HomeSummary {
  hubName: string
  /** The hub's pinned signature key, base64 (the invite's `hubKey`, or the saved space's). */
  hubKey: string
  /** The relay's base URL. */
  signal: string
}

/**
 * Two hubs can share a name (an attacker's "Home" on the same relay is the case of issue 14, finding 4):
 * the first 8 bytes of the hub's key, in four groups, tell them apart at a glance.
 */
export function hubKeyWords(hubKey: string): string {
  return (toHex(fromBase64(hubKey)).slice(0, 16).match(/.{4}/g) ?? []).join(" ")
}

const relayHost = (url: string) => {
  try {
    return new URL(url).host
  } catch {
    return url
  }
}

function homeLine(label: string, home: HomeSummary, testId: string) {
  return h(
    "li",
    { "data-testid": testId },
    h("strong", {}, `${label}: ${home.hubName}`),
    h("br"),
    h("span", { class: "muted" }, `hub key ${hubKeyWords(home.hubKey)} · relay ${relayHost(home.signal)}`),
  )
}

/** What the user chose for a pairing link while this phone has a home. */
export type PairingChoice = "keep" | "add" | "replace"

/**
 * Asks what a pairing link for another home should do: names both homes; keeps the current one unless
 * the user picks another button. "Add" pairs the new home beside the current one (several homes, issue
 * 16); "Switch" replaces it. Escape, closing the dialog and the default button all keep it.
 */
export function confirmReplacePairing(current: HomeSummary, next: HomeSummary): Promise<PairingChoice> {
  return new Promise((resolve) => {
    let choice: PairingChoice = "keep"
    const keep = h(
      "button",
      { class: "primary", "data-testid": "keep-pairing", onclick: () => dialog.close() },
      `Keep ${current.hubName}`,
    )
    const dialog = h(
      "dialog",
      { class: "replace-pairing", "aria-labelledby": "replace-title", "data-testid": "replace-pairing" },
      h("h2", { id: "replace-title" }, "This phone is already paired"),
      h(
        "p",
        {},
        "The link you opened is for another home. Add it to see both homes on this phone, or switch, which " +
          "stops clips from the current one on this phone. If you did not expect this link, keep your home.",
      ),
      h(
        "ul",
        { class: "homes" },
        homeLine("Now", current, "current-home"),
        homeLine("Link", next, "new-home"),
      ),
      h(
        "div",
        { class: "replace-pairing-actions" },
        keep,
        h(
          "button",
          {
            class: "secondary",
            "data-testid": "add-home",
            onclick: () => {
              choice = "add"
              dialog.close()
            },
          },
          `Add ${next.hubName} as another home`,
        ),
        h(
          "button",
          {
            class: "replace-pairing-switch",
            "data-testid": "replace-pairing-confirm",
            onclick: () => {
              choice = "replace"
              dialog.close()
            },
          },
          `Switch to ${next.hubName}`,
        ),
      ),
    )
    dialog.addEventListener("close", () => {
      dialog.remove()
      resolve(choice)
    })
    document.body.append(dialog)
    dialog.showModal()
    keep.focus()
  })
}
