/**
 * The "new version" prompt. Nothing updates by itself: a new version's service worker refuses to install
 * until the user approves its build digest (installedDigest.ts). This banner shows the digest running now
 * next to the new one's, so a user who compares them with the published release can decide; "Update" is
 * the only way the new version gets in.
 */
import { h } from "../../ui/dom.ts"
import { groupDigest } from "./buildDigest.ts"
import { readDigest, writeDigest, type UpdateOfferedMessage } from "./installedDigest.ts"

let banner: HTMLElement | undefined

/**
 * Calls `show` when the server offers a version other than the installed one: now (an offer recorded
 * earlier) and whenever a refused worker reports one. `show` gets the function that accepts it.
 */
export function watchForUpdates(show: (accept: () => void) => void): void {
  const check = async () => {
    const [installed, offered] = await Promise.all([readDigest("installed"), readDigest("offered")])
    if (offered && offered.digest !== installed?.digest) show(() => void acceptOfferedUpdate())
  }
  navigator.serviceWorker.addEventListener("message", (event: MessageEvent) => {
    if ((event.data as Partial<UpdateOfferedMessage> | null)?.type === "update-offered") void check()
  })
  void check()
}

/**
 * Approves the offered version and asks the browser to install it again; once installed it waits, and the
 * app's registerSW hook (main.ts) switches to it and reloads.
 */
export async function acceptOfferedUpdate(): Promise<void> {
  const offered = await readDigest("offered")
  if (!offered) return
  await writeDigest("approved", offered)
  const registration = await navigator.serviceWorker.getRegistration()
  await registration?.update()
}

/** The banner (one element kept across renders, filled in when the digests are read). */
export function updatePrompt(accept: () => void): HTMLElement {
  banner ??= createBanner(accept)
  return banner
}

function createBanner(accept: () => void): HTMLElement {
  const installed = h("code", { "data-testid": "digest-installed" }, "…")
  const offered = h("code", { "data-testid": "digest-new" }, "…")
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
      h("p", {}, h("strong", {}, "A new version of Vigil is available.")),
      h("p", {}, "Running now: ", installed),
      h("p", {}, "New version: ", offered),
      h(
        "details",
        {},
        h("summary", {}, "What is this?"),
        h(
          "p",
          {},
          "Vigil runs the code its server sends, and that code holds your keys. A build digest is a " +
            "fingerprint of all of that code. Compare the new one with the digest published for the " +
            "release before you update; if they differ, do not update. Until you tap Update, the version " +
            "running now stays in use.",
        ),
      ),
    ),
    button,
  )
  void Promise.all([readDigest("installed"), readDigest("offered")]).then(
    ([now, next]) => {
      installed.textContent = now ? `${now.version} · ${groupDigest(now.digest)}` : "not recorded"
      offered.textContent = next ? `${next.version} · ${groupDigest(next.digest)}` : "not published"
    },
    () => {
      installed.textContent = "unavailable"
      offered.textContent = "unavailable"
    },
  )
  return element
}
