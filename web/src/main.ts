import "./style.css"
import { registerSW } from "virtual:pwa-register"
import { decodeInvite, VigilError } from "@vigil/protocol"
import { LiveView } from "./features/live/liveView.ts"
import { settingsPanel } from "./features/settings/settingsPanel.ts"
import { PhoneSpace } from "./space/phoneSpace.ts"
import { LocalStore, type EventRecord } from "./store/db.ts"
import { h } from "./ui/dom.ts"
import { durationText, labelText, timeText } from "./ui/format.ts"

const root = document.getElementById("app") as HTMLElement

interface AppState {
  store: LocalStore
  space: PhoneSpace | undefined
  events: EventRecord[]
  error: string | undefined
  playing: { event: EventRecord; url?: string; error?: string } | undefined
  updateReady: (() => void) | undefined
  live: LiveView | undefined
}

let app: AppState

async function start() {
  const store = await LocalStore.open()
  app = {
    store,
    space: undefined,
    events: [],
    error: undefined,
    playing: undefined,
    updateReady: undefined,
    live: undefined,
  }
  registerServiceWorker()
  const pairCode = new URLSearchParams(location.hash.slice(1)).get("pair")
  if (pairCode) {
    history.replaceState(null, "", location.pathname)
    await pairWith(pairCode)
  } else {
    app.space = await PhoneSpace.load(store, refresh)
    if (app.space) void app.space.run()
  }
  await refresh()
}

function registerServiceWorker() {
  if (!("serviceWorker" in navigator)) return
  const updateSW = registerSW({
    immediate: true,
    onNeedRefresh() {
      app.updateReady = () => void updateSW(true)
      render()
    },
  })
}

async function pairWith(code: string) {
  try {
    const invite = decodeInvite(code)
    app.space?.stop()
    app.space = await PhoneSpace.pair(app.store, invite, refresh)
    app.error = undefined
    void app.space.run()
  } catch (err) {
    app.error = err instanceof VigilError ? err.message : `Pairing failed: ${(err as Error).message}`
  }
}

async function refresh() {
  app.events = await app.store.listEvents()
  render()
}

async function play(event: EventRecord) {
  if (app.playing?.url) URL.revokeObjectURL(app.playing.url)
  app.playing = { event }
  render()
  try {
    const bytes = await app.space!.loadClip(event)
    app.playing = { event, url: URL.createObjectURL(new Blob([bytes as BlobPart], { type: "video/mp4" })) }
  } catch (err) {
    const reason =
      err instanceof VigilError && err.code === "CLIP_TAMPERED"
        ? "it was altered in storage"
        : (err as Error).message
    app.playing = { event, error: `This clip cannot be shown: ${reason}.` }
  }
  render()
}

function closePlayer() {
  if (app.playing?.url) URL.revokeObjectURL(app.playing.url)
  app.playing = undefined
  render()
}

/** Live view: one at a time; its element lives across renders so the canvas keeps its picture. */
function openLive() {
  if (!app.space || app.live) return
  const live = new LiveView(app.space, {
    cameraName: app.space.hubName,
    onClose: () => {
      app.live = undefined
      render()
    },
  })
  app.live = live
  live.start()
  render()
}

function liveButton() {
  if (app.live) return null
  return h("button", { class: "primary", "data-testid": "live-button", onclick: openLive }, "Live")
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

function pairingCard() {
  const input = h("textarea", {
    id: "pair-code",
    rows: "3",
    placeholder: "v1.…",
    autocomplete: "off",
    spellcheck: "false",
  })
  return h(
    "section",
    { class: "card" },
    h("h2", {}, "Add your camera"),
    h(
      "p",
      {},
      "Open the pairing link your hub shows (",
      h("code", {}, "npm start"),
      " prints it), or paste its pairing code here.",
    ),
    h("label", { for: "pair-code" }, "Pairing code"),
    input,
    h("button", { class: "primary", onclick: () => void pairWith(input.value).then(refresh) }, "Pair"),
  )
}

/** Decrypted thumbnails, by event id, as object URLs; each is fetched once per page load. */
const thumbnails = new Map<string, string | "loading" | "failed">()

function thumbnailOf(e: EventRecord) {
  const id = e.id ?? e.clipId
  const url = thumbnails.get(id)
  if (e.thumbnail && url === undefined && app.space) {
    thumbnails.set(id, "loading")
    void app.space
      .loadThumbnail(e)
      .then((jpeg) => {
        thumbnails.set(id, URL.createObjectURL(new Blob([jpeg as BlobPart], { type: "image/jpeg" })))
        render()
      })
      .catch(() => thumbnails.set(id, "failed"))
  }
  // A fixed box, filled when the picture is decrypted, so nothing moves when it arrives.
  return h(
    "span",
    { class: "thumb" },
    url && url !== "loading" && url !== "failed"
      ? h("img", { src: url, alt: "", "data-testid": "thumbnail" })
      : null,
  )
}

function eventItem(e: EventRecord) {
  return h(
    "li",
    {},
    h(
      "button",
      {
        class: "event",
        "data-testid": "event",
        "aria-label": `${labelText(e.label)} at ${e.cameraName}, ${timeText(e.startedAt)}${e.pending ? ", still recording" : ""}`,
        onclick: () => void (e.pending ? undefined : play(e)),
      },
      thumbnailOf(e),
      h(
        "span",
        { class: "event-main" },
        h(
          "span",
          {},
          h("span", { class: `badge badge-${e.label}` }, labelText(e.label)),
          " ",
          h("strong", {}, e.cameraName),
        ),
        h("span", { class: "muted" }, timeText(e.startedAt)),
      ),
      h("span", { class: "muted" }, e.pending ? "Recording…" : durationText(e.endedAt - e.startedAt)),
    ),
  )
}

function player() {
  const p = app.playing
  if (!p) return null
  return h(
    "section",
    { class: "card player", "aria-label": "Clip player" },
    h(
      "div",
      { class: "player-head" },
      h("h2", {}, `${labelText(p.event.label)} — ${p.event.cameraName}, ${timeText(p.event.startedAt)}`),
      h("button", { class: "ghost", onclick: closePlayer, "aria-label": "Close player" }, "✕"),
    ),
    p.error
      ? h("p", { class: "error", role: "alert", "data-testid": "clip-error" }, p.error)
      : p.url
        ? h("video", {
            src: p.url,
            controls: true,
            autoplay: true,
            muted: true,
            playsinline: true,
            "data-testid": "clip-video",
          })
        : h("p", { class: "muted" }, "Downloading and decrypting…"),
  )
}

function render() {
  const status = app.space?.status.kind
  const body: (Node | null)[] = []
  if (app.updateReady) {
    body.push(
      h(
        "div",
        { class: "banner", role: "status" },
        "A new version of Vigil is available.",
        h("button", { onclick: app.updateReady }, "Update"),
      ),
    )
  }
  if (app.error) body.push(h("p", { class: "error", role: "alert" }, app.error))
  if (!app.space) body.push(pairingCard())
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
    body.push(player())
    body.push(
      h("h2", { class: "section-title", "data-testid": "paired-with" }, `Events — ${app.space.hubName}`),
      app.events.length
        ? h("ul", { class: "events", "data-testid": "events" }, ...app.events.map(eventItem))
        : h("p", { class: "muted empty" }, "No events yet. Clips appear here when your camera sees motion."),
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
}

void start().catch((err: unknown) => {
  root.textContent = `Vigil could not start: ${(err as Error).message}`
})
