/**
 * `npm run bench:hub`: what the hub's camera work costs on this machine. Prints figures and writes
 * bench-results/hub.json.
 *
 * 1. CPU per camera: a 1080p H.264 RTSP camera (GStreamer's RTSP server, started here on 127.0.0.1, a ball
 *    moving over a test card) passed through without re-encoding, with motion detection on 160×90 gray
 *    frames at 5 fps and clip recording. CPU of the hub's Node process plus its ffmpeg processes, as % of
 *    one core; the camera (GStreamer) is not counted. Target ≤ 10 %.
 * 2. Detection latency (motion onset → labelled event) and clip-ready latency (clip end → encrypted clip
 *    and its announcement accepted by signal), p50/p95: a 720p looping file in which a person appears every
 *    8 s, the real object detector (own process), a real HubSpace with one paired phone and a test relay.
 */
import "fake-indexeddb/auto"
import { spawnSync } from "node:child_process"
import { mkdirSync, readFileSync, writeFileSync } from "node:fs"
import { mkdtemp, rm } from "node:fs/promises"
import { tmpdir, cpus } from "node:os"
import { join } from "node:path"
import { pino } from "pino"
import { decodeInvite } from "@vigil/protocol"
import { startTestRelay } from "@vigil/signal"
import { LocalStore, PhoneSpace } from "@vigil/web"
import { clockTicks, descendantTicks } from "./procCpu.ts"
import { startCameraPipeline } from "../src/camera/cameraPipeline.ts"
import { silentLogger } from "../src/capture/types.ts"
import { parseHubConfig } from "../src/config.ts"
import { startChildProcessDetector } from "../src/detect/childProcessDetector.ts"
import { HubSpace } from "../src/space/hubSpace.ts"
import {
  findTools,
  fixturePhoto,
  freePort,
  rtspCameraUnavailable,
  startRtspCamera,
} from "../test/support/mediaTools.ts"

const out = new URL("../../bench-results/", import.meta.url)
const print = (line: string) => process.stdout.write(`${line}\n`)
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** CPU seconds used by this process and its descendants (live and reaped), leaving out `exclude` subtrees. */
function cpuSeconds(exclude: Set<number>): { node: number; children: number } {
  const children = descendantTicks(process.pid, exclude)
  const self = readFileSync("/proc/self/stat", "utf8")
  const fields = self.slice(self.lastIndexOf(")") + 2).split(" ")
  const node = Number(fields[11]) + Number(fields[12])
  const reaped = Number(fields[13]) + Number(fields[14])
  return { node: node / clockTicks, children: (children + reaped) / clockTicks }
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b)
  if (sorted.length === 0) return Number.NaN
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN
}
const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits

const tools = findTools()
if (!tools) throw new Error("ffmpeg/ffprobe not found")
const unavailable = rtspCameraUnavailable()
if (unavailable) throw new Error(`the RTSP camera cannot run: ${unavailable}`)
const work = await mkdtemp(join(tmpdir(), "vigil-bench-hub-"))

// ---- 1. CPU per camera: 1080p RTSP pass-through + motion detection at 5 fps -------------------------
const cpuWindowMs = Number(process.env.BENCH_CPU_SECONDS ?? 30) * 1000
const port = await freePort()
// Sensor-like grain (below the motion threshold) so the stream has a real camera's bitrate; a ball moves
// in the middle all the time.
const rtsp = await startRtspCamera({
  port,
  width: 1920,
  height: 1080,
  fps: 15,
  gop: 30,
  cycleSeconds: 10,
  showSeconds: 10,
  noise: 0.12,
  bitrateKbps: 4000,
})
const rtspConfig = parseHubConfig({
  cameras: [{ id: "bench", name: "Bench", kind: "rtsp", url: rtsp.url }],
  detection: { enabled: false },
})
const cpuPipeline = startCameraPipeline(rtspConfig.cameras[0]!, {
  ffmpegPath: tools.ffmpeg,
  workDir: join(work, "cpu"),
  recording: rtspConfig.recording,
  logger: silentLogger,
  onClip: async () => {},
})
await sleep(6000)
const exclude = new Set([rtsp.child.pid ?? -1])
const before = cpuSeconds(exclude)
const bytesBefore = cpuPipeline.status.videoBytes
const framesBefore = cpuPipeline.status.videoFrames
const t0 = performance.now()
await sleep(cpuWindowMs)
const after = cpuSeconds(exclude)
const elapsed = (performance.now() - t0) / 1000
const bitrateMbps = ((cpuPipeline.status.videoBytes - bytesBefore) * 8) / elapsed / 1e6
const fps = (cpuPipeline.status.videoFrames - framesBefore) / elapsed
await cpuPipeline.stop()
await rtsp.kill()
const nodePct = ((after.node - before.node) / elapsed) * 100
const ffmpegPct = ((after.children - before.children) / elapsed) * 100
const cpuPct = nodePct + ffmpegPct
print(
  `CPU per camera (1080p RTSP pass-through at ${round(fps)} fps, ${round(bitrateMbps, 2)} Mbit/s, motion at 5 fps): ${round(cpuPct)} % of one core ` +
    `(hub ${round(nodePct)} % + ffmpeg ${round(ffmpegPct)} %); target ≤ 10 %`,
)

