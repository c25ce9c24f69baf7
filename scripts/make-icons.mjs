// Draws the app icons (a camera lens on navy) as PNG files, so no image tool or download is needed.
// Run: node scripts/make-icons.mjs  (the outputs are committed under web/public/icons)
import { writeFileSync, mkdirSync } from "node:fs"
import { deflateSync } from "node:zlib"

const crcTable = new Uint32Array(256).map((_, n) => {
  let c = n
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
  return c >>> 0
})
const crc32 = (buf) => {
  let c = 0xffffffff
  for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8)
  return (c ^ 0xffffffff) >>> 0
}
const chunk = (type, data) => {
  const len = Buffer.alloc(4)
  len.writeUInt32BE(data.length)
  const td = Buffer.concat([Buffer.from(type), data])
  const crc = Buffer.alloc(4)
  crc.writeUInt32BE(crc32(td))
  return Buffer.concat([len, td, crc])
}

function icon(size, { maskable }) {
  const raw = Buffer.alloc(size * (size * 4 + 1))
  const c = size / 2
  // Maskable icons keep their content inside the 80% safe zone.
  const scale = maskable ? 0.72 : 0.9
  const rOuter = (size / 2) * scale
  for (let y = 0; y < size; y++) {
    raw[y * (size * 4 + 1)] = 0
    for (let x = 0; x < size; x++) {
      const d = Math.hypot(x + 0.5 - c, y + 0.5 - c) / rOuter
      let rgba = [15, 23, 42, 255] // navy
      if (!maskable && Math.hypot(x + 0.5 - c, y + 0.5 - c) > size / 2) rgba = [0, 0, 0, 0]
      if (d < 0.78) rgba = [226, 232, 240, 255] // lens ring
      if (d < 0.62) rgba = [30, 41, 59, 255] // lens body
      if (d < 0.4) rgba = [56, 189, 248, 255] // iris
      if (d < 0.18) rgba = [8, 47, 73, 255] // pupil
      const hl = Math.hypot(x + 0.5 - (c - rOuter * 0.17), y + 0.5 - (c - rOuter * 0.17)) / rOuter
      if (hl < 0.08) rgba = [240, 249, 255, 255] // highlight
      raw.set(rgba, y * (size * 4 + 1) + 1 + x * 4)
    }
  }
  const ihdr = Buffer.alloc(13)
  ihdr.writeUInt32BE(size, 0)
  ihdr.writeUInt32BE(size, 4)
  ihdr[8] = 8
  ihdr[9] = 6
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", ihdr),
    chunk("IDAT", deflateSync(raw, { level: 9 })),
    chunk("IEND", Buffer.alloc(0)),
  ])
}

const out = new URL("../web/public/icons/", import.meta.url)
mkdirSync(out, { recursive: true })
writeFileSync(new URL("icon-192.png", out), icon(192, { maskable: false }))
writeFileSync(new URL("icon-512.png", out), icon(512, { maskable: false }))
writeFileSync(new URL("maskable-512.png", out), icon(512, { maskable: true }))
