/**
 * The WebCodecs codec string for an H.264 stream, read from the sequence parameter set in an Annex-B access
 * unit (ISO/IEC 14496-15: "avc1." + profile_idc, constraint flags, level_idc as hex).
 */
export function avcCodecFromAnnexB(au: Uint8Array): string | undefined {
  for (let i = 0; i + 4 < au.length; i++) {
    // A start code is 00 00 01 (or 00 00 00 01, whose tail is the same three bytes).
    if (au[i] !== 0 || au[i + 1] !== 0 || au[i + 2] !== 1) continue
    const nal = i + 3
    if ((au[nal]! & 0x1f) === 7 && nal + 3 < au.length) {
      const hex = (b: number) => b.toString(16).padStart(2, "0")
      return `avc1.${hex(au[nal + 1]!)}${hex(au[nal + 2]!)}${hex(au[nal + 3]!)}`
    }
    i = nal
  }
  return undefined
}