// ---- 2. Detection and clip-ready latency -------------------------------------------------------------
const relay = await startTestRelay()
const logger = pino({ level: "silent" })
const space = await HubSpace.open({
  dataDir: join(work, "hub"),
  signalUrl: relay.url,
  hubName: "Bench",
  logger,
})
const store = await LocalStore.open("bench-phone")
let inviteCode = ""
const paired = new Promise<void>(
  (resolve) => void space.createInvite(() => resolve()).then((i) => (inviteCode = i.code)),
)
while (!inviteCode) await sleep(10)
const phone = await PhoneSpace.pair(store, decodeInvite(inviteCode), () => {})
void phone.run()
await paired
await space.drained()

const video = join(work, "lawn720.mp4")
const made = spawnSync(tools.ffmpeg, [
  ...[
    "-v",
    "error",
    "-loop",
    "1",
    "-i",
    fixturePhoto("grass.jpg"),
    "-loop",
    "1",
    "-i",
    fixturePhoto("person.jpg"),
  ],
  ...[
    "-filter_complex",
    "[0:v]scale=1280:720,setsar=1[bg];[1:v]scale=-2:560[fg];[bg][fg]overlay=x=300:y=80:enable='between(t,2,4)',format=yuv420p",
  ],
  ...["-t", "8", "-r", "15", "-c:v", "libx264", "-preset", "ultrafast", "-g", "15", video],
])
if (made.status !== 0) throw new Error(`could not make the test video: ${made.stderr}`)

const detector = await startChildProcessDetector()
const eventsWanted = Number(process.env.BENCH_EVENTS ?? 6)
const detectLatencies: number[] = []
const clipLatencies: number[] = []
const labels: string[] = []
const fileConfig = parseHubConfig({
  cameras: [{ id: "lawn", name: "Lawn", kind: "file", path: video, motion: { cooldownSeconds: 1 } }],
  recording: { preRollSeconds: 2, postRollSeconds: 1, maxClipSeconds: 20 },
})
const filePipeline = startCameraPipeline(fileConfig.cameras[0]!, {
  ffmpegPath: tools.ffmpeg,
  workDir: join(work, "clips"),
  recording: fileConfig.recording,
  logger: silentLogger,
  detector,
  detection: fileConfig.detection,
  onSighting: (s) => {
    if (s.label === "person") detectLatencies.push(Date.now() - s.motionStartedAt)
  },
  onClip: async (clip) => {
    labels.push(clip.label)
    const delivered = await space.deliverClip(clip)
    if (!delivered) throw new Error("clip not delivered")
    await space.drained()
    clipLatencies.push(Date.now() - clip.endedAt)
  },
})
const deadline = Date.now() + eventsWanted * 8000 + 30_000
while (clipLatencies.length < eventsWanted && Date.now() < deadline) await sleep(200)
await filePipeline.stop()
await detector.close()
phone.stop()
await space.close()
store.close()
await relay.close()
await rm(work, { recursive: true, force: true })

const result = {
  benchmark: "hub",
  node: process.version,
  cpus: cpus().length,
  date: new Date().toISOString(),
  cpu_pct_per_camera: round(cpuPct),
  cpu_pct_hub_process: round(nodePct),
  cpu_pct_ffmpeg: round(ffmpegPct),
  cpu_source: `1920x1080 H.264 over RTSP/TCP at ${round(fps)} fps (test camera asked for 15), ${round(bitrateMbps, 2)} Mbit/s, ${round(elapsed)} s window`,
  cpu_source_fps: round(fps),
  cpu_source_mbps: round(bitrateMbps, 2),
  detect_latency_p50_ms: Math.round(percentile(detectLatencies, 50)),
  detect_latency_p95_ms: Math.round(percentile(detectLatencies, 95)),
  detect_events: detectLatencies.length,
  clip_ready_latency_p50_ms: Math.round(percentile(clipLatencies, 50)),
  clip_ready_latency_p95_ms: Math.round(percentile(clipLatencies, 95)),
  clips: clipLatencies.length,
  clip_labels: labels,
}
mkdirSync(out, { recursive: true })
writeFileSync(new URL("hub.json", out), `${JSON.stringify(result, null, 2)}\n`)
print(
  `detection latency, motion onset → labelled event: p50 ${result.detect_latency_p50_ms} ms, p95 ${result.detect_latency_p95_ms} ms (${detectLatencies.length} events, 720p)`,
)
print(
  `clip-ready latency, clip end → encrypted clip stored at signal: p50 ${result.clip_ready_latency_p50_ms} ms, p95 ${result.clip_ready_latency_p95_ms} ms (${clipLatencies.length} clips: ${labels.join(", ")})`,
)
print("wrote bench-results/hub.json")
process.exit(0)
