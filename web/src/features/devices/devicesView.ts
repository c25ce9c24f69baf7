import "../pairing/pairing.css"
import "./devices.css"
import { VigilError, type DeviceId, type PhoneRole } from "@vigil/protocol"
import type { PhoneSpace } from "../../space/phoneSpace.ts"
import { h } from "../../ui/dom.ts"
import { errorSentence } from "../../ui/errorText.ts"
import { CamerasSection } from "./camerasSection.ts"
import { InviteSection } from "./inviteSection.ts"
import { LeaveSection } from "./leaveSection.ts"

/**
 * The Devices screen: the phones of this camera's group as this phone's own MLS ratchet tree lists them,
 * named from the hub's roster, "this phone" marked, each with its role. An owner can remove another phone
 * after a clear warning, make a phone an owner or a member, invite phones and rename cameras; a member sees
 * the list only (protocol/src/roles.ts — the hub enforces the same rule on the signed requests). The removal
 * is a signed request to the hub, which commits it (web/src/space/phoneSpace.ts removeDevice).
 * Below, the hub's cameras, each renamable for every phone (camerasSection.ts).
 */
export class DevicesView {
  readonly element = h("section", { class: "card", "aria-label": "Devices", "data-testid": "devices" })
  private open = false
  private confirming: string | undefined
  private removing = new Set<string>()
  /** Phones whose role change was asked for, with the role asked, until the roster shows it. */
  private changingRole = new Map<string, PhoneRole>()
  private error: string | undefined
  private askedRoster = false
  private readonly cameras: CamerasSection
  private readonly invite: InviteSection
  private readonly leave: LeaveSection | undefined

  constructor(
    private readonly space: () => PhoneSpace | undefined,
    private readonly rerender: () => void,
    /** Leaves the home on screen and forgets it on this phone (main.ts); no "Leave" without it. */
    onLeave?: () => Promise<void>,
  ) {
    this.leave = onLeave ? new LeaveSection(space, rerender, onLeave) : undefined
    this.cameras = new CamerasSection(space, rerender, () => space()?.may({ kind: "rename-camera" }) ?? false)
    this.invite = new InviteSection(space, rerender)
    // Escape closes the screen, like the player and live view (a field's own Escape cancels its edit first).
    this.element.addEventListener("keydown", (e) => {
      if (e.key !== "Escape" || !this.open || e.defaultPrevented) return
      if ((e.target as HTMLElement).closest("input, textarea")) return
      e.preventDefault()
      // Through the close button, so the app returns focus to the button that opened the screen.
      this.element.querySelector<HTMLElement>('[aria-label="Close devices"]')?.focus()
      this.hide()
    })
  }

  private readonly wrapper = h("div", { "data-testid": "devices-area" })

  /** A new phone waiting for approval (if any), then the "Devices" button or the open screen. */
  render(): HTMLElement {
    const approval = this.approvalCard()
    this.wrapper.replaceChildren(...(approval ? [approval] : []), this.renderDevices())
    return this.wrapper
  }

  /**
   * Adding another phone from this one: the hub says a new phone waits and which code it shows; this
   * phone's user compares it with the new phone's screen and approves, in place of the "y" at the hub.
   */
  private approvalCard(): HTMLElement | undefined {
    const notice = this.space()?.pendingPairing
    if (!notice) return undefined
    const answer = (approve: boolean) => {
      void this.space()
        ?.answerPairing(approve)
        .catch((err: unknown) => {
          this.error = `The answer could not be sent. ${errorSentence(err)}`
        })
        .finally(() => this.rerender())
    }
    return h(
      "section",
      {
        class: "card pairing-approval",
        role: "alertdialog",
        "aria-label": `${notice.deviceName} wants to join`,
        "data-testid": "pairing-approval",
      },
      h("h2", {}, `${notice.deviceName} wants to join`),
      h(
        "p",
        {},
        "Pair it only if its screen shows the same code as this one. It will receive this camera's clips.",
      ),
      h(
        "p",
        { class: "pairing-code", "data-testid": "approval-code" },
        `${notice.code.slice(0, 3)} ${notice.code.slice(3)}`,
      ),
      h(
        "button",
        { class: "primary", "data-testid": "approve-pairing", onclick: () => answer(true) },
        "Codes match — add it",
      ),
      h(
        "button",
        { class: "secondary", "data-testid": "refuse-pairing", onclick: () => answer(false) },
        "Refuse",
      ),
    )
  }

