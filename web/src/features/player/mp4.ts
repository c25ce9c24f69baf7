/**
 * Just enough MP4 reading to choose how to play a clip: is it fragmented (a `moov` with `mvex`, so Media
 * Source Extensions can take it as it arrives), and which codec does its `avcC` name.
 */
export type InitScan =
  | { kind: "need-more" }
  | { kind: "unplayable"; reason: string }
  | { kind: "found"; fragmented: boolean; mimeType: string }

const ascii = (b: Uint8Array, at: number) => String.fromCharCode(b[at]!, b[at + 1]!, b[at + 2]!, b[at + 3]!)
const hex2 = (n: number) => n.toString(16).padStart(2, "0").toUpperCase()

interface Box {
  type: string
  start: number
  /** Start of the payload. */
  body: number
  end: number
}

function boxes(b: Uint8Array, from: number, to: number): Box[] {
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength)
  const out: Box[] = []
  for (let at = from; at + 8 <= to;) {
    let size = view.getUint32(at)
    let body = at + 8
    if (size === 1) {
      if (at + 16 > to) break
      size = Number(view.getBigUint64(at + 8))
      body = at + 16
    } else if (size === 0) size = to - at
    if (size < body - at) break
    out.push({ type: ascii(b, at + 4), start: at, body, end: at + size })
    at += size
  }
  return out
}

/**
 * Looks at the start of a clip for its `moov`. Top-level boxes before it are skipped (`ftyp`, `free`); the
 * codec comes from the first `avcC` inside it.
 */
export function scanInit(b: Uint8Array): InitScan {
  for (const box of boxes(b, 0, b.length)) {
    if (box.type === "mdat" || box.type === "moof")
      return { kind: "unplayable", reason: "media before the movie header" }
    if (box.type !== "moov") continue
    if (box.end > b.length) return { kind: "need-more" }
    const fragmented = boxes(b, box.body, box.end).some((c) => c.type === "mvex")
    const moov = b.subarray(box.body, box.end)
    for (let i = 4; i + 8 <= moov.length; i++) {
      // 'avcC' then configurationVersion, profile, compatibility, level.
      if (moov[i] === 0x61 && ascii(moov, i) === "avcC" && moov[i + 4] === 1) {
        const codec = `avc1.${hex2(moov[i + 5]!)}${hex2(moov[i + 6]!)}${hex2(moov[i + 7]!)}`
        return { kind: "found", fragmented, mimeType: `video/mp4; codecs="${codec}"` }
      }
    }
    return { kind: "found", fragmented, mimeType: "video/mp4" }
  }
  return b.length > 4 * 1024 * 1024
    ? { kind: "unplayable", reason: "no movie header in the first 4 MiB" }
    : { kind: "need-more" }
}

/** `vigil-front-door-2026-11-22-1502.mp4`, in the phone's local time. */
export function exportName(cameraName: string, startedAt: number): string {
  const slug =
    cameraName
      .normalize("NFKD")
      .replace(/[\u0300-\u036f]/g, "")
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, "-")
      .replace(/^-+|-+$/g, "")
      .slice(0, 40) || "camera"
  const d = new Date(startedAt)
  const p = (n: number) => String(n).padStart(2, "0")
  const stamp = `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}-${p(d.getHours())}${p(d.getMinutes())}`
  return `vigil-${slug}-${stamp}.mp4`
}
