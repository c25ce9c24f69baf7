import { isValidCameraName, maxCameraNameLength } from "@vigil/protocol"
import type { PhoneSpace } from "../../space/phoneSpace.ts"
import { h } from "../../ui/dom.ts"
import { errorSentence } from "../../ui/errorText.ts"

/** How long a rename may wait for the hub's new roster before the screen says it was not confirmed. */
const confirmTimeoutMs = 30_000

/** The rename being typed: its elements live across the app's renders, so typing and focus are never lost. */
interface Editor {
  cameraId: string
  form: HTMLFormElement
  input: HTMLInputElement
  problem: HTMLParagraphElement
}

/**
 * The Cameras part of the Devices screen: the hub's cameras as its signed roster names them, each with a
 * Rename button that opens an inline labelled field (Enter saves, Escape cancels). The new name is a signed
 * request to the hub (PhoneSpace.renameCamera); the row shows it once the hub's next roster carries it.
 */
export class CamerasSection {
  private editor: Editor | undefined
  private saving: { cameraId: string; name: string; timer: ReturnType<typeof setTimeout> } | undefined
  private error: string | undefined
  /** The element to give focus back to after the next render (the app re-attaches the whole screen). */
  private focusAfterRender: string | undefined

  constructor(
    private readonly space: () => PhoneSpace | undefined,
    private readonly rerender: () => void,
    /** Whether this phone may rename cameras (owners, protocol/src/roles.ts). */
    private readonly editable: () => boolean,
  ) {}

  render(): HTMLElement {
    const cameras = this.space()?.cameras() ?? []
    const saving = this.saving
    if (saving && cameras.some((c) => c.id === saving.cameraId && c.name === saving.name)) {
      clearTimeout(saving.timer)
      this.saving = undefined
      this.focusAfterRender ??= `rename-${saving.cameraId}`
    }
    this.restoreFocus()
    return h(
      "section",
      { class: "cameras-section", "aria-labelledby": "cameras-heading", "data-testid": "cameras" },
      h("h3", { id: "cameras-heading" }, "Cameras"),
      h(
        "p",
        { class: "muted" },
        "A new name shows on every phone. Clips already recorded keep the name they were recorded under.",
      ),
      cameras.length === 0
        ? h(
            "p",
            { class: "muted", "data-testid": "cameras-empty" },
            "The hub has not listed its cameras yet.",
          )
        : h(
            "ul",
            { class: "devices-list", "data-testid": "camera-list" },
            ...cameras.map((c) => this.row(c)),
          ),
      this.error ? h("p", { class: "error", role: "alert" }, this.error) : null,
    )
  }

  private row(camera: { id: string; name: string }) {
    const editing = this.editor?.cameraId === camera.id
    const saving = this.saving?.cameraId === camera.id
    return h(
      "li",
      { "data-testid": "camera", "data-camera-id": camera.id },
      h(
        "div",
        { class: "device-row" },
        h("span", { class: "device-name" }, h("strong", { "data-testid": "camera-name" }, camera.name)),
        saving
          ? h("span", { class: "muted", role: "status" }, "Saving…")
          : editing || !this.editable()
            ? null
            : h(
                "button",
                {
                  class: "device-action",
                  id: `rename-${camera.id}`,
                  "data-testid": "camera-rename",
                  "aria-label": `Rename ${camera.name}`,
                  onclick: () => this.edit(camera),
                },
                "Rename",
              ),
      ),
      editing && !saving ? this.editor!.form : null,
    )
  }

  private edit(camera: { id: string; name: string }) {
    this.error = undefined
    const inputId = `camera-name-${camera.id}`
    const problemId = `${inputId}-problem`
    const problem = h("p", { class: "error camera-problem", id: problemId, "aria-live": "polite" })
    const input = h("input", {
      id: inputId,
      class: "pairing-input",
      type: "text",
      value: camera.name,
      maxlength: String(maxCameraNameLength),
      autocomplete: "off",
      enterkeyhint: "done",
      "aria-required": "true",
      "aria-describedby": problemId,
      "data-testid": "camera-name-input",
      // Advice about a refused name goes once the name is edited.
      oninput: () => {
        problem.textContent = ""
        input.removeAttribute("aria-invalid")
      },
      onkeydown: (e: Event) => {
        if ((e as KeyboardEvent).key === "Escape") this.cancel()
      },
    })
    const form = h(
      "form",
      {
        class: "camera-rename",
        "aria-label": `Rename ${camera.name}`,
        "data-testid": "camera-rename-form",
        onsubmit: (e: Event) => {
          e.preventDefault()
          void this.save(camera)
        },
      },
      h("label", { for: inputId }, `New name for ${camera.name}`),
      input,
      problem,
      h(
        "div",
        { class: "camera-rename-actions" },
        h("button", { class: "primary", type: "submit", "data-testid": "camera-rename-save" }, "Save"),
        h(
          "button",
          {
            class: "secondary",
            type: "button",
            "data-testid": "camera-rename-cancel",
            onclick: () => this.cancel(),
          },
          "Cancel",
        ),
      ),
    )
    this.editor = { cameraId: camera.id, form, input, problem }
    this.focusAfterRender = inputId
    this.rerender()
    input.select()
  }

  private cancel() {
    if (!this.editor) return
    this.focusAfterRender = `rename-${this.editor.cameraId}`
    this.editor = undefined
    this.rerender()
  }

  private async save(camera: { id: string; name: string }) {
    const editor = this.editor
    if (!editor) return
    const name = editor.input.value.trim()
    if (!isValidCameraName(name)) {
      editor.problem.textContent = `Give a name of 1 to ${maxCameraNameLength} characters, without control characters.`
      editor.input.setAttribute("aria-invalid", "true")
      editor.input.focus()
      return
    }
    if (name === camera.name) return this.cancel()
    this.error = undefined
    this.editor = undefined
    const timer = setTimeout(() => {
      if (this.saving?.cameraId !== camera.id) return
      this.saving = undefined
      this.error = `The hub did not confirm the new name for ${camera.name}. Try again.`
      this.rerender()
    }, confirmTimeoutMs)
    this.saving = { cameraId: camera.id, name, timer }
    this.rerender()
    try {
      await this.space()?.renameCamera(camera.id, name)
    } catch (err) {
      clearTimeout(timer)
      this.saving = undefined
      this.error = `The hub could not be asked. ${errorSentence(err)}`
      this.rerender()
    }
  }

  /** Closes any rename in progress (the Devices screen was closed). */
  reset() {
    this.editor = undefined
    this.error = undefined
  }

  /**
   * The app replaces the whole screen on each render, which takes focus away: give it back, and the caret,
   * to the element that had it (or the one an action moved it to) once the new screen is attached.
   */
  private restoreFocus() {
    const active = document.activeElement as HTMLElement | null
    const input = this.editor?.input
    const typing = input !== undefined && active === input
    const caret = typing ? [input.selectionStart, input.selectionEnd] : undefined
    const target = this.focusAfterRender ?? (active?.closest("[data-testid=cameras]") ? active.id : undefined)
    this.focusAfterRender = undefined
    if (!target) return
    queueMicrotask(() => {
      const el = document.getElementById(target)
      if (!el || el === document.activeElement) return
      el.focus()
      if (caret && el instanceof HTMLInputElement) el.setSelectionRange(caret[0] ?? null, caret[1] ?? null)
    })
  }
}
