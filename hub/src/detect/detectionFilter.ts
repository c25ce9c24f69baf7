import type { Detection, ObjectLabel } from "./objectDetector.ts"

/** What a household can tune per label: how sure the model must be, and how big the object must be. */
export interface LabelFilter {
  /** Detections scoring below this are ignored (0–1). */
  minScore: number
  /** Box height as a fraction of the picture's height: smaller is too far (or a leaf), larger is too close. */
  minHeight: number
  maxHeight: number
}

export type DetectionFilters = Readonly<Record<ObjectLabel, LabelFilter>>

/**
 * Defaults measured on the street footage (docs/decisions/0006-detection-model.md): a person is accepted
 * from 0.3, as the model's own threshold; pets and vehicles need more, since the model's low-scoring pets
 * are its most frequent ghost (a dark coat, a bin). 0.03 of the height is 17 px of a 576-line picture: a
 * person 40 px tall passes.
 */
export const defaultDetectionFilters: DetectionFilters = {
  person: { minScore: 0.3, minHeight: 0.03, maxHeight: 1 },
  pet: { minScore: 0.4, minHeight: 0.02, maxHeight: 1 },
  vehicle: { minScore: 0.4, minHeight: 0.02, maxHeight: 1 },
}

/** Keeps the detections that pass their label's filter. Pure. */
export function filterDetections(detections: readonly Detection[], filters: DetectionFilters): Detection[] {
  return detections.filter((d) => {
    const f = filters[d.label]
    return d.score >= f.minScore && d.box.height >= f.minHeight && d.box.height <= f.maxHeight
  })
}
