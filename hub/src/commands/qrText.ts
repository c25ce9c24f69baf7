import qrcode from "qrcode-generator"

/**
 * A QR code as text for a terminal: two modules per character with Unicode half blocks, dark on light with
 * a quiet zone, so phones scan it from a dark or light terminal alike.
 */
export function renderQrText(text: string): string {
  const qr = qrcode(0, "L")
  qr.addData(text)
  qr.make()
  const size = qr.getModuleCount()
  const quiet = 2
  // Light is "on" (printed), dark is a space... inverted for terminals with a dark background: we print
  // the light modules, so the code reads correctly (dark modules stay dark).
  const light = (row: number, col: number) =>
    row < 0 || col < 0 || row >= size || col >= size ? true : !qr.isDark(row, col)
  const lines: string[] = []
  for (let row = -quiet; row < size + quiet; row += 2) {
    let line = ""
    for (let col = -quiet; col < size + quiet; col++) {
      const top = light(row, col)
      const bottom = light(row + 1, col)
      line += top && bottom ? "█" : top ? "▀" : bottom ? "▄" : " "
    }
    lines.push(line)
  }
  return lines.join("\n")
}
