import type { EventRecord, LocalStore, StoredEvent } from "../../store/db.ts"
import { h } from "../../ui/dom.ts"
import { durationText, labelText, timeText } from "../../ui/format.ts"
import { eventLabels, TimelineModel } from "./timelineModel.ts"
import { layout, windowRange, withDayHeadings, type Entry } from "./windowing.ts"

/** What the timeline needs from the phone's space; absent before pairing (and in the bench). */
export interface TimelineHost {
  loadThumbnail(event: EventRecord): Promise<Uint8Array | undefined>
}

export interface TimelineOptions {
  store: LocalStore
  host?: () => TimelineHost | undefined
  /** Opens an event's clip (and marks it read: `model.markSeen`). */
  onOpen: (event: EventRecord, id: string) => void
  pageSize?: number
}

/** Moves `nodes` into `parent` in order, touching only what changed (a focused row stays focused). */
function reconcile(parent: Element, nodes: readonly Node[]) {
  let at: ChildNode | null = parent.firstChild
  for (const node of nodes) {
    if (at === node) at = at.nextSibling
    else parent.insertBefore(node, at)
  }
  while (at) {
    const next: ChildNode | null = at.nextSibling
    at.remove()
    at = next
  }
}

/** Rows drawn beyond the screen's edges, so scrolling and Tab find them ready. */
const overscanPx = 600

interface Row {
  version: string
  li: HTMLLIElement
}

/**
 * The events timeline: newest first, grouped by day, filter chips by camera and label, unread marks,
 * infinite scroll. Windowed: every line has a fixed height, so the list's full height is known and only
 * the lines near the screen are in the DOM (about 25 at 360x740, whatever the number of events). Rows are
 * built once per event version and reused. A page of events is read and decrypted only when the end of
 * what is loaded comes near.
 */
export class Timeline {
  readonly element: HTMLElement
  readonly model: TimelineModel
  private filter: { cameras: Set<string>; labels: Set<string> } = { cameras: new Set(), labels: new Set() }
  private readonly list: HTMLElement
  private readonly chips: HTMLElement
  private readonly toolbar: HTMLElement
  private readonly more: HTMLButtonElement
  private readonly empty: HTMLElement
  private readonly rows = new Map<string, Row>()
  private readonly headings = new Map<string, HTMLLIElement>()
  private entries: Entry[] = []
  private tops: Float64Array = new Float64Array(0)
  private frameRequested = false
  private readonly thumbs = new Map<string, string | "loading" | "failed">()
  private readonly pageObserver: IntersectionObserver | undefined
  private readonly thumbObserver: IntersectionObserver | undefined
  private lastFocusId: string | undefined

  constructor(private readonly options: TimelineOptions) {
    this.model = new TimelineModel(options.store, options.pageSize ?? 50)
    this.chips = h("div", { class: "filters", role: "group", "aria-label": "Filter events" })
    this.toolbar = h("div", { class: "timeline-bar" })
    this.list = h("ul", { class: "events timeline-list", "data-testid": "events", "aria-label": "Events" })
    this.empty = h("p", { class: "muted empty" })
    this.more = h(
      "button",
      { class: "more", "data-testid": "load-more", onclick: () => void this.loadMore() },
      "Show older events",
    )
    this.element = h(
      "section",
      { class: "timeline", "aria-label": "Events" },
      this.toolbar,
      this.chips,
      this.list,
      this.empty,
      this.more,
    )
    if (typeof window !== "undefined") {
      const schedule = () => {
        if (this.frameRequested) return
        this.frameRequested = true
        requestAnimationFrame(() => {
          this.frameRequested = false
          this.drawWindow()
        })
      }
      window.addEventListener("scroll", schedule, { passive: true })
      window.addEventListener("resize", schedule, { passive: true })
    }
    this.element.addEventListener("focusin", (e) => {
      this.lastFocusId = (e.target as HTMLElement).closest<HTMLElement>("[data-event-id]")?.dataset.eventId
    })
    if (typeof IntersectionObserver !== "undefined") {
      this.pageObserver = new IntersectionObserver(
        (entries) => {
          if (entries.some((e) => e.isIntersecting)) void this.loadMore()
        },
        { rootMargin: "0px 0px 1200px 0px" },
      )
      this.pageObserver.observe(this.more)
      this.thumbObserver = new IntersectionObserver(
        (entries) => {
          for (const e of entries) {
            if (!e.isIntersecting) continue
            this.thumbObserver!.unobserve(e.target)
            const id = (e.target as HTMLElement).dataset.thumbFor
            const item = id ? this.model.items.find((s) => s.id === id) : undefined
            if (item) this.loadThumbnail(item)
          }
        },
        { rootMargin: "400px 0px" },
      )
    }
  }

  /** Re-reads the loaded range from IndexedDB (new, changed and removed events) and redraws. */
  async update(): Promise<void> {
    await this.model.refresh()
    this.render()
  }

