import "./style.css"
import { registerSW } from "virtual:pwa-register"
import { decodeInvite, decodeJoinLink, toBase64, VigilError, type JoinLink } from "@vigil/protocol"
import { checkBrowserSupport, type BrowserSupport } from "./features/compat/browserSupport.ts"
import {
  browserLimitsNotice,
  liveUnavailable,
  showStartupFailure,
  showUnsupportedScreen,
} from "./features/compat/unsupportedScreen.ts"
import { EventsFeature } from "./features/events/eventsFeature.ts"
import "./features/live/live.css"
import { LiveGrid } from "./features/live/liveGrid.ts"
import { LiveView, type LiveCamera } from "./features/live/liveView.ts"
import { DevicesView } from "./features/devices/devicesView.ts"
import { AddCameraView } from "./features/pairing/addCameraView.ts"
import { confirmReplacePairing } from "./features/pairing/replacePairingDialog.ts"
import { watchClipLinks } from "./features/notifications/clipLinks.ts"
import { settingsPanel } from "./features/settings/settingsPanel.ts"
import { defaultSignalUrl } from "./features/settings/signalOrigin.ts"
import { updatePrompt, watchForUpdates } from "./features/settings/updatePrompt.ts"
import { PhoneSpace } from "./space/phoneSpace.ts"
import { LocalStore, type EventRecord } from "./store/db.ts"
import { h } from "./ui/dom.ts"
import { errorSentence } from "./ui/errorText.ts"

const root = document.getElementById("app") as HTMLElement

interface AppState {
  store: LocalStore
  space: PhoneSpace | undefined
  /** The events timeline and clip player (web/src/features/events, web/src/features/player). */
  events: EventsFeature
  error: string | undefined
  updateReady: (() => void) | undefined
  live: LiveView | LiveGrid | undefined
}

let app: AppState
/** What this browser lets the app do (features/compat): checked before anything else runs. */
let support: BrowserSupport

async function start() {
  support = checkBrowserSupport(globalThis)
  if (support.kind === "blocked") return showUnsupportedScreen(root, support.blocker)
  const store = await LocalStore.open()
  app = {
    store,
    space: undefined,
    events: new EventsFeature(store, () => app.space),
    error: undefined,
    updateReady: undefined,
    live: undefined,
  }
  registerServiceWorker()
  const fragment = new URLSearchParams(location.hash.slice(1))
  const pairCode = fragment.get("pair")
  const joinCode = fragment.get("join")
  if (joinCode) {
    // A paired phone's join link: the Add camera screen asks this hub directly (no listing).
    history.replaceState(null, "", location.pathname)
    try {
      joinLink = decodeJoinLink(joinCode)
    } catch {
      app.error = "This join link is damaged. Ask for a new one on the phone that sent it."
    }
  }
  if (pairCode) {
    history.replaceState(null, "", location.pathname)
    await pairWith(pairCode)
  } else {
    app.space = await PhoneSpace.load(store, refresh)
    if (app.space) void app.space.run()
  }
  await refresh()
  watchClipLinks(async (clipId) => {
    const event = app.space ? await app.store.getEvent(clipId) : undefined
    if (event) void play(event)
    return event !== undefined
  })
}

function registerServiceWorker() {
  if (!("serviceWorker" in navigator)) return
  const updateSW = registerSW({
    immediate: true,
    // Only a version the user approved gets this far (features/settings/updatePrompt.ts): switch to it.
    onNeedRefresh() {
      void updateSW(true)
    },
  })
  watchForUpdates((accept) => {
    app.updateReady = accept
    render()
  })
}

async function pairWith(code: string) {
  try {
    const invite = decodeInvite(code)
    // A link never replaces this phone's home on its own (issue 14, finding 4): the user is asked, with
    // both homes named, and keeping the current one is the default.
    const current = await app.store.get("space")
    if (current) {
      const next = { hubName: invite.hubName, hubKey: toBase64(invite.hubKey), signal: invite.signal }
      const device = await app.store.get("device")
      const here = { ...current, signal: device?.signalUrl ?? "" }
      if (!(await confirmReplacePairing(here, next))) {
        if (!app.space) {
          app.space = await PhoneSpace.load(app.store, refresh)
          if (app.space) void app.space.run()
        }
        return
      }
    }
    app.space?.stop()
    app.space = await PhoneSpace.pair(app.store, invite, refresh, undefined, { replace: !!current })
    app.error = undefined
    void app.space.run()
  } catch (err) {
    app.error =
      err instanceof VigilError && err.code === "ALREADY_PAIRED"
        ? errorSentence(err)
        : `Pairing failed. ${errorSentence(err)}`
  }
}

async function refresh() {
  await app.events.update()
  render()
}

function play(event: EventRecord) {
  return app.events.play(event)
}

/** The home's cameras as the hub's roster names them (none before a roster came: the hub picks). */
const liveCameras = (): LiveCamera[] => app.space?.cameras() ?? []

const liveClosed = () => {
  app.live = undefined
  render()
}

/**
 * Live view of one camera (the first, or `camera`), with a picker for the others; one live view or grid at
 * a time, its element kept across renders so the canvas keeps its picture.
 */
