import { bufferSource, concatBytes } from "@vigil/protocol"
import type { ClipSource } from "../../space/phoneSpace.ts"
import type { EventRecord } from "../../store/db.ts"
import { h } from "../../ui/dom.ts"
import { errorSentence } from "../../ui/errorText.ts"
import { labelText, timeText } from "../../ui/format.ts"
import { decryptClipStream } from "./clipStream.ts"
import { exportName, scanInit } from "./mp4.ts"

/** What the player needs from the phone's space (PhoneSpace). */
export interface PlayerHost {
  clipSource(event: EventRecord): Promise<ClipSource>
  deleteMedia(event: EventRecord): Promise<void>
}

export interface PlayerOptions {
  host: PlayerHost
  event: EventRecord
  /** Removes the event from this phone, after signal deleted its media. */
  onDeleted: () => Promise<void>
  onClose: () => void
}

/** How the clip reached the <video>: Media Source Extensions as records verify, or one blob at the end. */
export type PlaybackPath = "mse" | "blob"

/** A SourceBuffer fed one verified piece at a time. */
class MseSink {
  private constructor(
    private readonly source: MediaSource,
    private readonly buffer: SourceBuffer,
    readonly url: string,
  ) {}

  static async open(video: HTMLVideoElement, mimeType: string): Promise<MseSink> {
    const source = new MediaSource()
    const url = URL.createObjectURL(source)
    const opened = new Promise((resolve) => source.addEventListener("sourceopen", resolve, { once: true }))
    video.src = url
    await opened
    return new MseSink(source, source.addSourceBuffer(mimeType), url)
  }

  append(bytes: Uint8Array): Promise<void> {
    const sb = this.buffer
    return new Promise((resolve, reject) => {
      const done = () => {
        sb.removeEventListener("updateend", done)
        sb.removeEventListener("error", failed)
        resolve()
      }
      const failed = () => {
        sb.removeEventListener("updateend", done)
        sb.removeEventListener("error", failed)
        reject(new Error("the browser could not decode it"))
      }
      sb.addEventListener("updateend", done)
      sb.addEventListener("error", failed)
      sb.appendBuffer(bufferSource(bytes))
    })
  }

  /** A first guess for the seek bar; `end()` sets the exact duration. */
  estimateDuration(seconds: number) {
    if (this.source.readyState !== "open" || this.buffer.updating || !(seconds > 0)) return
    if (!Number.isFinite(this.source.duration) || this.source.duration < seconds)
      this.source.duration = seconds
  }

  end() {
    if (this.source.readyState === "open" && !this.buffer.updating) this.source.endOfStream()
  }
}

/**
 * The clip player, a modal dialog: streams the clip from signal, verifies and decrypts each record as it
 * arrives, and plays it through Media Source Extensions when the MP4 is fragmented (the hub writes it
 * so), else once the whole file verified. Seeking works within what arrived. Save exports the verified
 * MP4; Delete asks, then deletes at signal and on this phone.
 */
export class ClipPlayer {
  readonly dialog: HTMLDialogElement
  /** Which path played the clip, once known (for tests and the bench). */
  path: PlaybackPath | undefined
  private readonly abort = new AbortController()
  private readonly frame: HTMLElement
  private readonly status: HTMLElement
  private readonly actions: HTMLElement
  private video: HTMLVideoElement | undefined
  private urls: string[] = []
  private file: Blob | undefined
  private saveUrl: string | undefined

  constructor(private readonly options: PlayerOptions) {
    const e = options.event
    const title = `${labelText(e.label)} — ${e.cameraName}, ${timeText(e.startedAt)}`
    this.frame = h(
      "div",
      { class: "player-frame" },
      h("p", { class: "muted" }, "Downloading and decrypting…"),
    )
    this.status = h("p", {
      class: "muted player-status",
      "aria-live": "polite",
      "data-testid": "clip-status",
    })
    this.actions = h("div", { class: "player-actions" })
    this.dialog = h(
      "dialog",
      { class: "player", "aria-labelledby": "player-title", "data-testid": "player" },
      h(
        "div",
        { class: "player-head" },
        h("h2", { id: "player-title" }, title),
        h("button", { class: "ghost", "aria-label": "Close player", onclick: () => this.close() }, "✕"),
      ),
      this.frame,
      this.status,
      this.actions,
    )
    // Not secret (the hash of the ciphertext signal stores); lets tests find the stored blob.
    this.dialog.dataset.blobId = e.blobId
    this.dialog.addEventListener("close", () => this.dispose())
    this.renderActions()
  }

  open(): this {
    document.body.append(this.dialog)
    this.dialog.showModal()
    void this.play()
    return this
  }

  close() {
    if (this.dialog.open) this.dialog.close()
    else this.dispose()
  }

  private disposed = false

  private dispose() {
    if (this.disposed) return
    this.disposed = true
    this.abort.abort()
    this.detachVideo()
    for (const url of this.urls) URL.revokeObjectURL(url)
    this.dialog.remove()
    this.options.onClose()
  }

  private detachVideo() {
    const v = this.video
    if (!v) return
    v.pause()
    v.removeAttribute("src")
    v.load()
    v.remove()
    this.video = undefined
  }

