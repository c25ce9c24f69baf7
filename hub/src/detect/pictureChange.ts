import type { NormalizedBox, RgbImage } from "./objectDetector.ts"

/** A pixel counts as changed when its mean RGB difference exceeds this (0–255). */
const pixelThreshold = 25
/** At most this many samples per box side: a few hundred pixels tell changed from unchanged. */
const samplesPerSide = 24

/**
 * The fraction (0–1) of a box's pixels that differ between two pictures of the same camera, sampled on a
 * grid; undefined when there is no earlier picture or the sizes differ. Pure.
 *
 * Tells a moving object from one standing still while something else moves: between two looks a walking
 * person leaves background where their box was and covers new ground, a parked car stays the same. Both
 * pictures come from the same decoded stream, so they line up exactly (the motion detector's small frames
 * arrive on another pipe, hundreds of milliseconds apart from the picture).
 */
export function changedBetween(
  before: RgbImage | undefined,
  after: RgbImage,
  box: NormalizedBox,
): number | undefined {
  if (!before || before.width !== after.width || before.height !== after.height) return undefined
  const { width: W, height: H } = after
  const x0 = Math.max(0, Math.floor(box.x * W))
  const y0 = Math.max(0, Math.floor(box.y * H))
  const x1 = Math.min(W, Math.max(x0 + 1, Math.ceil((box.x + box.width) * W)))
  const y1 = Math.min(H, Math.max(y0 + 1, Math.ceil((box.y + box.height) * H)))
  const stepX = Math.max(1, Math.floor((x1 - x0) / samplesPerSide))
  const stepY = Math.max(1, Math.floor((y1 - y0) / samplesPerSide))
  let samples = 0
  let changed = 0
  for (let y = y0; y < y1; y += stepY) {
    for (let x = x0; x < x1; x += stepX) {
      const i = (y * W + x) * 3
      const diff =
        Math.abs((after.data[i] ?? 0) - (before.data[i] ?? 0)) +
        Math.abs((after.data[i + 1] ?? 0) - (before.data[i + 1] ?? 0)) +
        Math.abs((after.data[i + 2] ?? 0) - (before.data[i + 2] ?? 0))
      samples++
      if (diff > pixelThreshold * 3) changed++
    }
  }
  return samples > 0 ? changed / samples : undefined
}
