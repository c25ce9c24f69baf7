/**
 * The "new version" prompt. Nothing updates by itself: a new version's service worker refuses to install
 * until the user approves its build digest (installedDigest.ts). This banner shows the digest of the bytes
 * running now next to the digest the new one is published with, so a user who compares them with the
 * published release can decide; "Update" is the only way the new version gets in. A version whose files,
 * once downloaded, are not the build it was published as is refused, and the banner says so.
 */
import { h } from "../../ui/dom.ts"
import { groupDigest } from "./buildDigest.ts"
import {
  readDigest,
  readRefused,
  writeDigest,
  type RefusedVersion,
  type UpdateOfferedMessage,
} from "./installedDigest.ts"

let banner: { element: HTMLElement; fill: () => Promise<void> } | undefined

/** A refusal that still matters: of the version on offer, or of a first install (nothing runs from cache). */
async function currentRefusal(): Promise<RefusedVersion | undefined> {
  const [refused, installed, offered] = await Promise.all([
    readRefused(),
    readDigest("installed"),
    readDigest("offered"),
  ])
  if (!refused) return undefined
  return installed === undefined || offered === undefined || offered.digest === refused.published
    ? refused
    : undefined
}

/**
 * Calls `show` when the server offers a version other than the installed one, or a version was refused
 * for its bytes: now (recorded earlier) and whenever a worker reports one. `show` gets the function that
 * accepts the offer (or tries again).
 */
export function watchForUpdates(show: (accept: () => void) => void): void {
  const check = async () => {
    const [installed, offered, refused] = await Promise.all([
      readDigest("installed"),
      readDigest("offered"),
      currentRefusal(),
    ])
    if (refused || (offered && offered.digest !== installed?.digest)) show(() => void acceptOfferedUpdate())
    await banner?.fill()
  }
  navigator.serviceWorker.addEventListener("message", (event: MessageEvent) => {
    const type = (event.data as Partial<UpdateOfferedMessage> | null)?.type
    if (type === "update-offered" || type === "update-refused") void check()
  })
  void check()
}

/**
 * Approves the offered version and asks the browser to install it again; once installed it waits, and the
 * app's registerSW hook (main.ts) switches to it and reloads. With no registration left (a first install
 * was refused), loading the page again starts over.
 */
export async function acceptOfferedUpdate(): Promise<void> {
  const offered = await readDigest("offered")
  if (offered) await writeDigest("approved", offered)
  const registration = await navigator.serviceWorker.getRegistration()
  if (registration) await registration.update()
  else location.reload()
}

/** The banner (one element kept across renders, filled in when the digests are read). */
export function updatePrompt(accept: () => void): HTMLElement {
  banner ??= createBanner(accept)
  return banner.element
}

function createBanner(accept: () => void): { element: HTMLElement; fill: () => Promise<void> } {
  const title = h("strong", {}, "A new version of Vigil is available.")
  const installed = h("code", { "data-testid": "digest-installed" }, "…")
  const offered = h("code", { "data-testid": "digest-new" }, "…")
  const refusal = h("p", { "data-testid": "update-refused", hidden: true })
  const button = h("button", { class: "primary", "data-testid": "update-accept" }, "Update")
  button.addEventListener("click", () => {
    button.disabled = true
    button.textContent = "Updating…"
    accept()
  })
  const element = h(
    "section",
    { class: "banner", role: "status", "aria-label": "New version", "data-testid": "update-prompt" },
    h(
      "div",
      {},
      h("p", {}, title),
      h("p", {}, "Running now: ", installed),
      h("p", {}, "New version, as published: ", offered),
      refusal,
      h(
        "details",
        {},
        h("summary", {}, "What is this?"),
        h(
          "p",
          {},
          "Vigil runs the code its server sends, and that code holds your keys. A build digest is a " +
            "fingerprint of all of that code. The one running now is computed over the files this phone " +
            "installed. Compare the new one with the digest published for the release before you update; " +
            "if they differ, do not update. Until you tap Update, the version running now stays in use, " +
            "and a new version whose files turn out not to be the build it was published as is refused.",
        ),
      ),
    ),
    button,
  )
  const fill = async () => {
    try {
      const [now, next, refused] = await Promise.all([
        readDigest("installed"),
        readDigest("offered"),
        currentRefusal(),
      ])
      installed.textContent = now ? `${now.version} · ${groupDigest(now.digest)}` : "not recorded"
      offered.textContent = next
        ? `${next.version} · ${groupDigest(next.digest)}`
        : refused
          ? `${refused.version} · ${groupDigest(refused.published)}`
          : "not published"
      refusal.hidden = refused === undefined
      if (!refused) title.textContent = "A new version of Vigil is available."
      else {
        title.textContent = now
          ? "The new version was not installed."
          : "Vigil could not install for offline use."
        refusal.textContent =
          `Its files are not the build it was published as (${refused.files.join(", ") || "its digest"}): ` +
          `they add up to ${groupDigest(refused.installed)}. ` +
          (now
            ? "The version running now stays in use."
            : "This page runs without offline use or notifications until the server sends a consistent version.")
        button.disabled = false
        button.textContent = "Try again"
      }
    } catch {
      installed.textContent = "unavailable"
      offered.textContent = "unavailable"
    }
  }
  void fill()
  return { element, fill }
}
