/**
 * The camera for `npm run bench:live` (a child process): ffmpeg draws testsrc2 at 1280×720 as raw frames;
 * this process hands one to the encoder every 1/30 s, like a sensor would, and reports when (µs since the
 * Unix epoch, over IPC); a second ffmpeg encodes them as the hub's synthetic camera does (x264 ultrafast,
 * zerolatency, access unit delimiters, one packet per write) to stdout, which the bench reads as the
 * camera pipeline reads a camera. Capture time → decoded in Chromium is then "glass to glass" minus the
 * sensor.
 */
import { spawn } from "node:child_process"

const width = 1280
const height = 720
const fps = 30
const frameBytes = (width * height * 3) / 2
const ffmpeg = process.env.FFMPEG_BIN ?? "ffmpeg"

const source = spawn(
  ffmpeg,
  ["-loglevel", "error", "-f", "lavfi", "-i", `testsrc2=size=${width}x${height}:rate=${fps}`].concat([
    "-pix_fmt",
    "yuv420p",
    "-f",
    "rawvideo",
    "pipe:1",
  ]),
  { stdio: ["ignore", "pipe", "inherit"] },
)
const encoder = spawn(
  ffmpeg,
  [
    "-loglevel",
    "error",
    "-f",
    "rawvideo",
    "-pix_fmt",
    "yuv420p",
    "-s",
    `${width}x${height}`,
    "-r",
    String(fps),
  ]
    .concat(["-i", "pipe:0", "-an", "-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency"])
    .concat(["-profile:v", "baseline", "-b:v", "2500k", "-maxrate", "2500k", "-bufsize", "2500k"])
    .concat(["-g", String(2 * fps), "-keyint_min", String(2 * fps), "-sc_threshold", "0"])
    .concat(["-x264-params", "repeat-headers=1", "-bsf:v", "h264_metadata=aud=insert"])
    .concat(["-flush_packets", "1", "-f", "h264", "pipe:1"]),
  { stdio: ["pipe", "inherit", "inherit"] },
)

// Raw frames wait here; the source is paused while two are buffered.
const ready: Buffer[] = []
let partial: Buffer[] = []
let partialBytes = 0
source.stdout.on("data", (chunk: Buffer) => {
  let rest = chunk
  while (rest.length > 0) {
    const take = Math.min(rest.length, frameBytes - partialBytes)
    partial.push(rest.subarray(0, take))
    partialBytes += take
    rest = rest.subarray(take)
    if (partialBytes === frameBytes) {
      ready.push(Buffer.concat(partial))
      partial = []
      partialBytes = 0
    }
  }
  if (ready.length >= 2) source.stdout.pause()
})

const nowUs = () => Math.round((performance.timeOrigin + performance.now()) * 1000)
const startedAt = performance.now()
let index = 0
let missed = 0
const tick = () => {
  const frame = ready.shift()
  if (ready.length < 2) source.stdout.resume()
  if (frame) {
    const captureUs = nowUs()
    encoder.stdin.write(frame)
    process.send?.({ index, captureUs })
    index++
  } else missed++
  // Drift-free schedule: frame n is due at start + n / fps.
  const due = startedAt + ((index + missed) * 1000) / fps
  setTimeout(tick, Math.max(0, due - performance.now()))
}
setTimeout(tick, 200)

const stop = () => {
  source.kill("SIGTERM")
  encoder.stdin.end()
  encoder.kill("SIGTERM")
  process.exit(0)
}
process.on("disconnect", stop)
process.on("SIGTERM", stop)
