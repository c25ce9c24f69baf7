/**
 * `npm run bench:detect`: does the hub label real footage right, how fast, at what CPU cost. Prints
 * figures and writes bench-results/detect.json.
 *
 * Each file of hub/fixtures/footage (real street and garden video, sources and licences in the README
 * there) is played as a camera (`kind: "file"`, its H.264 copied as an RTSP camera's would be) through the
 * real pipeline: ffmpeg, motion detection, the object detector in its own process, tracking, clip
 * recording. Every clip and sighting is compared with the hand-written ground truth
 * (hub/fixtures/footage/groundTruth.json):
 *
 * - `<label>_event_recall`: of the clips in which the label is in view (≥ 0.5 s of the clip), the share
 *   announced with it (the clip's label, or one of its objects). null when no footage has that label.
 * - `false_label_rate`: of all clips, the share announced (label, objects or sightings) with a label that is
 *   not in view during them.
 * - `cpu_seconds_per_camera_minute`: CPU of the hub's process and everything it started (ffmpeg, frame
 *   decodes, the detector process) per minute of footage, which has motion nearly all along.
 * - `onset_to_sighting_p50_ms`: from the motion start of an event with a person in view to the person
 *   sighting (thumbnail encoded, handed to delivery).
 *
 * Clips are cut at `BENCH_MAX_CLIP_SECONDS` (default 20) so the 80 s street scene continues its event over
 * several clips, as a long event does at the default 30 s.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs"
import { mkdtemp, rm } from "node:fs/promises"
import { cpus, tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { clockTicks, descendantTicks, processTicks } from "./procCpu.ts"
import { startCameraPipeline, type CameraSighting } from "../src/camera/cameraPipeline.ts"
import { pino } from "pino"
import { silentLogger } from "../src/capture/types.ts"
import { parseHubConfig } from "../src/config.ts"
import { startChildProcessDetector } from "../src/detect/childProcessDetector.ts"
import type { ClipToDeliver } from "../src/space/hubSpace.ts"
import { findTools } from "../test/support/mediaTools.ts"

interface Span {
  label: string
  from: number
  to: number
}
interface Footage {
  file: string
  seconds: number
  present: Span[]
  ignore: Span[]
  still: string[]
}

const footageDir = fileURLToPath(new URL("../fixtures/footage/", import.meta.url))
const truth = JSON.parse(readFileSync(join(footageDir, "groundTruth.json"), "utf8")) as { footage: Footage[] }
const out = new URL("../../bench-results/", import.meta.url)
const print = (line: string) => process.stdout.write(`${line}\n`)
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const maxClipSeconds = Number(process.env.BENCH_MAX_CLIP_SECONDS ?? 20)
const only = process.env.BENCH_FOOTAGE?.split(",")

/** CPU seconds of this process and all its descendants, live and reaped. */
function cpuSeconds(): number {
  return (processTicks("self", true) + descendantTicks(process.pid)) / clockTicks
}
function percentile(values: number[], p: number): number | null {
  const sorted = [...values].sort((a, b) => a - b)
  if (sorted.length === 0) return null
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? null
}
const overlap = (a0: number, a1: number, b0: number, b1: number) =>
  Math.max(0, Math.min(a1, b1) - Math.max(a0, b0))
const round = (n: number, digits = 3) => Math.round(n * 10 ** digits) / 10 ** digits

const tools = findTools()
if (!tools) throw new Error("ffmpeg/ffprobe not found")
const work = await mkdtemp(join(tmpdir(), "vigil-bench-detect-"))
const detector = await startChildProcessDetector()

interface ClipRow {
  footage: string
  from: number
  to: number
  label: string
  /** The clip's label and its objects' labels (what the phone shows for it). */
  announced: string[]
  objects: string[]
  sightings: string[]
  inView: string[]
  allowed: string[]
  falseLabels: string[]
}
const rows: ClipRow[] = []
const onsetToSighting: number[] = []
const labels = ["person", "pet", "vehicle"] as const
let cpuTotal = 0
let footageSeconds = 0