  private renderDevices(): HTMLElement {
    if (!this.open) {
      return h(
        "button",
        { class: "secondary devices-button", "data-testid": "devices-button", onclick: () => this.show() },
        "Devices",
      )
    }
    const space = this.space()
    const devices = space?.devices() ?? []
    // A phone that left the tree is no longer "being removed"; a role shown by the roster is saved. When
    // the hub's roster says this phone may no longer ask (its role changed meanwhile), the hub refused.
    const refused = () => (this.error = errorSentence(new VigilError("NOT_AN_OWNER", "refused by role")))
    for (const id of this.removing) {
      if (!devices.some((d) => d.deviceId === id)) this.removing.delete(id)
      else if (!space?.may({ kind: "remove-phone", target: id as DeviceId })) {
        this.removing.delete(id)
        refused()
      }
    }
    for (const [id, role] of this.changingRole) {
      if (devices.find((d) => d.deviceId === id)?.role === role) this.changingRole.delete(id)
      else if (!space?.may({ kind: "set-role", target: id as DeviceId, role })) {
        this.changingRole.delete(id)
        refused()
      }
    }
    const self = devices.find((d) => d.self)
    const canInvite = space?.may({ kind: "invite" }) ?? false
    this.element.replaceChildren(
      h(
        "div",
        { class: "player-head" },
        h("h2", {}, "Devices"),
        h("button", { class: "ghost", "aria-label": "Close devices", onclick: () => this.hide() }, "✕"),
      ),
      h("p", { class: "muted" }, "Phones that receive this camera's clips and live view."),
      ...(self?.role === "member"
        ? [
            h(
              "p",
              { class: "muted", "data-testid": "member-note" },
              "This phone is a member: it sees clips and live view. Owners add and remove phones and cameras.",
            ),
          ]
        : []),
      h("ul", { class: "devices-list", "data-testid": "device-list" }, ...devices.map((d) => this.item(d))),
      ...(this.error ? [h("p", { class: "error", role: "alert" }, this.error)] : []),
      ...(canInvite ? [this.invite.render()] : []),
      this.cameras.render(),
      ...(this.leave ? [this.leave.render()] : []),
    )
    return this.element
  }

  private item(d: ReturnType<PhoneSpace["devices"]>[number]) {
    const name = d.name ?? `Phone ${d.deviceId.slice(0, 6)}`
    const row = h(
      "li",
      { "data-testid": "device", "data-device-id": d.deviceId },
      h(
        "div",
        { class: "device-row" },
        h(
          "span",
          { class: "device-name" },
          h("strong", {}, name),
          d.self ? h("span", { class: "muted" }, "This phone") : null,
          d.role
            ? h(
                "span",
                { class: "muted", "data-testid": "device-role" },
                d.role === "owner" ? "Owner" : "Member",
              )
            : null,
        ),
        this.roleControl(d, name),
        d.self ||
          this.confirming === d.deviceId ||
          !this.space()?.may({ kind: "remove-phone", target: d.deviceId as DeviceId })
          ? null
          : this.removing.has(d.deviceId)
            ? h("span", { class: "muted", role: "status" }, "Removing…")
            : h(
                "button",
                {
                  class: "device-remove",
                  "data-testid": "device-remove",
                  "aria-label": `Remove ${name}`,
                  onclick: () => {
                    this.confirming = d.deviceId
                    this.rerender()
                  },
                },
                "Remove",
              ),
      ),
    )
    if (this.confirming === d.deviceId) {
      row.append(
        h(
          "div",
          {
            class: "device-confirm",
            role: "alertdialog",
            "aria-label": `Remove ${name}?`,
            "data-testid": "device-remove-confirm",
          },
          h(
            "p",
            {},
            `Remove ${name}? It will stop receiving video immediately; its already-downloaded clips stay on it.`,
          ),
          h(
            "button",
            {
              class: "primary",
              "data-testid": "device-remove-yes",
              onclick: () => void this.remove(d.deviceId),
            },
            "Remove",
          ),
          h(
            "button",
            {
              class: "secondary",
              onclick: () => {
                this.confirming = undefined
                this.rerender()
              },
            },
            "Keep",
          ),
        ),
      )
    }
    return row
  }

  /** "Make owner" / "Make member" for an owner; "Saving…" until the hub's roster shows the new role. */
  private roleControl(d: ReturnType<PhoneSpace["devices"]>[number], name: string): HTMLElement | null {
    if (this.changingRole.has(d.deviceId)) return h("span", { class: "muted", role: "status" }, "Saving…")
    if (!d.role) return null
    const role: PhoneRole = d.role === "owner" ? "member" : "owner"
    if (!this.space()?.may({ kind: "set-role", target: d.deviceId as DeviceId, role })) return null
    return h(
      "button",
      {
        class: "device-action",
        "data-testid": role === "owner" ? "make-owner" : "make-member",
        "aria-label": role === "owner" ? `Make ${name} an owner` : `Make ${name} a member`,
        onclick: () => void this.setRole(d.deviceId, role),
      },
      role === "owner" ? "Make owner" : "Make member",
    )
  }

  private async setRole(deviceId: string, role: PhoneRole) {
    this.changingRole.set(deviceId, role)
    this.error = undefined
    this.rerender()
    try {
      await this.space()?.setRole(deviceId, role)
    } catch (err) {
      this.changingRole.delete(deviceId)
      this.error = `The hub could not be asked. ${errorSentence(err)}`
    }
    this.rerender()
  }

  private show() {
    this.open = true
    if (!this.askedRoster) {
      this.askedRoster = true
      void this.space()
        ?.requestRoster()
        .catch((err: unknown) => {
          this.error = `Could not ask the hub for names. ${errorSentence(err)}`
          this.rerender()
        })
    }
    this.rerender()
  }

  /** Another home is on screen: closed, and its roster asked for again when opened. */
  reset() {
    this.askedRoster = false
    this.removing.clear()
    this.changingRole.clear()
    this.error = undefined
    this.leave?.reset()
    this.hide()
  }

  private hide() {
    this.open = false
    this.confirming = undefined
    this.cameras.reset()
    this.rerender()
  }

  private async remove(deviceId: string) {
    this.confirming = undefined
    this.removing.add(deviceId)
    this.error = undefined
    this.rerender()
    try {
      await this.space()?.removeDevice(deviceId)
    } catch (err) {
      this.removing.delete(deviceId)
      this.error = `The hub could not be asked. ${errorSentence(err)}`
    }
    this.rerender()
  }
}
