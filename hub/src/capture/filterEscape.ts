/**
 * Escapes a value for an ffmpeg filter option inside a filtergraph. Two levels apply (ffmpeg-filters
 * "Notes on filtergraph escaping"): first the option value (`\ ' :`), then the graph (`\ ' [ ] , ;`).
 */
export function escapeFilterValue(value: string): string {
  const optionLevel = value.replace(/[\\':]/g, (c) => `\\${c}`)
  return optionLevel.replace(/[\\'[\],;]/g, (c) => `\\${c}`)
}