function openLive(camera = liveCameras()[0]) {
  if (!app.space || (support.kind === "supported" && !support.live)) return
  app.live?.stop()
  const live = new LiveView(app.space, { camera, cameras: liveCameras, onClose: liveClosed })
  app.live = live
  live.start()
  render()
}

/** Every camera at once (liveGrid.ts); a tile opens its camera alone. */
function openGrid() {
  const cameras = liveCameras()
  if (!app.space || cameras.length < 2 || (support.kind === "supported" && !support.live)) return
  app.live?.stop()
  const grid = new LiveGrid(app.space, cameras, {
    onExpand: (camera) => openLive(camera),
    onClose: liveClosed,
  })
  app.live = grid
  grid.start()
  render()
}

function liveButton() {
  if (app.live) return null
  if (support.kind === "supported" && !support.live) return liveUnavailable()
  const live = h(
    "button",
    { class: "primary", "data-testid": "live-button", onclick: () => openLive() },
    "Live",
  )
  if (liveCameras().length < 2) return live
  return h(
    "div",
    { class: "live-buttons" },
    live,
    h("button", { class: "secondary", "data-testid": "live-grid-button", onclick: openGrid }, "All cameras"),
  )
}

function statusChip() {
  const status = app.space?.status
  if (!status) return h("span", { class: "chip" }, "Not paired")
  const text = {
    "waiting-for-hub": "Pairing…",
    repairing: "Reconnecting…",
    paired: "Connected",
    offline: "Offline",
    removed: "Removed",
  }[status.kind]
  return h("span", { class: `chip chip-${status.kind}`, "data-testid": "status", role: "status" }, text)
}

/** The Add camera screen (web/src/features/pairing): kept across renders while no camera is paired. */
let addCamera: AddCameraView | undefined
/** A join link this page was opened with (features/devices/inviteSection.ts made it on a paired phone). */
let joinLink: JoinLink | undefined
/** The Devices screen (web/src/features/devices). */
const devicesView = new DevicesView(
  () => app.space,
  () => render(),
)

function addCameraCard() {
  addCamera ??= new AddCameraView({
    signalUrl: defaultSignalUrl(),
    store: app.store,
    join: joinLink,
    onPaired: () => void openPairedSpace(),
    onPairCode: async (code) => {
      await pairWith(code)
      if (app.space) {
        addCamera?.close()
        addCamera = undefined
      }
      await refresh()
    },
  })
  return addCamera.element
}

async function openPairedSpace() {
  addCamera?.close()
  addCamera = undefined
  app.space = await PhoneSpace.load(app.store, refresh)
  if (app.space) void app.space.run()
  await refresh()
}

/** When a panel closes from its close button, keyboard focus goes back to the button that opened it. */
const focusReturn: Record<string, string> = {
  "Close devices": "devices-button",
  "Close live view": "live-button",
}

function render() {
  const closing = focusReturn[document.activeElement?.getAttribute("aria-label") ?? ""]
  const status = app.space?.status.kind
  const body: (Node | null)[] = [browserLimitsNotice(support)]
  if (app.updateReady) {
    body.push(updatePrompt(app.updateReady))
  }
  if (app.error) body.push(h("p", { class: "error", role: "alert" }, app.error))
  if (!app.space) body.push(addCameraCard())
  else if (status === "waiting-for-hub") {
    body.push(
      h(
        "section",
        { class: "card", "data-testid": "pairing-wait" },
        h("h2", {}, `Pairing with ${app.space.hubName}…`),
        h("p", { class: "muted" }, "Waiting for the hub to let this phone in. Keep this page open."),
      ),
    )
  } else if (app.space.status.kind === "repairing") {
    body.push(
      h(
        "section",
        { class: "card", "data-testid": "repairing" },
        h("h2", {}, `Reconnecting to ${app.space.hubName}…`),
        h(
          "p",
          { class: "muted" },
          `This phone fell out of step (${app.space.status.reason}); the hub is letting it back in.`,
        ),
      ),
    )
  } else if (status === "removed") {
    body.push(
      h(
        "section",
        { class: "card" },
        h("h2", {}, "This phone was removed"),
        h("p", {}, "It no longer receives anything from this camera."),
      ),
    )
  } else {
    body.push(app.live?.element ?? liveButton())
    body.push(devicesView.render())
    body.push(
      h("h2", { class: "section-title", "data-testid": "paired-with" }, `Events — ${app.space.hubName}`),
      app.events.element,
    )
  }
  root.replaceChildren(
    h(
      "header",
      { class: "top" },
      h("img", { src: "/icons/icon-192.png", alt: "", width: "28", height: "28" }),
      h("h1", {}, "Vigil"),
      statusChip(),
    ),
    h("main", {}, ...body, settingsPanel()),
  )
  if (closing && document.activeElement === document.body)
    root.querySelector<HTMLElement>(`[data-testid="${closing}"]`)?.focus()
  app.events.mounted()
}

// The last resort: a cause the check above did not foresee still gets a screen, never a bare error.
void start().catch((err: unknown) =>
  showStartupFailure(root, err, support ?? checkBrowserSupport(globalThis)),
)
