// `npm run bench:web`: what the phone app costs. Prints figures and writes bench-results/web.json.
//
// 1. first_load_js_gzip_kb: gzip size of the JavaScript web/dist/index.html loads on first load (its module
//    script and modulepreloads; chunks loaded later with import(), like the clip player, are not counted).
// 2. timeline_5000_render_ms: in the system Chromium (360x740), 5,000 events are sealed into IndexedDB
//    through the app's own LocalStore; a fresh page then mounts the real timeline and we time until its
//    first page is painted, then scroll to the end (infinite scroll through every page, each loaded when
//    the scroll nears the end) until the oldest event is on screen. The same run measures 50 events as
//    the baseline; the ratio says how the first paint scales with the store's size.
// 3. clip_first_frame_ms: the real player on a 30 s 640x480 clip, encrypted with the clip framing and
//    served at 1 MB/s (a fair mobile link): time until the first frame is decoded when the MP4 is
//    fragmented (what the hub records: Media Source Extensions, record by record) and, for comparison,
//    when it is a faststart MP4 (the player then waits for the whole verified file: blob URL).
import { spawnSync } from "node:child_process"
import { createServer } from "node:http"
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { extname, join } from "node:path"
import { gzipSync } from "node:zlib"
import { build } from "esbuild"
import { chromium } from "playwright"
import { buildWebIfStale } from "./lib/buildWeb.mjs"

const root = new URL("..", import.meta.url).pathname
const print = (line) => process.stdout.write(`${line}\n`)
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const round = (x, d = 1) => Math.round(x * 10 ** d) / 10 ** d
const runs = Number(process.env.BENCH_WEB_RUNS ?? 3)

