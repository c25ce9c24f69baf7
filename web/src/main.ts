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
import { sharePushWithHomes } from "./features/notifications/pushSubscription.ts"
import { settingsPanel } from "./features/settings/settingsPanel.ts"
import { defaultSignalUrl } from "./features/settings/signalOrigin.ts"
import { updatePrompt, watchForUpdates } from "./features/settings/updatePrompt.ts"
import { PhoneSpace } from "./space/phoneSpace.ts"
import { LocalStore, type EventRecord } from "./store/db.ts"
import { addHomeDb, firstHomeDb, listHomeDbs, removeHomeDb } from "./store/homes.ts"
import { h } from "./ui/dom.ts"
import { errorSentence } from "./ui/errorText.ts"

const root = document.getElementById("app") as HTMLElement

/** One home on this phone: its own store (database), space and timeline (store/homes.ts). */
interface Home {
  db: string
  store: LocalStore
  space: PhoneSpace | undefined
  /** The events timeline and clip player (web/src/features/events, web/src/features/player). */
  events: EventsFeature
}

interface AppState {
  /** Every home on this phone, the first paired first. */
  homes: Home[]
  /** The home on screen. */
  home: Home
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
  const homes: Home[] = []
  let shown: Home | undefined
  for (const db of await listHomeDbs()) {
    const home = await openHome(db)
    const paired = (await home.store.get("space")) !== undefined
    // A further home whose pairing never got as far as a saved space is forgotten.
    if (homes.length > 0 && !paired) {
      home.store.close()
      await removeHomeDb(db)
      continue
    }
    homes.push(home)
    if (paired) shown ??= home
  }
  app = {
    homes,
    // The first paired home (the first one's database is empty after this phone left it), else the first.
    home: shown ?? homes[0]!,
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
  }
  for (const home of app.homes) {
    home.space ??= await PhoneSpace.load(home.store, refresh)
    if (home.space) void home.space.run()
  }
  await refresh()
  // A pairing link opened while the app is open in this tab (only the fragment changes: no reload).
  addEventListener("hashchange", () => {
    const code = new URLSearchParams(location.hash.slice(1)).get("pair")
    if (!code) return
    history.replaceState(null, "", location.pathname)
    void pairWith(code).then(refresh)
  })
  watchClipLinks(async (clipId) => {
    // The clip may be another home's (a notification names the home): switch to it.
    for (const home of app.homes) {
      const event = home.space ? await home.store.getEvent(clipId) : undefined
      if (!event) continue
      if (home !== app.home) await switchHome(home)
      void play(event)
      return true
    }
    return false
  })
}

async function openHome(db: string): Promise<Home> {
  const store = await LocalStore.open(db)
  const home: Home = { db, store, space: undefined, events: new EventsFeature(store, () => home.space) }
  return home
}

/** Shows another home: its timeline, devices and live view (a running live view ends). */
async function switchHome(home: Home) {
  if (home === app.home) return
  app.live?.stop()
  app.live = undefined
  app.home = home
  devicesView.reset()
  await refresh()
}

/** The home switcher in the header, with two homes or more. */
function homeSwitcher(): HTMLElement | null {
  const paired = app.homes.filter((home) => home.space)
  if (paired.length < 2) return null
  const select = h(
    "select",
    {
      class: "home-switcher",
      "data-testid": "home-switcher",
      "aria-label": "Home",
      onchange: () => {
        const chosen = paired.find((home) => home.db === select.value)
        if (chosen) void switchHome(chosen)
      },
    },
    ...paired.map((home) => h("option", { value: home.db }, home.space!.hubName)),
  ) as HTMLSelectElement
  select.value = app.home.db
  return select
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
    // A link for a home this phone already has: show that home.
    for (const home of app.homes) {
      if ((await home.store.get("space"))?.hubKey !== toBase64(invite.hubKey)) continue
      await switchHome(home)
      app.error = `This phone is already paired with ${invite.hubName}.`
      return
    }
    // A link never replaces this phone's home on its own (issue 14, finding 4): the user is asked, with
    // both homes named; keeping the current one is the default, adding the new one beside it an option.
    const current = await app.home.store.get("space")
    if (current) {
      const next = { hubName: invite.hubName, hubKey: toBase64(invite.hubKey), signal: invite.signal }
      const device = await app.home.store.get("device")
      const here = { ...current, signal: device?.signalUrl ?? "" }
      const choice = await confirmReplacePairing(here, next)
      if (choice === "add") {
        const home = await openHome(await addHomeDb())
        home.space = await PhoneSpace.pair(home.store, invite, refresh)
        app.homes.push(home)
        void home.space.run()
        void sharePushWithHomes().catch(() => undefined)
        await switchHome(home)
        app.error = undefined
        return
      }
      if (choice === "keep") return
    }
    app.home.space?.stop()
    app.home.space = await PhoneSpace.pair(app.home.store, invite, refresh, undefined, { replace: !!current })
    app.error = undefined
    void app.home.space.run()
  } catch (err) {
    app.error =
      err instanceof VigilError && err.code === "ALREADY_PAIRED"
        ? errorSentence(err)
        : `Pairing failed. ${errorSentence(err)}`
  }
}

