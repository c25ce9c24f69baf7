import { suppressOverlaps, clampBox } from "./boxes.ts"
import { cocoClasses } from "./cocoClasses.ts"
import { labelOfClass, type Detection } from "./objectDetector.ts"

export interface CenterNetDecodeOptions {
  /** Side of the square model input in pixels (512 for the model in @vladmandic/human). */
  inputSize: number
  /** Detections scoring below this are dropped. */
  minScore: number
  /** Same-label boxes overlapping more than this are merged into the best one. */
  iouThreshold: number
}

/**
 * Decodes the `tower_0/detections` output of MB3-CenterNet: up to 100 rows of
 * `[x1, y1, x2, y2, score, class]`, corners in input pixels, class a 0-based COCO index. Keeps the classes
 * we label (person, pets, vehicles), drops the rest, clamps boxes to the image, and suppresses overlaps.
 * Pure, so it is tested without a model.
 */
export function decodeCenterNet(
  rows: readonly (readonly number[])[],
  options: CenterNetDecodeOptions,
): Detection[] {
  const out: Detection[] = []
  const size = options.inputSize
  for (const row of rows) {
    const [x1 = 0, y1 = 0, x2 = 0, y2 = 0, score = 0, classIndex = Number.NaN] = row
    if (!(score >= options.minScore) || !Number.isInteger(classIndex)) continue
    const className = cocoClasses[classIndex]
    const label = className === undefined ? undefined : labelOfClass[className]
    if (!className || !label) continue
    const box = clampBox({ x: x1 / size, y: y1 / size, width: (x2 - x1) / size, height: (y2 - y1) / size })
    if (box.width <= 0 || box.height <= 0) continue
    out.push({ label, className, score, box })
  }
  return suppressOverlaps(out, options.iouThreshold)
}