  async loadMore(): Promise<void> {
    if (this.model.exhausted) return
    await this.model.loadMore()
    this.render()
    // The end is still in view (a short page, or a filter that matched little): keep going.
    if (this.pageObserver && !this.model.exhausted) {
      this.pageObserver.unobserve(this.more)
      this.pageObserver.observe(this.more)
    }
  }

  /** Call after the host (re-)mounted the element: draws what is on screen, puts keyboard focus back. */
  mounted() {
    this.drawWindow()
    const id = this.lastFocusId
    if (!id || (document.activeElement && document.activeElement !== document.body)) return
    this.rowButton(id)?.focus({ preventScroll: true })
  }

  private rowButton(id: string) {
    return this.rows.get(id)?.li.querySelector<HTMLElement>("button.event")
  }

  async markAllRead() {
    await this.model.markAllSeen()
    this.render()
  }

  async remove(id: string) {
    await this.model.remove(id)
    const url = this.thumbs.get(id)
    if (url && url !== "loading" && url !== "failed") URL.revokeObjectURL(url)
    this.thumbs.delete(id)
    this.rows.delete(id)
    this.render()
  }

  /** Focuses an event's row (after the player closes). */
  focusEvent(id: string) {
    const index = this.entries.findIndex((e) => e.key === id)
    if (index === -1) return
    const listTop = this.list.getBoundingClientRect().top + window.scrollY
    const top = listTop + this.tops[index]!
    if (top < window.scrollY + 60 || top + 82 > window.scrollY + window.innerHeight) {
      window.scrollTo({ top: Math.max(0, top - window.innerHeight / 3) })
    }
    this.drawWindow()
    this.rowButton(id)?.focus({ preventScroll: true })
  }

  private open(item: StoredEvent) {
    if (item.event.pending) return
    this.lastFocusId = item.id
    this.options.onOpen(item.event, item.id)
  }

  private toggle(kind: "cameras" | "labels", value: string | undefined) {
    const set = this.filter[kind]
    if (value === undefined) set.clear()
    else if (set.has(value)) set.delete(value)
    else set.add(value)
    this.render()
    if (this.pageObserver) {
      this.pageObserver.unobserve(this.more)
      this.pageObserver.observe(this.more)
    }
  }

  render() {
    const visible = this.model.visible(this.filter)
    this.renderToolbar()
    this.renderChips()
    this.entries = withDayHeadings(visible)
    const { tops, total } = layout(this.entries)
    this.tops = tops
    this.list.style.height = `${total}px`
    const ids = new Set(visible.map((s) => s.id))
    for (const id of [...this.rows.keys()]) if (!ids.has(id)) this.rows.delete(id)
    this.drawWindow()

    const filtered = this.filter.cameras.size + this.filter.labels.size > 0
    this.empty.textContent =
      visible.length > 0 || !this.model.exhausted
        ? ""
        : filtered
          ? "No events match these filters."
          : "No events yet. Clips appear here when your camera sees motion."
    this.empty.hidden = this.empty.textContent === ""
    this.more.hidden = this.model.exhausted
  }

  /** Puts the lines near the screen in the DOM (and the focused row, wherever it is). */
  private drawWindow() {
    if (!this.list.isConnected) return
    const top = -this.list.getBoundingClientRect().top
    const { start, end } = windowRange(
      this.entries,
      this.tops,
      top - overscanPx,
      top + window.innerHeight + overscanPx,
    )
    const focusedId = (document.activeElement as HTMLElement | null)?.closest?.<HTMLElement>(
      "[data-event-id]",
    )?.dataset.eventId
    const nodes: HTMLLIElement[] = []
    this.entries.forEach((entry, i) => {
      if ((i < start || i >= end) && entry.key !== focusedId) return
      const node = entry.kind === "day" ? this.heading(entry.key, entry.label) : this.row(entry.item)
      node.style.top = `${this.tops[i]}px`
      nodes.push(node)
    })
    reconcile(this.list, nodes)
  }

  private heading(key: string, label: string): HTMLLIElement {
    let li = this.headings.get(key)
    if (!li) {
      // A list item holding a heading (a <ul> may only hold list items).
      li = h("li", { class: "day-title" }, h("h3", {}))
      this.headings.set(key, li)
    }
    // "Today" becomes "Yesterday" at midnight.
    const title = li.firstElementChild!
    if (title.textContent !== label) title.textContent = label
    return li
  }

  private renderToolbar() {
    const unread = this.model.unreadCount()
    const label = unread === 0 ? "All read" : `${unread} unread`
    this.toolbar.replaceChildren(
      h("span", { class: "muted", "data-testid": "unread-count", "aria-live": "polite" }, label),
      h(
        "button",
        {
          class: "link",
          "data-testid": "mark-all-read",
          disabled: unread === 0 && this.model.exhausted,
          onclick: () => void this.markAllRead(),
        },
        "Mark all read",
      ),
    )
  }

