/**
 * Reads the hub's pairing QR code with the phone's camera, for when discovery cannot work. The decoder
 * (jsQR, pure JS) is loaded only when the user starts a scan, so it costs nothing on a normal start.
 */
export class QrScanner {
  readonly video = document.createElement("video")
  private stream: MediaStream | undefined
  private timer: ReturnType<typeof setInterval> | undefined
  private readonly canvas = document.createElement("canvas")

  constructor() {
    this.video.muted = true
    this.video.playsInline = true
    this.video.setAttribute("aria-label", "Camera preview")
    this.video.setAttribute("data-testid", "qr-preview")
    this.video.className = "qr-preview"
  }

  static get available(): boolean {
    return typeof navigator !== "undefined" && !!navigator.mediaDevices?.getUserMedia
  }

  /** Starts the camera and calls `onText` once with the first QR code's text. */
  async start(onText: (text: string) => void): Promise<void> {
    const { default: jsQR } = await import("jsqr")
    this.stream = await navigator.mediaDevices.getUserMedia({
      video: { facingMode: "environment" },
      audio: false,
    })
    this.video.srcObject = this.stream
    await this.video.play()
    const ctx = this.canvas.getContext("2d", { willReadFrequently: true })
    if (!ctx) throw new Error("no 2D canvas")
    this.timer = setInterval(() => {
      const w = this.video.videoWidth
      const h = this.video.videoHeight
      if (!w || !h) return
      // At most 640 wide: enough for a code that fills part of the picture, cheap on a phone.
      const scale = Math.min(1, 640 / w)
      this.canvas.width = Math.round(w * scale)
      this.canvas.height = Math.round(h * scale)
      ctx.drawImage(this.video, 0, 0, this.canvas.width, this.canvas.height)
      const image = ctx.getImageData(0, 0, this.canvas.width, this.canvas.height)
      const code = jsQR(image.data, image.width, image.height, { inversionAttempts: "attemptBoth" })
      if (code?.data) {
        this.stop()
        onText(code.data)
      }
    }, 250)
  }

  /** Keeps the preview playing after the element moved in the page. */
  resume(): void {
    if (this.stream) void this.video.play().catch(() => undefined)
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer)
    this.timer = undefined
    for (const track of this.stream?.getTracks() ?? []) track.stop()
    this.stream = undefined
    this.video.srcObject = null
  }
}

/** The pairing code inside a scanned text: a pairing link (`…#pair=v1.…`) or the bare code. */
export function pairingCodeFromScan(text: string): string {
  const hash = text.indexOf("#")
  if (hash >= 0) {
    const code = new URLSearchParams(text.slice(hash + 1)).get("pair")
    if (code) return code
  }
  return text.trim()
}
