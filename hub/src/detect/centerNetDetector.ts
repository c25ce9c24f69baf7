import { existsSync } from "node:fs"
import { readFile } from "node:fs/promises"
import { createRequire } from "node:module"
import { dirname, join } from "node:path"
import type { GraphModel } from "@tensorflow/tfjs-converter"
import type { io, Tensor } from "@tensorflow/tfjs-core"
import { DetectorError } from "../capture/errors.ts"
import { decodeCenterNet } from "./centerNet.ts"
import type { Detection, ObjectDetector, RgbImage } from "./objectDetector.ts"

export interface CenterNetOptions {
  /** Folder holding `centernet.json` and `centernet.bin`. Default: the `models/` of the installed @vladmandic/human. */
  modelDir?: string
  /** Default 0.3. */
  minScore?: number
  /** Default 0.45. */
  iouThreshold?: number
}

const modelFile = "centernet.json"
const humanPackage = "@vladmandic/human"
// Specifiers in variables: a bundler leaves these imports alone, so the release bundle loads tfjs (and its
// .wasm files) from node_modules instead of inlining several megabytes it cannot run anyway.
const tfjsCoreModule = "@tensorflow/tfjs-core"
const tfjsConverterModule = "@tensorflow/tfjs-converter"
const tfjsWasmModule = "@tensorflow/tfjs-backend-wasm"

const require = createRequire(import.meta.url)

/**
 * Where the installed @vladmandic/human keeps its models, or undefined. Its `exports` map hides
 * `package.json` and `models/`, so look in each node_modules folder Node would search instead of resolving.
 */
export function findCenterNetModelDir(): string | undefined {
  for (const nodeModules of require.resolve.paths(humanPackage) ?? []) {
    const dir = join(nodeModules, humanPackage, "models")
    if (existsSync(join(dir, modelFile))) return dir
  }
  return undefined
}

const modelJsonSchema = {
  parse(json: unknown): io.ModelJSON {
    const m = json as Partial<io.ModelJSON> | null
    if (!m || typeof m !== "object" || !m.modelTopology || !Array.isArray(m.weightsManifest)) {
      throw new Error("not a tfjs graph model (modelTopology or weightsManifest missing)")
    }
    return m as io.ModelJSON
  },
}

/**
 * A tfjs IOHandler that reads a graph model from local files. tfjs's own loaders use `fetch`, which in Node
 * cannot read `file://` URLs; reading the files directly needs no shim and touches no network.
 */
function localModelHandler(dir: string): io.IOHandler {
  return {
    async load() {
      const json = modelJsonSchema.parse(JSON.parse(await readFile(join(dir, modelFile), "utf8")))
      const buffers = await Promise.all(
        json.weightsManifest.flatMap((group) => group.paths.map((p) => readFile(join(dir, p)))),
      )
      const weights = Buffer.concat(buffers)
      return {
        modelTopology: json.modelTopology,
        weightSpecs: json.weightsManifest.flatMap((group) => group.weights),
        weightData: weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength),
        format: json.format,
        generatedBy: json.generatedBy,
        convertedBy: json.convertedBy,
        signature: json.signature,
      }
    },
  }
}

/**
 * Loads MB3-CenterNet (COCO, 80 classes, 512×512 input; shipped in @vladmandic/human's npm package) on the
 * tfjs WASM backend. Runs on the calling thread: ~0.2–0.5 s of CPU per image, so the hub runs it in a
 * worker (workerDetector.ts). Takes ~250 ms to load.
 *
 * @throws DetectorError DETECTOR_UNAVAILABLE when the model or tfjs cannot be loaded.
 */
export async function loadCenterNetDetector(options: CenterNetOptions = {}): Promise<ObjectDetector> {
  const modelDir = options.modelDir ?? findCenterNetModelDir()
  if (!modelDir || !existsSync(join(modelDir, modelFile))) {
    throw new DetectorError(
      "DETECTOR_UNAVAILABLE",
      `object detection model not found${modelDir ? ` in ${modelDir}` : ""}: install ${humanPackage}`,
    )
  }
  let tf: typeof import("@tensorflow/tfjs-core")
  let model: GraphModel
  try {
    tf = (await import(tfjsCoreModule)) as typeof import("@tensorflow/tfjs-core")
    const converter = (await import(tfjsConverterModule)) as typeof import("@tensorflow/tfjs-converter")
    const wasm = (await import(tfjsWasmModule)) as typeof import("@tensorflow/tfjs-backend-wasm")
    // Point the backend at its own .wasm files explicitly (it would guess from __dirname, which a bundle lacks).
    wasm.setWasmPaths(`${join(dirname(require.resolve(tfjsWasmModule)), "..", "wasm-out")}/`)
    if (!(await tf.setBackend("wasm"))) throw new Error("the tfjs WASM backend did not initialise")
    await tf.ready()
    model = await converter.loadGraphModel(localModelHandler(modelDir))
    // The first inference compiles and allocates (~1 s here): do it now, not on the first motion, where it
    // would delay the first sighting by that much.
    const warmUp = tf.tidy(() => model.execute(tf.zeros([1, 512, 512, 3]), ["tower_0/detections"]) as Tensor)
    await warmUp.data()
    warmUp.dispose()
  } catch (error) {
    if (error instanceof DetectorError) throw error
    throw new DetectorError(
      "DETECTOR_UNAVAILABLE",
      `could not load the object detection model: ${(error as Error).message}`,
      {
        cause: error,
      },
    )
  }
  const inputSize = 512
  const decode = {
    inputSize,
    minScore: options.minScore ?? 0.3,
    iouThreshold: options.iouThreshold ?? 0.45,
  }

  return {
    name: "centernet-mb3-coco (tfjs wasm)",
    async detect(image: RgbImage): Promise<Detection[]> {
      if (image.data.length !== image.width * image.height * 3) {
        throw new DetectorError(
          "DETECTION_FAILED",
          `image is ${image.data.length} bytes, not ${image.width}×${image.height} RGB`,
        )
      }
      const output = tf.tidy(() => {
        const pixels = tf.tensor4d(image.data, [1, image.height, image.width, 3], "int32")
        const resized = tf.image.resizeBilinear(tf.cast(pixels, "float32"), [inputSize, inputSize])
        return model.execute(resized, ["tower_0/detections"]) as Tensor
      })
      try {
        const rows = ((await output.array()) as number[][][])[0] ?? []
        return decodeCenterNet(rows, decode)
      } finally {
        output.dispose()
      }
    },
    async close() {
      model.dispose()
    },
  }
}
