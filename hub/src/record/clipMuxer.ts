import { spawn } from "node:child_process"
import { rename, rm } from "node:fs/promises"
import type { Writable } from "node:stream"
import { ClipMuxError, MediaError } from "../capture/errors.ts"
import type { AccessUnit, Logger } from "../capture/types.ts"

export interface MuxClipOptions {
  ffmpegPath: string
  /** Annex-B access units; the first must be a keyframe carrying SPS/PPS. */
  accessUnits: readonly AccessUnit[]
  /** Frames per second; the clip is timed at this constant rate. */
  fps: number
  outPath: string
  logger?: Logger
  /** ffmpeg is killed after this long. Default 30000 ms. */
  timeoutMs?: number
}

/**
 * Writes access units to a fragmented MP4 (H.264 stream-copied, no re-encode): `ftyp`, an empty `moov`
 * (with `mvex`), then one `moof`+`mdat` per GOP. Phones feed it to Media Source Extensions as the records
 * decrypt, so playback starts after the first GOP instead of the whole file; a saved file still plays in
 * every player. ffmpeg
 * writes `outPath + ".tmp"`, which is renamed to `outPath` only on success, so a reader never sees half a
 * file.
 *
 * Timestamps are frame count / fps (`setts`), which assumes no B-frames; our encoder settings (baseline)
 * and most cameras satisfy that.
 *
 * @throws MediaError CLIP_INVALID for an empty clip or one that does not start on a keyframe.
 * @throws ClipMuxError when ffmpeg fails; the temporary file is removed.
 */
export async function muxClip(options: MuxClipOptions): Promise<void> {
  const { ffmpegPath, accessUnits, fps, outPath } = options
  if (accessUnits.length === 0) throw new MediaError("CLIP_INVALID", "a clip needs at least one access unit")
  if (!accessUnits[0]?.keyframe) throw new MediaError("CLIP_INVALID", "a clip must start with a keyframe")
  if (!Number.isFinite(fps) || fps <= 0) throw new MediaError("CLIP_INVALID", `invalid frame rate ${fps}`)

  const tmpPath = `${outPath}.tmp`
  const args = [
    ...["-hide_banner", "-loglevel", "error", "-f", "h264", "-framerate", String(fps), "-i", "pipe:0"],
    ...["-map", "0:v:0", "-c", "copy", "-bsf:v", `setts=ts=N/(${fps}*TB)`],
    ...["-movflags", "+frag_keyframe+empty_moov+default_base_moof", "-f", "mp4", "-y", tmpPath],
  ]
  const child = spawn(ffmpegPath, args, { stdio: ["pipe", "ignore", "pipe"] })
  const stderr: string[] = []
  child.stderr.setEncoding("utf8")
  child.stderr.on("data", (text: string) => {
    stderr.push(...text.split(/\r?\n/).filter((line) => line.trim()))
    if (stderr.length > 20) stderr.splice(0, stderr.length - 20)
  })
  // EPIPE when ffmpeg dies early; the exit code below reports it.
  child.stdin.on("error", (error) => options.logger?.debug({ err: error }, "clip muxer stdin error"))

  const exited = new Promise<number | null>((resolve, reject) => {
    child.on("error", reject)
    child.on("close", (code) => resolve(code))
  })
  let timedOut = false
  const timer = setTimeout(() => {
    timedOut = true
    child.kill("SIGKILL")
  }, options.timeoutMs ?? 30_000)

  try {
    const [code] = await Promise.all([exited, writeAll(child.stdin, accessUnits)]).catch((error: unknown) => {
      throw new ClipMuxError(`could not run ffmpeg to write ${outPath}`, stderr, { cause: error })
    })
    if (timedOut) throw new ClipMuxError(`ffmpeg took too long to write ${outPath}`, stderr)
    if (code !== 0) {
      const detail = stderr.at(-1) ?? "no output"
      throw new ClipMuxError(`ffmpeg could not write ${outPath} (exit ${code}): ${detail}`, stderr)
    }
    await rename(tmpPath, outPath)
    options.logger?.debug({ outPath, frames: accessUnits.length }, "clip written")
  } catch (error) {
    await rm(tmpPath, { force: true })
    throw error
  } finally {
    clearTimeout(timer)
  }
}

/** Writes every unit, respecting backpressure; resolves early (never rejects) if ffmpeg closes its stdin. */
function writeAll(stdin: Writable, units: readonly AccessUnit[]): Promise<void> {
  return new Promise((resolve) => {
    let next = 0
    const finish = () => {
      stdin.off("drain", pump)
      stdin.off("close", finish)
      stdin.off("error", finish)
      resolve()
    }
    function pump(): void {
      while (next < units.length) {
        const unit = units[next++]
        if (unit && !stdin.write(unit.data)) return
      }
      stdin.end()
      finish()
    }
    stdin.on("drain", pump)
    stdin.once("close", finish)
    stdin.once("error", finish)
    pump()
  })
}
