/** A point in normalized coordinates: fractions (0–1) of the frame's width and height, origin top left. */
export type NormalizedPoint = readonly [x: number, y: number]

/** A closed polygon (at least three points; the last connects back to the first). */
export type Polygon = readonly NormalizedPoint[]

export interface ZoneOptions {
  /** Only these areas are watched. Empty or absent: the whole frame. */
  zones?: readonly Polygon[]
  /** Never watched, even inside a zone (a street, a tree that sways, a neighbour's window). */
  masks?: readonly Polygon[]
}

/**
 * Rasterizes zones and masks for a frame size: 1 for each pixel that is watched, 0 otherwise. A pixel is
 * inside a polygon when its centre is (even–odd rule), so the result does not depend on the resolution
 * beyond rounding. Pure.
 */
export function rasterizeZones(width: number, height: number, options: ZoneOptions): Uint8Array {
  const zones = options.zones ?? []
  const watched = new Uint8Array(width * height).fill(zones.length === 0 ? 1 : 0)
  for (const zone of zones) fillPolygon(watched, width, height, zone, 1)
  for (const mask of options.masks ?? []) fillPolygon(watched, width, height, mask, 0)
  return watched
}

/** Sets every pixel whose centre lies inside the polygon to `value` (scanline, even–odd). */
function fillPolygon(out: Uint8Array, width: number, height: number, polygon: Polygon, value: number): void {
  if (polygon.length < 3) return
  const xs: number[] = []
  for (let row = 0; row < height; row++) {
    const y = (row + 0.5) / height
    xs.length = 0
    for (let i = 0; i < polygon.length; i++) {
      const [ax, ay] = polygon[i] ?? [0, 0]
      const [bx, by] = polygon[(i + 1) % polygon.length] ?? [0, 0]
      // Half-open in y so a vertex shared by two edges is counted once.
      if (ay <= y !== by <= y) xs.push(ax + ((y - ay) / (by - ay)) * (bx - ax))
    }
    xs.sort((a, b) => a - b)
    for (let k = 0; k + 1 < xs.length; k += 2) {
      // Pixel centres (col + 0.5) / width within [xs[k], xs[k+1]).
      const from = Math.max(0, Math.ceil((xs[k] ?? 0) * width - 0.5))
      const to = Math.min(width - 1, Math.ceil((xs[k + 1] ?? 0) * width - 0.5) - 1)
      if (to >= from) out.fill(value, row * width + from, row * width + to + 1)
    }
  }
}
