/**
 * Settings: Notifications (features/notifications), and About, with the app's version and its build
 * digest recomputed over the files it runs (buildDigest.ts). The panel is one element kept across renders, so it stays open and keeps
 * its result while the rest of the page is redrawn.
 */
import { notificationsSection } from "../notifications/notificationsSwitch.ts"
import { h } from "../../ui/dom.ts"
import { checkBuildDigest, groupDigest, type DigestCheck } from "./buildDigest.ts"

let panel: HTMLDetailsElement | undefined

/** The Settings panel (collapsed at first); the digest is computed the first time it is opened. */
export function settingsPanel(): HTMLElement {
  panel ??= createSettingsPanel()
  return panel
}

function createSettingsPanel(): HTMLDetailsElement {
  const about = h("div", { "data-testid": "about" })
  const notifications = notificationsSection()
  const details = h(
    "details",
    { class: "card settings" },
    h("summary", {}, "Settings"),
    notifications.element,
    h("section", { "aria-label": "About" }, h("h3", {}, "About"), about),
  )
  const check = async () => {
    about.replaceChildren(h("p", { class: "muted" }, "Hashing the files of this app…"))
    about.replaceChildren(...aboutContent(await checkBuildDigest(), check))
  }
  let started = false
  details.addEventListener("toggle", () => {
    if (details.open) notifications.refresh()
    if (details.open && !started) {
      started = true
      void check()
    }
  })
  return details
}

function aboutContent(result: DigestCheck, recheck: () => Promise<void>): Node[] {
  const again = h("button", { class: "ghost", onclick: () => void recheck() }, "Check again")
  if (result.kind === "unavailable") {
    return [
      h("p", { class: "muted", "data-testid": "build-digest-status" }, `No build digest: ${result.reason}.`),
      again,
    ]
  }
  const digestLine = h(
    "p",
    {},
    "Build digest: ",
    h("code", { "data-testid": "build-digest", title: result.digest }, groupDigest(result.digest)),
  )
  const status =
    result.kind === "verified"
      ? `Recomputed just now from the ${result.fileCount} files this app runs. Compare it with the PWA build digest of the published release.`
      : `The files this app runs differ from what the server describes (${result.differing.join(", ") || "digest"}); an update may be waiting. Published digest: ${groupDigest(result.published)}.`
  return [
    h("p", {}, `Vigil ${result.version}`),
    digestLine,
    h(
      "p",
      { class: result.kind === "verified" ? "muted" : "error", "data-testid": "build-digest-status" },
      status,
    ),
    again,
  ]
}
