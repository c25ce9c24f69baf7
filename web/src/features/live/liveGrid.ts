import type { PhoneSpace } from "../../space/phoneSpace.ts"
import { h } from "../../ui/dom.ts"
import { LiveView, type LiveCamera } from "./liveView.ts"

/**
 * Every camera of the home live at once: one tile per camera, each its own live session (its own peer
 * connection and stream key: a camera's frames never share a channel with another's). Tapping a tile
 * opens that camera alone. The hub serves each camera's session independently (hub/src/live).
 */
export class LiveGrid {
  readonly element: HTMLElement
  readonly tiles: LiveView[]

  constructor(
    space: PhoneSpace,
    cameras: readonly LiveCamera[],
    private readonly opts: { onExpand: (camera: LiveCamera) => void; onClose: () => void },
  ) {
    this.tiles = cameras.map(
      (camera) =>
        new LiveView(space, {
          camera,
          cameras: () => cameras,
          onClose: () => {},
          tile: { onExpand: () => this.expand(camera) },
        }),
    )
    this.element = h(
      "section",
      { class: "card live-grid-card", "aria-label": "All cameras", "data-testid": "live-grid" },
      h(
        "div",
        { class: "player-head" },
        h("h2", {}, "All cameras"),
        h("button", { class: "ghost", onclick: () => this.close(), "aria-label": "Close live view" }, "✕"),
      ),
      h("div", { class: "live-grid" }, ...this.tiles.map((t) => t.element)),
    )
    this.element.addEventListener("keydown", (e) => {
      if (e.key !== "Escape") return
      e.preventDefault()
      this.close()
    })
  }

  start(): void {
    for (const tile of this.tiles) tile.start()
  }

  stop(): void {
    for (const tile of this.tiles) tile.stop()
  }

  close(): void {
    this.stop()
    this.opts.onClose()
  }

  private expand(camera: LiveCamera) {
    this.stop()
    this.opts.onExpand(camera)
  }
}