for (const footage of truth.footage) {
  if (only && !only.includes(footage.file)) continue
  const config = parseHubConfig({
    cameras: [
      {
        id: "bench",
        name: "Bench",
        kind: "file",
        path: join(footageDir, footage.file),
        transcode: false,
      },
    ],
    recording: { preRollSeconds: 2, postRollSeconds: 2, maxClipSeconds },
  })
  const clips: ClipToDeliver[] = []
  const sightings: (CameraSighting & { reportedAt: number })[] = []
  let t0: number | undefined
  const cpuBefore = cpuSeconds()
  const pipeline = startCameraPipeline(config.cameras[0]!, {
    ffmpegPath: tools.ffmpeg,
    workDir: join(work, footage.file),
    recording: config.recording,
    logger: process.env.BENCH_LOG
      ? pino({ level: process.env.BENCH_LOG }, pino.destination(2))
      : silentLogger,
    detector,
    detection: config.detection,
    onAccessUnit: (unit) => (t0 ??= unit.receivedAt),
    onSighting: (s) => sightings.push({ ...s, reportedAt: Date.now() }),
    onClip: async (clip) => void clips.push(clip),
  })
  while (t0 === undefined) await sleep(20)
  // Stop just before the file would loop (the camera plays it in real time, over and over).
  await sleep(Math.max(0, t0 + footage.seconds * 1000 - 300 - Date.now()))
  await pipeline.stop()
  const cpu = cpuSeconds() - cpuBefore
  cpuTotal += cpu
  footageSeconds += footage.seconds
  const start = t0

  for (const clip of clips) {
    const from = (clip.startedAt - start) / 1000
    const to = (clip.endedAt - start) / 1000
    const inView = labels.filter((l) =>
      footage.present.some((s) => s.label === l && overlap(from, to, s.from, s.to) >= 0.5),
    )
    const allowed = labels.filter((l) =>
      [...footage.present, ...footage.ignore].some(
        (s) => s.label === l && overlap(from, to, s.from, s.to) > 0,
      ),
    )
    const mine = sightings.filter((s) => s.motionStartedAt === clip.motionStartedAt)
    const announced = new Set<string>([
      ...(clip.label === "motion" ? [] : [clip.label]),
      ...(clip.detections ?? []).map((d) => d.label),
      ...mine.map((s) => s.label),
    ])
    const row: ClipRow = {
      footage: footage.file,
      from: round(from, 1),
      to: round(to, 1),
      label: clip.label,
      announced: [
        ...new Set([
          ...(clip.label === "motion" ? [] : [clip.label]),
          ...(clip.detections ?? []).map((d) => d.label),
        ]),
      ],
      objects: (clip.detections ?? []).map((d) => `${d.className} ${d.score.toFixed(2)}`),
      sightings: mine.map((s) => `${s.label} ${s.score.toFixed(2)} +${s.at - s.motionStartedAt} ms`),
      inView,
      allowed,
      falseLabels: [...announced].filter((l) => !(allowed as string[]).includes(l)),
    }
    rows.push(row)
    const isOnset = clip.motionStartedAt !== undefined && clip.motionStartedAt > clip.startedAt
    const firstPerson = mine.find((s) => s.label === "person")
    if (isOnset && inView.includes("person") && firstPerson && clip.motionStartedAt !== undefined) {
      onsetToSighting.push(firstPerson.reportedAt - clip.motionStartedAt)
    }
    print(
      `${footage.file} ${row.from}–${row.to} s: ${row.label}` +
        ` [${row.objects.join(", ")}] sightings [${row.sightings.join(", ")}] in view [${inView.join(", ")}]` +
        (row.falseLabels.length ? `  FALSE: ${row.falseLabels.join(", ")}` : ""),
    )
  }
  print(`${footage.file}: ${clips.length} clips, ${round(cpu, 1)} s CPU for ${footage.seconds} s of footage`)
}
await detector.close()
await rm(work, { recursive: true, force: true })

function recall(label: (typeof labels)[number]): number | null {
  const due = rows.filter((r) => r.inView.includes(label))
  if (due.length === 0) return null
  return round(due.filter((r) => r.announced.includes(label)).length / due.length)
}

const result = {
  benchmark: "detect",
  node: process.version,
  cpus: cpus().length,
  date: new Date().toISOString(),
  footage: truth.footage.filter((f) => !only || only.includes(f.file)).map((f) => f.file),
  max_clip_seconds: maxClipSeconds,
  clips: rows.length,
  person_event_recall: recall("person"),
  pet_event_recall: recall("pet"),
  vehicle_event_recall: recall("vehicle"),
  false_label_rate: rows.length
    ? round(rows.filter((r) => r.falseLabels.length > 0).length / rows.length)
    : null,
  cpu_seconds_per_camera_minute: round(cpuTotal / (footageSeconds / 60), 1),
  onset_to_sighting_p50_ms: percentile(onsetToSighting, 50),
  onset_to_sighting_ms: onsetToSighting,
  rows,
}
mkdirSync(out, { recursive: true })
writeFileSync(new URL("detect.json", out), `${JSON.stringify(result, null, 2)}\n`)
print(
  `person recall ${result.person_event_recall}, pet recall ${result.pet_event_recall} (no footage with pets), ` +
    `vehicle recall ${result.vehicle_event_recall} (no footage with moving vehicles), false-label rate ${result.false_label_rate}, ` +
    `CPU ${result.cpu_seconds_per_camera_minute} s per camera minute, onset → person sighting p50 ${result.onset_to_sighting_p50_ms} ms ` +
    `(${onsetToSighting.join(", ")})`,
)
print("wrote bench-results/detect.json")
process.exit(0)