// 1. First-load JavaScript of the production build.
buildWebIfStale()
const dist = join(root, "web/dist")
const html = readFileSync(join(dist, "index.html"), "utf8")
const firstLoad = [
  ...html.matchAll(/<script[^>]+type="module"[^>]+src="([^"]+)"/g),
  ...html.matchAll(/<link[^>]+rel="modulepreload"[^>]+href="([^"]+)"/g),
].map((m) => m[1])
const firstLoadBytes = firstLoad.map(
  (src) => gzipSync(readFileSync(join(dist, src.replace(/^\//, "")))).length,
)
const firstLoadKb = round(firstLoadBytes.reduce((a, b) => a + b, 0) / 1024)

// 2. The timeline in Chromium, bundled from the app's sources with the app's stylesheet.
const work = mkdtempSync(join(tmpdir(), "vigil-bench-web-"))
const entry = `
import { LocalStore } from "./store/db.ts"
import { Timeline } from "./features/events/timeline.ts"
import { openPlayer } from "./features/player/player.ts"
import { clipRecordHashes, encryptClip, importClipKey, randomBytes, sha256, toHex } from "@vigil/protocol"
const labels = ["person", "pet", "vehicle", "motion"]
const cameras = [["door", "Front door"], ["garden", "Garden"], ["drive", "Driveway"]]
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))
window.bench = {
  async clip(name) {
    const plain = new Uint8Array(await (await fetch("/" + name + ".mp4")).arrayBuffer())
    const clipId = toHex(randomBytes(16))
    const secret = randomBytes(28)
    const key = await importClipKey(clipId, secret)
    const blob = await encryptClip(key, plain)
    const blobId = toHex(await sha256(blob))
    await fetch("/upload/" + name, { method: "POST", body: blob })
    const now = Date.now()
    const event = { id: clipId, clipId, blobId, spaceId: "s", size: blob.length, cameraId: "door",
      cameraName: "Front door", label: "person", startedAt: now - 30000, endedAt: now, mimeType: "video/mp4",
      secret: "", seen: false }
    // As the hub announces it: with its signed list of record hashes, which is what lets the player stream.
    const recordHashes = await clipRecordHashes(blob)
    const host = { clipSource: async () => ({ url: "/slow/" + name, headers: {}, blobId, key, recordHashes }), deleteMedia: async () => {} }
    const t0 = performance.now()
    const player = openPlayer({ host, event, onDeleted: async () => {}, onClose: () => {} })
    let firstFrameMs
    while (!player.dialog.dataset.path || firstFrameMs === undefined) {
      const v = document.querySelector('[data-testid="clip-video"]')
      if (firstFrameMs === undefined && v && v.getVideoPlaybackQuality().totalVideoFrames > 0)
        firstFrameMs = performance.now() - t0
      if (document.querySelector('[data-testid="clip-error"]')) throw new Error("the clip failed to play")
      if (performance.now() - t0 > 60000) throw new Error("the clip did not play within 60 s")
      await sleep(5)
    }
    const completeMs = performance.now() - t0
    const path = player.path
    player.close()
    return { firstFrameMs, completeMs, path, bytes: blob.length }
  },
  async seed(name, count) {
    const store = await LocalStore.open(name)
    const now = Date.now()
    let batch = []
    for (let i = 0; i < count; i++) {
      // Spread over 30 days, newest now.
      const startedAt = now - Math.floor((i * 30 * 86400000) / count) - 1000
      const [cameraId, cameraName] = cameras[i % cameras.length]
      const id = "clip-" + String(i).padStart(6, "0")
      batch.push({ id, clipId: id, blobId: "0".repeat(64), spaceId: "s", size: 2000000, cameraId, cameraName,
        label: labels[i % labels.length], startedAt, endedAt: startedAt + 12000, mimeType: "video/mp4",
        secret: "A".repeat(40), seen: i % 3 === 0 })
      if (batch.length === 500) { await store.commit({ events: batch }); batch = [] }
    }
    if (batch.length) await store.commit({ events: batch })
    store.close()
  },
  async run(name) {
    const frame = () => new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)))
    const t0 = performance.now()
    const store = await LocalStore.open(name)
    const timeline = new Timeline({ store, onOpen: () => {} })
    document.querySelector("main").append(timeline.element)
    await timeline.update()
    await frame()
    const firstPageMs = performance.now() - t0
    const firstRows = document.querySelectorAll('[data-testid="event"]').length
    // Each page as the scroll asks for it: read, decrypt, render.
    const pageMs = []
    const renderMs = []
    const draw = timeline.render.bind(timeline)
    timeline.render = () => {
      const t = performance.now()
      draw()
      renderMs.push(performance.now() - t)
    }
    const load = timeline.loadMore.bind(timeline)
    timeline.loadMore = async () => {
      const t = performance.now()
      await load()
      pageMs.push(performance.now() - t)
    }
    const t1 = performance.now()
    while (!timeline.model.exhausted) {
      window.scrollTo(0, document.documentElement.scrollHeight)
      await frame()
      if (performance.now() - t1 > 180000) throw new Error("the timeline did not reach its end in 3 min")
    }
    window.scrollTo(0, document.documentElement.scrollHeight)
    await frame()
    const toEndMs = performance.now() - t1
    const rows = timeline.model.items.length
    const domRows = document.querySelectorAll('[data-testid="event"]').length
    const lastShown = document.querySelector('[data-event-id="clip-' + String(rows - 1).padStart(6, "0") + '"]')
    if (!lastShown) throw new Error("the oldest event is not on screen at the end")
    return { firstPageMs, firstRows, toEndMs, rows, domRows, pageMs, renderMs }
  },
}
`
await build({
  stdin: { contents: entry, resolveDir: join(root, "web/src"), loader: "ts" },
  bundle: true,
  format: "esm",
  target: "es2022",
  minify: true,
  outfile: join(work, "bench.js"),
  logLevel: "error",
})
const css = readFileSync(join(root, "web/src/style.css"), "utf8")
writeFileSync(
  join(work, "index.html"),
  `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<style>${css}</style></head><body><header class="top"><h1>Vigil</h1></header><main></main>
<script type="module" src="/bench.js"></script></body></html>`,
)
// Two MP4s of the same 30 s of video: fragmented (the hub's muxer flags) and faststart.
const ffmpeg = process.env.FFMPEG_BIN ?? "ffmpeg"
const encode = [
  ...["-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i", "testsrc2=s=640x480:r=15:d=30"],
  ...["-c:v", "libx264", "-preset", "ultrafast", "-profile:v", "baseline", "-pix_fmt", "yuv420p"],
  ...["-g", "15", "-bsf:v", "h264_metadata=aud=insert", "-f", "h264", join(work, "clip.h264")],
]
const mux = (flags, out) => [
  ...["-hide_banner", "-loglevel", "error", "-f", "h264", "-framerate", "15", "-i", join(work, "clip.h264")],
  ...["-map", "0:v:0", "-c", "copy", "-bsf:v", "setts=ts=N/(15*TB)", "-movflags", flags, "-f", "mp4", out],
]
for (const args of [
  encode,
  mux("+frag_keyframe+empty_moov+default_base_moof", join(work, "fragmented.mp4")),
  mux("+faststart", join(work, "faststart.mp4")),
]) {
  const run = spawnSync(ffmpeg, ["-y", ...args], { encoding: "utf8" })
  if (run.status !== 0) throw new Error(`ffmpeg failed: ${run.stderr || run.error}`)
}

const uploads = new Map()
const bytesPerSecond = 1024 * 1024
const types = { ".html": "text/html", ".js": "text/javascript", ".mp4": "video/mp4" }
const server = createServer(async (req, res) => {
  const path = req.url === "/" ? "/index.html" : (req.url ?? "/")
  if (req.method === "POST" && path.startsWith("/upload/")) {
    const parts = []
    for await (const part of req) parts.push(part)
    uploads.set(path.slice("/upload/".length), Buffer.concat(parts))
    return res.writeHead(204).end()
  }
  if (path.startsWith("/slow/")) {
    const body = uploads.get(path.slice("/slow/".length))
    if (!body) return res.writeHead(404).end()
    res.writeHead(200, { "content-type": "application/octet-stream", "content-length": body.length })
    // 16 KiB every 16 ms: about 1 MB/s.
    const piece = 16 * 1024
    for (let at = 0; at < body.length && !res.destroyed; at += piece) {
      res.write(body.subarray(at, at + piece))
      await new Promise((r) => setTimeout(r, (piece / bytesPerSecond) * 1000))
    }
    return res.end()
  }
  try {
    const body = readFileSync(join(work, path.replace(/^\/+/, "").replace(/\.\./g, "")))
    res.writeHead(200, { "content-type": types[extname(path)] ?? "application/octet-stream" }).end(body)
  } catch {
    res.writeHead(404).end()
  }
})
await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve))
const url = `http://127.0.0.1:${server.address().port}/`

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"],
})
const results = { 50: [], 5000: [] }
const clipRuns = { fragmented: [], faststart: [] }
let chromiumVersion = ""
try {
  chromiumVersion = browser.version()
  const context = await browser.newContext({ viewport: { width: 360, height: 740 } })
  const page = await context.newPage()
  await page.goto(url)
  await page.waitForFunction(() => "bench" in window)
  const seedStart = Date.now()
  await page.evaluate(() => window.bench.seed("bench-5000", 5000))
  const seedMs = Date.now() - seedStart
  await page.evaluate(() => window.bench.seed("bench-50", 50))
  print(`seeded 5,000 sealed events in ${seedMs} ms`)
  // Interleaved, each on a fresh page: machine load hits both sizes alike. Run 0 warms up and is dropped.
  for (let i = 0; i <= runs; i++) {
    for (const n of i % 2 ? [5000, 50] : [50, 5000]) {
      await page.goto(url)
      await page.waitForFunction(() => "bench" in window)
      const r = await page.evaluate((name) => window.bench.run(name), `bench-${n}`)
      if (r.rows !== n) throw new Error(`the timeline showed ${r.rows} of ${n} events`)
      if (i > 0) results[n].push(r)
    }
  }
  for (let i = 0; i < runs; i++) {
    for (const name of ["fragmented", "faststart"]) {
      await page.goto(url)
      await page.waitForFunction(() => "bench" in window)
      clipRuns[name].push(await page.evaluate((n) => window.bench.clip(n), name))
    }
  }
  await context.close()
} finally {
  await browser.close()
  server.close()
  rmSync(work, { recursive: true, force: true })
}

