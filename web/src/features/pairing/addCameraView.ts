import "./pairing.css"
import type { LocalStore } from "../../store/db.ts"
import { h } from "../../ui/dom.ts"
import { errorSentence } from "../../ui/errorText.ts"
import type { JoinLink } from "@vigil/protocol"
import { DiscoveryPairing, type DiscoveredHub } from "./discoveryPairing.ts"
import { pairingCodeFromScan, QrScanner } from "./qrScanner.ts"

export interface AddCameraOptions {
  /** Where signal is (the app is served by it). */
  signalUrl: string
  store: LocalStore
  /** Pairing by discovery finished and was saved: load the space. */
  onPaired: () => void
  /** The fallback: a pairing code (invite) pasted or typed by the user. */
  onPairCode: (code: string) => Promise<void>
  /** A join link from a paired phone: ask that hub directly instead of listing this network's. */
  join?: JoinLink
}

/** Spaced for reading aloud and comparing: "123 456". */
const spaced = (code: string) => `${code.slice(0, 3)} ${code.slice(3)}`

/** Re-lists announcements this often while the list is shown. */
const searchEveryMs = 3000

/**
 * The "Add camera" screen: hubs in pairing mode on this network, by name; the code to compare; and the
 * fallback of a pairing code. Its element lives across the app's renders, so typing is never lost.
 */
export class AddCameraView {
  readonly element = h("section", { class: "card", "data-testid": "add-camera-card" })
  private readonly pairing: DiscoveryPairing
  private searchTimer: ReturnType<typeof setInterval> | undefined
  private readonly nameInput = h("input", {
    id: "device-name",
    type: "text",
    class: "pairing-input",
    maxlength: "64",
    autocomplete: "off",
    value: defaultDeviceName(),
  })
  private readonly codeInput = h("textarea", {
    id: "pair-code",
    rows: "3",
    placeholder: "v1.…",
    autocomplete: "off",
    spellcheck: "false",
  })
  private lastKind = ""
  private scanner: QrScanner | undefined
  private readonly fallbackEl = h("details", { class: "pairing-fallback" })
  private scanError: string | undefined
  private readonly listSlot = h("div", { "aria-live": "polite" })

  constructor(private readonly opts: AddCameraOptions) {
    this.pairing = new DiscoveryPairing(opts.signalUrl, opts.store, () => this.update())
    this.update()
  }

  private update() {
    const state = this.pairing.state
    if (state.kind === "searching") {
      this.searchTimer ??= setInterval(() => void this.pairing.search(), searchEveryMs)
    } else if (this.searchTimer) {
      clearInterval(this.searchTimer)
      this.searchTimer = undefined
    }
    if (state.kind === "paired") {
      this.opts.onPaired()
      return
    }
    // The list of hubs changes in place, so typing in the name field is never disturbed by a search.
    if (state.kind === "searching") this.listSlot.replaceChildren(...this.hubList())
    if (state.kind === "searching" && this.lastKind === "searching") return
    this.element.replaceChildren(...this.content().filter((n): n is Node => n !== null))
    this.scanner?.resume()
    // A new screen: move the keyboard to its heading (not on the first one, the page's own start).
    if (this.lastKind) this.element.querySelector<HTMLElement>("h2")?.focus()
    this.lastKind = state.kind
  }

  private hubList(): Node[] {
    const state = this.pairing.state
    if (state.kind !== "searching") return []
    const nodes: (HTMLElement | null)[] = [
      state.hubs === undefined
        ? h("p", { class: "muted" }, "Looking for cameras in pairing mode…")
        : state.hubs.length === 0
          ? h(
              "p",
              { class: "muted", "data-testid": "no-hubs" },
              "No camera in pairing mode on this network yet. Still looking…",
            )
          : h(
              "ul",
              { class: "pairing-list", "aria-label": "Cameras in pairing mode" },
              ...state.hubs.map((hub) => this.hubItem(hub)),
            ),
      state.error ? h("p", { class: "error", role: "alert" }, `Cannot list cameras: ${state.error}`) : null,
    ]
    return nodes.filter((n): n is HTMLElement => n !== null)
  }

  private content(): (Node | null)[] {
    const state = this.pairing.state
    const title = (text: string) => h("h2", { tabindex: "-1" }, text)
    switch (state.kind) {
      case "idle":
        if (this.opts.join) return this.joinScreen(this.opts.join, title)
        return [
          title("Add your camera"),
          h("p", {}, "Put the hub in pairing mode (", h("code", {}, "npm start"), " does), then:"),
          h(
            "button",
            { class: "primary", "data-testid": "add-camera", onclick: () => void this.pairing.search() },
            "Add camera",
          ),
          this.fallback(),
        ]
      case "searching":
        return [
          title("Cameras on this network"),
          h("label", { for: "device-name" }, "This phone's name (the hub shows it)"),
          this.nameInput,
          this.listSlot,
          h("button", { class: "secondary", onclick: () => this.pairing.reset() }, "Back"),
          this.fallback(),
        ]
      case "requesting":
        return [
          title(`Asking ${state.hub.name}…`),
          h("p", { class: "muted" }, "Waiting for the hub to answer. Keep this page open."),
          h("button", { class: "secondary", onclick: () => void this.pairing.cancel() }, "Cancel"),
        ]
      case "code":
        return [
          title("Check the code"),
          h(
            "p",
            {},
            `${state.hub.name} shows a code too (in its terminal). Pair only if it is the same as this one:`,
          ),
          h(
            "p",
            {
              class: "pairing-code",
              "data-testid": "pairing-code",
              "aria-label": `Code ${state.code.split("").join(" ")}`,
            },
            spaced(state.code),
          ),
          state.confirmed
            ? h(
                "p",
                { class: "muted", role: "status", "data-testid": "pairing-wait-hub" },
                `Waiting for ${state.hub.name} to confirm (y at the hub, or "Codes match" on a paired phone)…`,
              )
            : h(
                "button",
                { class: "primary", "data-testid": "codes-match", onclick: () => this.pairing.confirm() },
                "Codes match",
              ),
          h(
            "button",
            { class: "secondary", "data-testid": "codes-cancel", onclick: () => void this.pairing.cancel() },
            "Cancel",
          ),
        ]
      case "refused":
        return [
          title("Pairing refused"),
          h("p", { role: "alert", "data-testid": "pairing-refused" }, state.reason),
          h("p", { class: "muted" }, "Nothing was kept on this phone."),
          h("button", { class: "primary", onclick: () => void this.pairing.search() }, "Try again"),
        ]
      case "paired":
        return [title(`Paired with ${state.hub.name}`)]
    }
  }