  private renderChips() {
    const chip = (kind: "cameras" | "labels", value: string | undefined, text: string, testId: string) => {
      const on = value === undefined ? this.filter[kind].size === 0 : this.filter[kind].has(value)
      return h(
        "button",
        {
          class: "filter-chip",
          "aria-pressed": on ? "true" : "false",
          "data-testid": testId,
          onclick: () => this.toggle(kind, value),
        },
        text,
      )
    }
    const focused = (document.activeElement as HTMLElement | null)?.dataset?.testid
    const cameras = this.model.cameras()
    const rows = [
      h(
        "div",
        { class: "filter-row", role: "group", "aria-label": "Label" },
        chip("labels", undefined, "All", "filter-label-all"),
        ...eventLabels.map((l) => chip("labels", l, labelText(l), `filter-label-${l}`)),
      ),
      cameras.length > 1 || this.filter.cameras.size > 0
        ? h(
            "div",
            { class: "filter-row", role: "group", "aria-label": "Camera" },
            chip("cameras", undefined, "All cameras", "filter-camera-all"),
            ...cameras.map((c) => chip("cameras", c.id, c.name, `filter-camera-${c.id}`)),
          )
        : null,
    ]
    this.chips.replaceChildren(...rows.filter((r): r is HTMLDivElement => r !== null))
    // The chips are rebuilt: keep the keyboard where it was.
    if (focused?.startsWith("filter-"))
      this.chips.querySelector<HTMLElement>(`[data-testid="${focused}"]`)?.focus()
  }

  private row(item: StoredEvent): HTMLLIElement {
    const known = this.rows.get(item.id)
    if (known?.version === item.version) return known.li
    const e = item.event
    const unread = !e.seen && !e.pending
    const meta = `${timeText(e.startedAt)} · ${e.pending ? "Recording…" : durationText(e.endedAt - e.startedAt)}`
    const li = h(
      "li",
      { class: "event-row", "data-event-id": item.id },
      h(
        "button",
        {
          class: `event${unread ? " unread" : ""}`,
          "data-testid": "event",
          "data-label": e.label,
          // The visible text, in its order, inside the name (WCAG 2.5.3: voice control says what it sees).
          "aria-label": `${unread ? "Unread: " : ""}${e.cameraName}, ${labelText(e.label)}, ${meta}${e.pending ? ", still recording" : ""}`,
          onclick: () => this.open(item),
        },
        this.thumbBox(item),
        h(
          "span",
          { class: "event-main" },
          // The camera's name gets the whole first line (a 360 px screen has no room for it beside the label).
          // The spaces between items (a flex container does not draw them) keep the words apart in the
          // button's text, which must match its name.
          h("strong", { class: "event-camera" }, e.cameraName),
          " ",
          h(
            "span",
            { class: "event-title" },
            h("span", { class: `badge badge-${e.label}` }, labelText(e.label)),
            " ",
            h("span", { class: "muted" }, meta),
          ),
        ),
        h(
          "span",
          { class: "event-side" },
          unread ? h("span", { class: "unread-dot", "data-testid": "unread", title: "Unread" }) : null,
        ),
      ),
    )
    if (known?.li.isConnected) {
      const focused = known.li.contains(document.activeElement)
      known.li.replaceWith(li)
      if (focused) li.querySelector("button")?.focus({ preventScroll: true })
    }
    this.rows.set(item.id, { version: item.version, li })
    return li
  }

  /** A fixed box, filled once the picture is decrypted: nothing moves when it arrives. */
  private thumbBox(item: StoredEvent): HTMLElement {
    const box = h("span", { class: "thumb", "data-thumb-for": item.id })
    const url = this.thumbs.get(item.id)
    if (url && url !== "loading" && url !== "failed") box.append(this.img(url))
    else if (item.event.thumbnail && url === undefined) {
      if (this.thumbObserver) this.thumbObserver.observe(box)
      else this.loadThumbnail(item)
    }
    return box
  }

  private img(url: string) {
    return h("img", { src: url, alt: "", width: "96", height: "54", "data-testid": "thumbnail" })
  }

  private loadThumbnail(item: StoredEvent) {
    const host = this.options.host?.()
    if (!host || !item.event.thumbnail || this.thumbs.has(item.id)) return
    this.thumbs.set(item.id, "loading")
    host
      .loadThumbnail(item.event)
      .then((jpeg) => {
        if (!jpeg) return void this.thumbs.set(item.id, "failed")
        const url = URL.createObjectURL(new Blob([jpeg as BlobPart], { type: "image/jpeg" }))
        this.thumbs.set(item.id, url)
        this.rows.get(item.id)?.li.querySelector(".thumb")?.replaceChildren(this.img(url))
      })
      .catch(() => this.thumbs.set(item.id, "failed"))
  }
}