const first = (n) => round(median(results[n].map((r) => r.firstPageMs)))
const toEnd = (n) => round(median(results[n].map((r) => r.toEndMs)))
const clipMedian = (name, key) => round(median(clipRuns[name].map((r) => r[key])))
const result = {
  benchmark: "web",
  node: process.version,
  chromium: chromiumVersion,
  date: new Date().toISOString(),
  runs,
  first_load_js_gzip_kb: firstLoadKb,
  first_load_js_files: firstLoad,
  timeline_5000_render_ms: first(5000),
  timeline_5000_scroll_to_end_ms: toEnd(5000),
  timeline_50_render_ms: first(50),
  timeline_50_scroll_to_end_ms: toEnd(50),
  timeline_render_ratio_5000_vs_50: round(first(5000) / first(50), 2),
  timeline_first_page_rows: results[5000][0].firstRows,
  clip_bytes: clipRuns.fragmented[0].bytes,
  clip_link_bytes_per_s: bytesPerSecond,
  clip_first_frame_ms: clipMedian("fragmented", "firstFrameMs"),
  clip_path: clipRuns.fragmented[0].path,
  clip_complete_ms: clipMedian("fragmented", "completeMs"),
  clip_first_frame_ms_faststart_blob: clipMedian("faststart", "firstFrameMs"),
  clip_path_faststart: clipRuns.faststart[0].path,
  // Rows in the DOM at the end of 5,000 (windowed: only those near the screen).
  timeline_5000_dom_rows_at_end: results[5000][0].domRows,
  // Median time of one more page (read + decrypt + render) early in the scroll and at its end.
  timeline_5000_page_ms_first10: round(median(results[5000].flatMap((r) => r.pageMs.slice(0, 10)))),
  timeline_5000_page_ms_last10: round(median(results[5000].flatMap((r) => r.pageMs.slice(-10)))),
  // Of which the DOM update (render) takes.
  timeline_5000_render_part_ms_first10: round(median(results[5000].flatMap((r) => r.renderMs.slice(0, 10)))),
  timeline_5000_render_part_ms_last10: round(median(results[5000].flatMap((r) => r.renderMs.slice(-10)))),
}
mkdirSync(join(root, "bench-results"), { recursive: true })
writeFileSync(join(root, "bench-results/web.json"), JSON.stringify(result, null, 2) + "\n")
print(`first-load JS (gzip): ${firstLoadKb} KB in ${firstLoad.length} file(s)`)
print(
  `timeline first page painted: ${first(5000)} ms with 5,000 events, ${first(50)} ms with 50 ` +
    `(ratio ${result.timeline_render_ratio_5000_vs_50}; median of ${runs})`,
)
print(`scrolled to the end: ${toEnd(5000)} ms through 5,000 events, ${toEnd(50)} ms through 50`)
print(
  `one more page: ${result.timeline_5000_page_ms_first10} ms early, ` +
    `${result.timeline_5000_page_ms_last10} ms at the end of 5,000`,
)
print(
  `clip (${round(result.clip_bytes / 1048576, 2)} MB at 1 MB/s): first frame after ` +
    `${result.clip_first_frame_ms} ms streamed (${result.clip_path}), ` +
    `${result.clip_first_frame_ms_faststart_blob} ms as a faststart file (${result.clip_path_faststart})`,
)
print("wrote bench-results/web.json")
