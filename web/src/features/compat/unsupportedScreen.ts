/**
 * What a person sees when this browser or context cannot run Vigil (browserSupport.ts): one screen that
 * says what is wrong and what to do, and, where the app runs with less, one line per missing feature.
 * Loads nothing from the network (no icon, no font): it must show even where nothing else works.
 */
import { h } from "../../ui/dom.ts"
import type { Blocker, BrowserSupport, Limit } from "./browserSupport.ts"
import "./compat.css"

/** The browsers the app is built for (web/vite.config.ts `build.target` es2022, WebCrypto, IndexedDB). */
const workingBrowsers = "Chrome or Edge 94, Firefox 93 or Safari 16.4, or newer"
/** The browsers with WebCodecs `VideoDecoder`, which live view decodes with. */
const liveBrowsers = "Chrome or Edge 94, Safari 16.4 or Firefox 130 (desktop), or newer"

interface Explanation {
  title: string
  paragraphs: string[]
}

function explainBlocker(blocker: Blocker): Explanation {
  switch (blocker.kind) {
    case "insecure-context":
      return {
        title: "Open Vigil over https",
        paragraphs: [
          blocker.plainHttp
            ? "This page was opened over plain http, so the browser keeps encryption from it. Open the " +
              "relay's https address — the pairing QR code on your hub carries it."
            : "This page is not a secure context (it may be inside a frame of a plain http page), so the " +
              "browser keeps encryption from it. Open the relay's https address on its own — the pairing " +
              "QR code on your hub carries it.",
          "Vigil decrypts your cameras' video on this device, and browsers allow that only on https pages " +
            "(and on the device's own address, localhost).",
        ],
      }
    case "no-webcrypto":
      return {
        title: "This browser cannot run Vigil",
        paragraphs: [
          "Vigil decrypts your cameras' video on this device with the browser's Web Crypto, which this " +
            "browser does not offer.",
          `Open Vigil in ${workingBrowsers}.`,
        ],
      }
    case "no-indexeddb":
      return {
        title: "This browser does not let Vigil keep its keys",
        paragraphs: [
          "Vigil keeps this device's keys in the browser's storage (IndexedDB), which is not available " +
            "here. Some browsers turn it off in private windows.",
          `Open Vigil in a normal window of ${workingBrowsers}.`,
        ],
      }
  }
}

function screen(explanation: Explanation, testId: string, ...extra: (Node | null)[]): HTMLElement[] {
  const titleId = "unsupported-title"
  return [
    h("header", { class: "top" }, h("h1", {}, "Vigil")),
    h(
      "main",
      {},
      h(
        "section",
        { class: "card unsupported", role: "alert", "aria-labelledby": titleId, "data-testid": testId },
        h("h2", { id: titleId }, explanation.title),
        ...explanation.paragraphs.map((text) => h("p", {}, text)),
        ...extra,
      ),
    ),
  ]
}

/** The whole page for a blocked browser, in place of the app. */
export function showUnsupportedScreen(root: HTMLElement, blocker: Blocker): void {
  const httpsLink =
    blocker.kind === "insecure-context" && blocker.httpsUrl
      ? h(
          "a",
          { class: "primary", href: blocker.httpsUrl, "data-testid": "open-https" },
          `Continue pairing at ${new URL(blocker.httpsUrl).host}`,
        )
      : null
  root.replaceChildren(...screen(explainBlocker(blocker), "browser-unsupported", httpsLink))
}

/** DOMException names IndexedDB raises when the browser refuses storage (private mode, blocked, full). */
const storageRefusals: Record<string, string> = {
  QuotaExceededError: "This device has no room left for Vigil's data. Free some space, then reload.",
  SecurityError:
    "The browser does not let this page store data (site data may be blocked in its settings, or this is " +
    "a private window). Allow it, or open Vigil in a normal window, then reload.",
  InvalidStateError:
    "The browser does not let this page store data (this may be a private window). Open Vigil in a " +
    "normal window, then reload.",
}

/**
 * The last resort when start-up failed anyway: a known cause in words; otherwise a generic screen whose
 * technical detail stays folded away (it helps whoever looks into it, not the person holding the phone).
 */
export function showStartupFailure(root: HTMLElement, err: unknown, support: BrowserSupport): void {
  if (support.kind === "blocked") return showUnsupportedScreen(root, support.blocker)
  const name = typeof (err as { name?: unknown } | null)?.name === "string" ? (err as Error).name : ""
  const known = storageRefusals[name]
  const explanation: Explanation = {
    title: "Vigil could not start",
    paragraphs: [known ?? "Something on this device kept Vigil from opening. Reload the page to try again."],
  }
  const detail = known
    ? null
    : h(
        "details",
        {},
        h("summary", {}, "Technical detail"),
        h("code", {}, `${name || "Error"}: ${err instanceof Error ? err.message : String(err)}`),
      )
  root.replaceChildren(...screen(explanation, "startup-failed", detail))
}

function limitText(limit: Limit, live: boolean): string | undefined {
  switch (limit.kind) {
    case "no-service-worker":
      return "This browser runs Vigil without a service worker: no notifications of new clips, and Vigil does not open without a network."
    case "clips-whole-file":
      return "This browser has no Media Source Extensions: a clip starts playing once it has fully downloaded."
    case "no-clip-playback":
      return `This browser cannot play MP4 (H.264) video, so clips cannot play here${live ? "; live view still works" : ""}.`
    case "no-live-view":
      // Said next to the Live button (liveUnavailable), where it matters.
      return undefined
  }
}

/** One line per feature this browser lacks (none: null), shown above the app. */
export function browserLimitsNotice(support: BrowserSupport): HTMLElement | null {
  if (support.kind !== "supported") return null
  const lines = support.limits.flatMap((limit) => limitText(limit, support.live) ?? [])
  if (lines.length === 0) return null
  return h(
    "section",
    { class: "browser-limits muted", role: "note", "data-testid": "browser-limits" },
    ...lines.map((text) => h("p", {}, text)),
  )
}

/** In place of the Live button when this browser cannot decode live video: says why, opens nothing. */
export function liveUnavailable(): HTMLElement {
  const reasonId = "live-unavailable-reason"
  return h(
    "div",
    { class: "live-unavailable" },
    h(
      "button",
      {
        class: "primary",
        "data-testid": "live-button",
        "aria-disabled": "true",
        "aria-describedby": reasonId,
      },
      "Live",
    ),
    h(
      "p",
      { class: "muted", id: reasonId, "data-testid": "live-unavailable" },
      `Live view is not available in this browser: it needs WebCodecs (${liveBrowsers}). Clips still play.`,
    ),
  )
}