async function refresh() {
  await app.home.events.update()
  render()
}

function play(event: EventRecord) {
  return app.home.events.play(event)
}

/** The home's cameras as the hub's roster names them (none before a roster came: the hub picks). */
const liveCameras = (): LiveCamera[] => app.home.space?.cameras() ?? []

const liveClosed = () => {
  app.live = undefined
  render()
}

/**
 * Live view of one camera (the first, or `camera`), with a picker for the others; one live view or grid at
 * a time, its element kept across renders so the canvas keeps its picture.
 */
function openLive(camera = liveCameras()[0]) {
  if (!app.home.space || (support.kind === "supported" && !support.live)) return
  app.live?.stop()
  const live = new LiveView(app.home.space, { camera, cameras: liveCameras, onClose: liveClosed })
  app.live = live
  live.start()
  render()
}

/** Every camera at once (liveGrid.ts); a tile opens its camera alone. */
function openGrid() {
  const cameras = liveCameras()
  if (!app.home.space || cameras.length < 2 || (support.kind === "supported" && !support.live)) return
  app.live?.stop()
  const grid = new LiveGrid(app.home.space, cameras, {
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
  const status = app.home.space?.status
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
  () => app.home.space,
  () => render(),
  () => leaveHome(app.home),
)

/** How long leaving waits for the hub's removal to come back before forgetting the home anyway. */
const leaveWaitMs = 15_000

/**
 * Leaves a home: asks its hub to remove this phone (as any removal: a signed request, a Remove commit),
 * waits a little for the removal, then forgets the home on this phone. The other homes stay as they are.
 */
async function leaveHome(home: Home) {
  const space = home.space
  if (space) {
    await space.removeDevice(space.deviceId)
    const deadline = Date.now() + leaveWaitMs
    while (space.status.kind !== "removed" && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 250))
    space.stop()
  }
  app.live?.stop()
  app.live = undefined
  home.store.close()
  await removeHomeDb(home.db)
  app.homes = app.homes.filter((h) => h !== home)
  // The first home's database is deleted like any other; an empty one takes its place if it was the last.
  if (app.homes.length === 0) app.homes.push(await openHome(firstHomeDb))
  app.home = app.homes.find((h) => h.space) ?? app.homes[0]!
  devicesView.reset()
  await refresh()
}

function addCameraCard() {
  addCamera ??= new AddCameraView({
    signalUrl: defaultSignalUrl(),
    store: app.home.store,
    join: joinLink,
    onPaired: () => void openPairedSpace(),
    onPairCode: async (code) => {
      await pairWith(code)
      if (app.home.space) {
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
  app.home.space = await PhoneSpace.load(app.home.store, refresh)
  if (app.home.space) void app.home.space.run()
  await refresh()
}

/** When a panel closes from its close button, keyboard focus goes back to the button that opened it. */
const focusReturn: Record<string, string> = {
  "Close devices": "devices-button",
  "Close live view": "live-button",
}

function render() {
  const closing = focusReturn[document.activeElement?.getAttribute("aria-label") ?? ""]
  const status = app.home.space?.status.kind
  const body: (Node | null)[] = [browserLimitsNotice(support)]
  if (app.updateReady) {
    body.push(updatePrompt(app.updateReady))
  }
  if (app.error) body.push(h("p", { class: "error", role: "alert" }, app.error))
  if (!app.home.space) body.push(addCameraCard())
  else if (status === "waiting-for-hub") {
    body.push(
      h(
        "section",
        { class: "card", "data-testid": "pairing-wait" },
        h("h2", {}, `Pairing with ${app.home.space.hubName}…`),
        h("p", { class: "muted" }, "Waiting for the hub to let this phone in. Keep this page open."),
      ),
    )
  } else if (app.home.space.status.kind === "repairing") {
    body.push(
      h(
        "section",
        { class: "card", "data-testid": "repairing" },
        h("h2", {}, `Reconnecting to ${app.home.space.hubName}…`),
        h(
          "p",
          { class: "muted" },
          `This phone fell out of step (${app.home.space.status.reason}); the hub is letting it back in.`,
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
      h("h2", { class: "section-title", "data-testid": "paired-with" }, `Events — ${app.home.space.hubName}`),
      app.home.events.element,
    )
  }
  root.replaceChildren(
    h(
      "header",
      { class: "top" },
      h("img", { src: "/icons/icon-192.png", alt: "", width: "28", height: "28" }),
      h("h1", {}, "Vigil"),
      homeSwitcher(),
      statusChip(),
    ),
    h("main", {}, ...body, settingsPanel()),
  )
  if (closing && document.activeElement === document.body)
    root.querySelector<HTMLElement>(`[data-testid="${closing}"]`)?.focus()
  app.home.events.mounted()
}

// The last resort: a cause the check above did not foresee still gets a screen, never a bare error.
void start().catch((err: unknown) =>
  showStartupFailure(root, err, support ?? checkBrowserSupport(globalThis)),
)
