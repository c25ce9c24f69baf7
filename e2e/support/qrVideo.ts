/** A fake camera picture for Chromium: a QR code of `text` as a Y4M video (--use-file-for-fake-video-capture). */
import { writeFile } from "node:fs/promises"
import qrcode from "qrcode-generator"

export async function writeQrY4m(path: string, text: string, width = 640, height = 480): Promise<void> {
  const qr = qrcode(0, "L")
  qr.addData(text)
  qr.make()
  const modules = qr.getModuleCount()
  const quiet = 4
  const scale = Math.floor(Math.min(width, height) / (modules + 2 * quiet))
  const size = (modules + 2 * quiet) * scale
  const x0 = Math.floor((width - size) / 2)
  const y0 = Math.floor((height - size) / 2)
  const y = Buffer.alloc(width * height, 200) // light grey room
  for (let row = 0; row < size; row++) {
    for (let col = 0; col < size; col++) {
      const r = Math.floor(row / scale) - quiet
      const c = Math.floor(col / scale) - quiet
      const dark = r >= 0 && c >= 0 && r < modules && c < modules && qr.isDark(r, c)
      y[(y0 + row) * width + x0 + col] = dark ? 16 : 235
    }
  }
  const chroma = Buffer.alloc((width / 2) * (height / 2), 128)
  const frame = Buffer.concat([Buffer.from("FRAME\n"), y, chroma, chroma])
  const header = Buffer.from(`YUV4MPEG2 W${width} H${height} F15:1 Ip A1:1 C420jpeg\n`)
  await writeFile(path, Buffer.concat([header, ...Array.from({ length: 15 }, () => frame)]))
}
