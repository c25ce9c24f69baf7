import type { PhoneSpace } from "../../space/phoneSpace.ts"
import { h } from "../../ui/dom.ts"

/**
 * "Invite a phone": a join link for a phone that is not on this home's network (a partner on mobile data),
 * or when the hub has no terminal. The hub watches the link's room; the new phone's request then shows up
 * here as a code to compare and approve (DevicesView's approval card). The link itself grants nothing.
 */
export class InviteSection {
  private link: { url: string; until: number } | undefined
  private busy = false
  private error: string | undefined

  constructor(
    private readonly space: () => PhoneSpace | undefined,
    private readonly rerender: () => void,
  ) {}

  render(): HTMLElement {
    const section = h(
      "section",
      { class: "invite", "aria-label": "Invite a phone" },
      h("h3", {}, "Invite a phone"),
    )
    const link = this.link && this.link.until > Date.now() ? this.link : undefined
    if (!link) {
      section.append(
        h(
          "p",
          { class: "muted" },
          "For a phone that is not on this home's network, or when nobody is at the hub.",
        ),
        h(
          "button",
          {
            class: "secondary",
            "data-testid": "invite-phone",
            disabled: this.busy,
            onclick: () => void this.create(),
          },
          this.busy ? "Making a link…" : "Make a join link",
        ),
      )
    } else {
      // Not every browser shares (desktop Chromium on Linux does not): copy the link there.
      const canShare = "share" in navigator
      const share = async () => {
        if (canShare) await navigator.share({ title: "Join our cameras", url: link.url }).catch(() => {})
        else await navigator.clipboard?.writeText(link.url).catch(() => {})
      }
      section.append(
        h(
          "p",
          {},
          `Open this link on the other phone before ${new Date(link.until).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })}. ` +
            "When it asks to join, this phone shows a code: add it only if both screens show the same code.",
        ),
        h("input", {
          class: "pairing-input",
          readonly: "",
          value: link.url,
          "aria-label": "Join link",
          "data-testid": "join-link",
          onfocus: (e: Event) => (e.target as HTMLInputElement).select(),
        }),
        h("button", { class: "secondary", onclick: () => void share() }, canShare ? "Share…" : "Copy link"),
      )
    }
    if (this.error) section.append(h("p", { class: "error", role: "alert" }, this.error))
    return section
  }

  private async create() {
    const space = this.space()
    if (!space || this.busy) return
    this.busy = true
    this.error = undefined
    this.rerender()
    try {
      const code = await space.invitePhone()
      this.link = {
        url: `${location.origin}${location.pathname}#join=${code}`,
        until: Date.now() + 14 * 60_000,
      }
    } catch {
      this.error = "The hub could not be asked for a link. Check that this phone is online, then try again."
    } finally {
      this.busy = false
      this.rerender()
    }
  }
}
