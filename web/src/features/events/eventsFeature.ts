import type { PhoneSpace } from "../../space/phoneSpace.ts"
import type { EventRecord, LocalStore } from "../../store/db.ts"
import { h } from "../../ui/dom.ts"
import type { ClipPlayer } from "../player/player.ts"
import { hubNewsLines } from "./hubNews.ts"
import { Timeline } from "./timeline.ts"

/**
 * The events screen as main.ts mounts it: the timeline, and the clip player it opens. The player's code
 * loads on first use, so it stays out of the first-load JavaScript.
 */
export class EventsFeature {
  readonly timeline: Timeline
  private player: ClipPlayer | undefined

  constructor(
    store: LocalStore,
    private readonly space: () => PhoneSpace | undefined,
  ) {
    this.timeline = new Timeline({ store, host: space, onOpen: (event, id) => void this.play(event, id) })
    this.timeline.element.prepend(this.news)
  }

  /** Skipped announcements and a silent hub (hubNews.ts), above the timeline; hidden when all is well. */
  private readonly news = h("div", { class: "hub-news", role: "status", "data-testid": "hub-news" })

  private renderNews() {
    const space = this.space()
    const news = space?.hubNews()
    const lines = space && news ? hubNewsLines(news, space.hubName) : []
    this.news.hidden = lines.length === 0
    this.news.replaceChildren(
      ...lines.map((line) => h("p", {}, line)),
      ...(space && news && news.missing > 0
        ? [
            h(
              "button",
              {
                class: "ghost",
                "data-testid": "hub-news-dismiss",
                onclick: () => void space.dismissMissing().then(() => this.renderNews()),
              },
              "OK",
            ),
          ]
        : []),
    )
  }

  get element(): HTMLElement {
    return this.timeline.element
  }

  /** Re-reads the events (after the mailbox brought some) and redraws the timeline. */
  update(): Promise<void> {
    this.renderNews()
    return this.timeline.update()
  }

  /** Call after main.ts re-mounted the element: keyboard focus returns to the row it was on. */
  mounted(): void {
    this.timeline.mounted()
  }

  /** Opens an event's clip in the player (from the timeline, or a notification). */
  async play(event: EventRecord, id = event.id ?? event.clipId): Promise<void> {
    const space = this.space()
    if (!space || event.pending) return
    this.player?.close()
    const { openPlayer } = await import("../player/player.ts")
    void this.timeline.model.markSeen(id).then(() => this.timeline.render())
    this.player = openPlayer({
      host: space,
      event,
      onDeleted: () => this.timeline.remove(id),
      onClose: () => {
        this.player = undefined
        this.timeline.focusEvent(id)
      },
    })
  }
}
