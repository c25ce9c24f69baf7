import type { DeviceId } from "@vigil/protocol"
import type { PhoneSpace } from "../../space/phoneSpace.ts"
import { h } from "../../ui/dom.ts"
import { errorSentence } from "../../ui/errorText.ts"

/**
 * "Leave this home", at the bottom of the Devices screen: after a plain warning, this phone asks the hub to
 * remove it (a signed request, like any removal) and forgets the home — its keys, clips and events. Other
 * homes on the phone stay as they are (store/homes.ts). The last owner of a home with other phones is told
 * to make another phone an owner first (protocol/src/roles.ts), as the hub would refuse anyway.
 */
export class LeaveSection {
  private confirming = false
  private leaving = false
  private error: string | undefined

  constructor(
    private readonly space: () => PhoneSpace | undefined,
    private readonly rerender: () => void,
    private readonly leave: () => Promise<void>,
  ) {}

  reset() {
    this.confirming = false
    this.error = undefined
  }

  render(): HTMLElement {
    const space = this.space()
    const name = space?.hubName ?? "this home"
    const self = space?.deviceId as DeviceId | undefined
    const allowed = self !== undefined && (space?.may({ kind: "remove-phone", target: self }) ?? false)
    const body: (HTMLElement | string)[] = [h("h3", { id: "leave-heading" }, "Leave this home")]
    if (this.leaving) body.push(h("p", { class: "muted", role: "status" }, `Leaving ${name}…`))
    else if (!this.confirming) {
      body.push(
        h(
          "button",
          {
            class: "device-remove",
            "data-testid": "leave-home",
            disabled: !allowed,
            onclick: () => {
              this.confirming = true
              this.rerender()
            },
          },
          `Leave ${name}`,
        ),
      )
      if (!allowed && space?.may({ kind: "invite" })) {
        body.push(h("p", { class: "muted" }, "Make another phone an owner first: a home keeps an owner."))
      }
    } else {
      body.push(
        h(
          "div",
          { class: "device-confirm", role: "alertdialog", "aria-label": `Leave ${name}?` },
          h(
            "p",
            {},
            `This phone stops receiving ${name} and forgets its clips and events. Other homes on this phone stay.`,
          ),
          h(
            "button",
            { class: "primary", "data-testid": "leave-home-yes", onclick: () => void this.go() },
            "Leave",
          ),
          h(
            "button",
            {
              class: "secondary",
              onclick: () => {
                this.confirming = false
                this.rerender()
              },
            },
            "Stay",
          ),
        ),
      )
    }
    if (this.error) body.push(h("p", { class: "error", role: "alert" }, this.error))
    return h("section", { class: "leave-section", "aria-labelledby": "leave-heading" }, ...body)
  }

  private async go() {
    this.leaving = true
    this.error = undefined
    this.rerender()
    try {
      await this.leave()
    } catch (err) {
      this.error = `This phone could not leave. ${errorSentence(err)}`
    }
    this.leaving = false
    this.confirming = false
    this.rerender()
  }
}
