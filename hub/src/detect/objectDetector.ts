import type { EventLabel } from "@vigil/protocol"

/**
 * The port every object detection backend implements (CenterNet on tfjs WASM today; a MediaPipe
 * tasks-vision backend for users who bring a model would be another). Images in, labelled boxes out;
 * nothing about cameras, motion or time.
 */
export interface ObjectDetector {
  /** For logs: which backend and model. */
  readonly name: string
  /** Finds people, pets and vehicles in an image. Boxes are normalized to the image. */
  detect(image: RgbImage): Promise<Detection[]>
  /** Frees the model (and the worker thread, if any). */
  close(): Promise<void>
}

/** What a detector can report; an event with none of them is labelled "motion". */
export type ObjectLabel = Exclude<EventLabel, "motion">

/** A rectangle in normalized coordinates: fractions (0–1) of the image's width and height, origin top left. */
export interface NormalizedBox {
  x: number
  y: number
  width: number
  height: number
}

/** 8-bit RGB, 3 bytes per pixel, row-major, no padding (ffmpeg's `rgb24`). */
export interface RgbImage {
  width: number
  height: number
  data: Uint8Array
}

export interface Detection {
  label: ObjectLabel
  /** The model's own class name, e.g. "dog" or "truck". */
  className: string
  /** 0–1. */
  score: number
  box: NormalizedBox
}

/** Which model classes count as which label. Everything else the model knows (cups, kites, ...) is ignored. */
export const labelOfClass: Readonly<Record<string, ObjectLabel>> = {
  person: "person",
  cat: "pet",
  dog: "pet",
  car: "vehicle",
  truck: "vehicle",
  bus: "vehicle",
  motorcycle: "vehicle",
  bicycle: "vehicle",
}

/** When two labels score the same, the one a person most wants to hear about wins. */
export const labelPriority: readonly ObjectLabel[] = ["person", "pet", "vehicle"]
