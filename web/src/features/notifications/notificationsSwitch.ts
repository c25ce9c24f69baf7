/**
 * The "Notifications" switch in Settings: on asks for permission and subscribes (pushSubscription.ts), off
 * unsubscribes. Its status line keeps its height, so nothing moves when the text changes.
 */
import { h } from "../../ui/dom.ts"
import { errorSentence } from "../../ui/errorText.ts"
import {
  PushSetupError,
  currentPushState,
  disablePush,
  enablePush,
  type PushState,
} from "./pushSubscription.ts"

/** The section, and `refresh` to read the state again (pairing changes it). */
export function notificationsSection(): { element: HTMLElement; refresh: () => void } {
  const input = h("input", {
    type: "checkbox",
    role: "switch",
    id: "notifications-switch",
    "data-testid": "notifications-switch",
    "aria-describedby": "notifications-status",
    disabled: true,
  })
  const status = h(
    "p",
    { class: "muted", id: "notifications-status", "data-testid": "notifications-status", role: "status" },
    "Checking…",
  )
  const show = (state: PushState, problem?: string) => {
    input.checked = state.kind === "on"
    input.disabled = state.kind === "unsupported" || state.kind === "unpaired" || state.kind === "blocked"
    status.className = problem ? "error" : "muted"
    status.textContent = problem ?? describe(state)
  }
  const load = async (problem?: string) => show(await currentPushState(), problem)
  input.addEventListener("change", () => {
    const turnOn = input.checked
    input.disabled = true
    status.className = "muted"
    status.textContent = turnOn ? "Turning on…" : "Turning off…"
    void (turnOn ? enablePush() : disablePush()).then(
      () => load(),
      (err: unknown) => load(err instanceof PushSetupError ? err.message : errorSentence(err)),
    )
  })
  const refresh = () =>
    void load().catch((err: unknown) => show({ kind: "unsupported", reason: errorSentence(err) }))
  refresh()
  const element = h(
    "section",
    { "aria-label": "Notifications" },
    h("h3", {}, "Notifications"),
    h("label", { for: "notifications-switch" }, input, " Notify me when a camera records a clip"),
    status,
  )
  return { element, refresh }
}

function describe(state: PushState): string {
  switch (state.kind) {
    case "unsupported":
      return `Not available: ${state.reason}.`
    case "unpaired":
      return "Pair this phone with your hub first."
    case "blocked":
      return "Blocked in the browser's site settings."
    case "off":
      return "Off. The notification is decrypted on this phone; the relay sees only ciphertext."
    case "on":
      return "On. The notification is decrypted on this phone; the relay sees only ciphertext."
  }
}
