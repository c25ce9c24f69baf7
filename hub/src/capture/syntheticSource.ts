import { escapeFilterValue } from "./filterEscape.ts"

/**
 * A fake camera made entirely by ffmpeg's lavfi: a static textured wall, a burned-in wall clock, and an
 * orange box that crosses the frame from left to right during the last `motionSeconds` of every
 * `cycleSeconds`. Stream time `t` (seconds since ffmpeg started) decides everything, so a run is
 * deterministic:
 *
 * ```
 *  t mod cycle:  0 ............................ cycle-motion ............ cycle
 *                static (only the clock ticks)  box enters left → leaves right
 * ```
 */
export interface SyntheticCameraConfig {
  kind: "synthetic"
  /** Default 640. Width and height must be even (4:2:0 video). */
  width?: number
  /** Default 360. */
  height?: number
  /** Default 15. */
  fps?: number
  /** Default 30. */
  cycleSeconds?: number
  /** Default 5; must be shorter than the cycle. */
  motionSeconds?: number
  /**
   * Font for the clock. Undefined: DejaVu Sans if installed, else no clock. `null`: no clock.
   */
  clockFontFile?: string | null
}

export const syntheticDefaults = {
  width: 640,
  height: 360,
  fps: 15,
  cycleSeconds: 30,
  motionSeconds: 5,
  clockFontFile: "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
} as const

/** When, within each cycle, the moving box is on screen (seconds of stream time). */
export interface SyntheticMotionWindow {
  cycleSeconds: number
  /** The box's left edge enters the frame here ... */
  startSeconds: number
  /** ... and its right edge has left it here (= cycleSeconds). */
  endSeconds: number
}

export function syntheticMotionWindow(config: SyntheticCameraConfig): SyntheticMotionWindow {
  const cycleSeconds = config.cycleSeconds ?? syntheticDefaults.cycleSeconds
  const motionSeconds = config.motionSeconds ?? syntheticDefaults.motionSeconds
  return { cycleSeconds, startSeconds: cycleSeconds - motionSeconds, endSeconds: cycleSeconds }
}

/**
 * The lavfi filtergraph (for `-f lavfi -i <graph>`) that draws the synthetic scene. `fontFile` undefined
 * leaves the clock out. Pure; the caller checks that the font exists.
 */
export function buildSyntheticGraph(config: SyntheticCameraConfig, fontFile: string | undefined): string {
  const width = config.width ?? syntheticDefaults.width
  const height = config.height ?? syntheticDefaults.height
  const fps = config.fps ?? syntheticDefaults.fps
  const { cycleSeconds: cycle, startSeconds: enter } = syntheticMotionWindow(config)
  const motion = cycle - enter
  const boxWidth = even(width / 10)
  const boxHeight = even(height * 0.36)
  const fontSize = Math.max(8, Math.round(height / 18))

  // The wall is computed once (geq is slow) and repeated forever by `loop`; setpts restores a clean clock.
  const wall =
    `nullsrc=s=${width}x${height}:r=${fps}:d=1,` +
    `geq=lum='110+40*sin(X/9)*cos(Y/13)+20*sin((X+2*Y)/31)':cb=120:cr=136,` +
    `loop=loop=-1:size=1:start=0,setpts=N/${fps}/TB[wall]`
  const box = `color=c=0xff8000:s=${boxWidth}x${boxHeight}:r=${fps}[box]`
  const overlay =
    `[wall][box]overlay=eval=frame:shortest=0:y=(H-h)/2` +
    `:x='-w+(W+w)*(mod(t,${cycle})-${enter})/${motion}'` +
    `:enable='gte(mod(t,${cycle}),${enter})'`
  const clock =
    fontFile === undefined
      ? ""
      : `,drawtext=fontfile=${escapeFilterValue(fontFile)}:text='%{localtime}'` +
        `:x=8:y=8:fontsize=${fontSize}:fontcolor=white:box=1:boxcolor=black@0.5`
  return `${wall};${box};${overlay}${clock},format=yuv420p[out0]`
}

function even(value: number): number {
  return Math.max(2, 2 * Math.round(value / 2))
}