  private newVideo(): HTMLVideoElement {
    const v = h("video", {
      controls: true,
      autoplay: true,
      muted: true,
      playsinline: true,
      "aria-label": "Clip",
      "data-testid": "clip-video",
    })
    v.muted = true
    this.video = v
    this.frame.replaceChildren(v)
    return v
  }

  private async play() {
    const { host, event } = this.options
    try {
      const source = await host.clipSource(event)
      const response = await fetch(source.url, {
        headers: source.headers,
        signal: this.abort.signal,
        cache: "no-store",
      })
      if (response.status === 404) throw new Error("it is no longer stored at the relay")
      if (!response.ok || !response.body) throw new Error(`the relay answered ${response.status}`)
      const total = Number(response.headers.get("content-length")) || event.size
      const parts: Uint8Array[] = []
      let sink: MseSink | undefined
      let probing = true
      // Without the hub's record list (older clips), a record is only known to come from a member of the
      // space until the whole blob's hash checks out at the end: then nothing plays before that.
      const streamable = source.recordHashes !== undefined
      const stream = decryptClipStream(response.body, source.key, {
        blobId: source.blobId,
        maxBytes: source.size,
        ...(source.recordHashes ? { recordHashes: source.recordHashes } : {}),
        onBytes: (n) => {
          if (total > 0)
            this.status.textContent = `Downloaded ${Math.min(100, Math.round((n / total) * 100))}%`
        },
      })
      for await (const plain of stream) {
        parts.push(plain)
        if (sink) {
          await sink.append(plain)
          continue
        }
        if (!probing) continue
        const scan = scanInit(parts.length === 1 ? plain : concatBytes(...parts))
        if (scan.kind === "need-more") continue
        if (scan.kind === "unplayable") throw new Error(`it is not a playable video (${scan.reason})`)
        probing = false
        if (
          streamable &&
          scan.fragmented &&
          typeof MediaSource !== "undefined" &&
          MediaSource.isTypeSupported(scan.mimeType)
        ) {
          this.path = "mse"
          sink = await MseSink.open(this.newVideo(), scan.mimeType)
          this.urls.push(sink.url)
          for (const p of parts) await sink.append(p)
          sink.estimateDuration((event.endedAt - event.startedAt) / 1000)
        }
      }
      // Every record verified and the whole blob is the one the hub announced.
      this.file = new Blob(parts as BlobPart[], { type: "video/mp4" })
      if (sink) sink.end()
      else {
        this.path = "blob"
        const url = URL.createObjectURL(this.file)
        this.urls.push(url)
        this.newVideo().src = url
      }
      this.dialog.dataset.path = this.path
      this.status.textContent = "Verified and decrypted on this phone."
      this.renderActions()
    } catch (err) {
      if (this.abort.signal.aborted) return
      this.fail(`This clip cannot be shown. ${errorSentence(err)}`)
    }
  }

  private fail(message: string) {
    this.abort.abort()
    // Whatever played so far had verified; the rest never reaches the decoder.
    this.detachVideo()
    this.frame.replaceChildren(
      h("p", { class: "error", role: "alert", "data-testid": "clip-error" }, message),
    )
    this.status.textContent = ""
    this.renderActions()
  }

  private renderActions() {
    if (this.file && !this.saveUrl) {
      this.saveUrl = URL.createObjectURL(this.file)
      this.urls.push(this.saveUrl)
    }
    const save = this.saveUrl
      ? h(
          "a",
          {
            class: "button",
            href: this.saveUrl,
            download: exportName(this.options.event.cameraName, this.options.event.startedAt),
            "data-testid": "clip-save",
          },
          "Save",
        )
      : h("button", { disabled: true, "data-testid": "clip-save" }, "Save")
    this.actions.replaceChildren(
      save,
      h(
        "button",
        { class: "danger", "data-testid": "clip-delete", onclick: () => this.askDelete() },
        "Delete",
      ),
    )
  }

  private askDelete() {
    const cancel = h("button", { onclick: () => this.renderActions() }, "Cancel")
    this.actions.replaceChildren(
      h(
        "div",
        { class: "confirm", role: "group", "aria-labelledby": "delete-question" },
        h(
          "p",
          { id: "delete-question" },
          "Delete this clip from this phone and from the relay? This cannot be undone.",
        ),
        cancel,
        h(
          "button",
          { class: "danger", "data-testid": "clip-delete-confirm", onclick: () => void this.delete() },
          "Delete clip",
        ),
      ),
    )
    cancel.focus()
  }

  private async delete() {
    this.actions.replaceChildren(h("p", { class: "muted", role: "status" }, "Deleting…"))
    try {
      await this.options.host.deleteMedia(this.options.event)
      await this.options.onDeleted()
      this.close()
    } catch (err) {
      this.actions.replaceChildren(
        h(
          "p",
          { class: "error", role: "alert" },
          `Could not delete. ${errorSentence(err)} Nothing was removed from this phone.`,
        ),
        h("button", { onclick: () => this.askDelete() }, "Try again"),
      )
    }
  }
}

export function openPlayer(options: PlayerOptions): ClipPlayer {
  return new ClipPlayer(options).open()
}