  /** Opened from a join link: name this phone, then ask; the inviting phone shows the code to compare. */
  private joinScreen(join: JoinLink, title: (text: string) => HTMLElement): (Node | null)[] {
    if (join.expiresAt < Date.now()) {
      return [
        title(`Join ${join.name}`),
        h("p", { role: "alert" }, "This join link has expired. Ask for a new one on the phone that sent it."),
      ]
    }
    const hub: DiscoveredHub = {
      roomId: join.roomId,
      name: join.name,
      suite: join.suite,
      announcedBy: join.hubDeviceId,
    }
    return [
      title(`Join ${join.name}`),
      h(
        "p",
        {},
        "A phone of this home invited this one. When you ask, that phone and this one show a code: " +
          "the other phone's owner adds this phone only if both codes are the same.",
      ),
      h("label", { for: "device-name" }, "This phone's name (the others see it)"),
      this.nameInput,
      h(
        "button",
        {
          class: "primary",
          "data-testid": "join-request",
          onclick: () => void this.pairing.choose(hub, this.nameInput.value),
        },
        "Ask to join",
      ),
    ]
  }

  private hubItem(hub: DiscoveredHub) {
    return h(
      "li",
      {},
      h(
        "button",
        {
          class: "pairing-hub",
          "data-testid": "discovered-hub",
          "aria-label": `Pair with ${hub.name}`,
          onclick: () => void this.pairing.choose(hub, this.nameInput.value),
        },
        h("strong", {}, hub.name),
        h("span", { class: "muted" }, "Pair"),
      ),
    )
  }

  /** For when discovery cannot work (another network, a blocked relay): the hub's QR code or its text. */
  private fallback() {
    // One element for the page's life: it stays open across redraws.
    this.fallbackEl.replaceChildren(
      h("summary", {}, "Camera not listed? Use its pairing code"),
      h(
        "p",
        {},
        "Scan the QR code the hub prints with the phone's camera, or open its pairing link, or paste the code:",
      ),
      ...this.scanControls(),
      h("label", { for: "pair-code" }, "Pairing code"),
      this.codeInput,
      h(
        "button",
        { class: "primary", onclick: () => void this.opts.onPairCode(this.codeInput.value) },
        "Pair",
      ),
    )
    return this.fallbackEl
  }

  /** "Scan QR code" (when the browser has a camera API), or the live preview while scanning. */
  private scanControls(): HTMLElement[] {
    if (!QrScanner.available) return []
    const out: HTMLElement[] = []
    if (this.scanner) {
      out.push(
        h("p", { class: "muted", role: "status" }, "Point the camera at the QR code the hub prints."),
        this.scanner.video,
        h("button", { class: "secondary", onclick: () => this.stopScan() }, "Stop scanning"),
      )
    } else {
      out.push(
        h(
          "button",
          { class: "secondary", "data-testid": "scan-qr", onclick: () => void this.startScan() },
          "Scan QR code",
        ),
      )
    }
    if (this.scanError) out.push(h("p", { class: "error", role: "alert" }, this.scanError))
    return out
  }

  private async startScan() {
    const scanner = new QrScanner()
    this.scanner = scanner
    this.scanError = undefined
    this.render()
    try {
      await scanner.start((text) => {
        this.scanner = undefined
        this.render()
        void this.opts.onPairCode(pairingCodeFromScan(text))
      })
    } catch (err) {
      scanner.stop()
      this.scanner = undefined
      this.scanError = `The camera could not be used. ${errorSentence(err)}`
      this.render()
    }
  }

  private stopScan() {
    this.scanner?.stop()
    this.scanner = undefined
    this.render()
  }

  /** Redraws the current screen (after a change that is not a pairing state change). */
  private render() {
    this.element.replaceChildren(...this.content().filter((n): n is Node => n !== null))
    this.scanner?.resume()
  }

  close() {
    this.scanner?.stop()
    if (this.searchTimer) clearInterval(this.searchTimer)
    this.pairing.reset()
  }
}

/** A readable default for the phone's name: the platform the browser reports. */
function defaultDeviceName(): string {
  const ua = navigator.userAgent
  const platform = /Android/.test(ua)
    ? "Android"
    : /iPhone|iPad/.test(ua)
      ? "iPhone"
      : /Mac OS/.test(ua)
        ? "Mac"
        : /Windows/.test(ua)
          ? "Windows"
          : /Linux/.test(ua)
            ? "Linux"
            : "phone"
  return `Browser on ${platform}`
}
