import type { Detection, NormalizedBox, RgbImage } from "./objectDetector.ts"

/** Intersection over union of two boxes, 0–1. */
export function intersectionOverUnion(a: NormalizedBox, b: NormalizedBox): number {
  const w = Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x)
  const h = Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y)
  if (w <= 0 || h <= 0) return 0
  const inter = w * h
  return inter / (a.width * a.height + b.width * b.height - inter)
}

/**
 * Greedy non-maximum suppression per label: keeps the best-scoring box and drops boxes of the same label
 * that overlap it by more than `iouThreshold`. Returns detections best first.
 */
export function suppressOverlaps(detections: readonly Detection[], iouThreshold: number): Detection[] {
  const kept: Detection[] = []
  for (const d of [...detections].sort((a, b) => b.score - a.score)) {
    if (kept.some((k) => k.label === d.label && intersectionOverUnion(k.box, d.box) > iouThreshold)) continue
    kept.push(d)
  }
  return kept
}

/** Clamps a box to the unit square. */
export function clampBox(box: NormalizedBox): NormalizedBox {
  const x = Math.min(1, Math.max(0, box.x))
  const y = Math.min(1, Math.max(0, box.y))
  return {
    x,
    y,
    width: Math.max(0, Math.min(1, box.x + box.width) - x),
    height: Math.max(0, Math.min(1, box.y + box.height) - y),
  }
}

export interface RegionOptions {
  /** Grow the motion box by this fraction of its size on every side. Default 0.25. */
  margin?: number
  /** The region is at least this fraction of the image's shorter side, so tiny motion still gets context. Default 0.4. */
  minSide?: number
}

/**
 * The part of an image to run detection on, given where motion was: the motion box grown by a margin,
 * made square in pixels where the image allows (detectors take square inputs, so this avoids distortion),
 * at least `minSide` of the shorter side, and moved (not cut) to stay inside the image.
 */
export function detectionRegion(
  motion: NormalizedBox,
  image: { width: number; height: number },
  options: RegionOptions = {},
): NormalizedBox {
  const margin = options.margin ?? 0.25
  const { width: W, height: H } = image
  const cx = (motion.x + motion.width / 2) * W
  const cy = (motion.y + motion.height / 2) * H
  const minSide = Math.min(W, H) * (options.minSide ?? 0.4)
  const grownW = Math.max(motion.width * W * (1 + 2 * margin), minSide)
  const grownH = Math.max(motion.height * H * (1 + 2 * margin), minSide)
  // As square as the image allows: a side that does not fit is cut to the image, and the other side then
  // only needs to match it (or cover the motion).
  const side = Math.max(grownW, grownH)
  const sideW = Math.min(W, Math.max(grownW, Math.min(side, H)))
  const sideH = Math.min(H, Math.max(grownH, Math.min(side, W)))
  const x = Math.min(Math.max(cx - sideW / 2, 0), W - sideW)
  const y = Math.min(Math.max(cy - sideH / 2, 0), H - sideH)
  return { x: x / W, y: y / H, width: sideW / W, height: sideH / H }
}

/** Copies the pixels of a normalized region (rounded to whole pixels, at least 1×1) into a new image. */
export function cropImage(image: RgbImage, region: NormalizedBox): RgbImage {
  const r = clampBox(region)
  const x0 = Math.min(image.width - 1, Math.floor(r.x * image.width))
  const y0 = Math.min(image.height - 1, Math.floor(r.y * image.height))
  const x1 = Math.max(x0 + 1, Math.min(image.width, Math.round((r.x + r.width) * image.width)))
  const y1 = Math.max(y0 + 1, Math.min(image.height, Math.round((r.y + r.height) * image.height)))
  const width = x1 - x0
  const height = y1 - y0
  const data = new Uint8Array(width * height * 3)
  for (let row = 0; row < height; row++) {
    const from = ((y0 + row) * image.width + x0) * 3
    data.set(image.data.subarray(from, from + width * 3), row * width * 3)
  }
  return { width, height, data }
}

/** Maps a box found inside `region` back to the coordinates of the whole image. */
export function boxFromRegion(box: NormalizedBox, region: NormalizedBox): NormalizedBox {
  return clampBox({
    x: region.x + box.x * region.width,
    y: region.y + box.y * region.height,
    width: box.width * region.width,
    height: box.height * region.height,
  })
}
