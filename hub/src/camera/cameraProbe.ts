/**
 * Tries a camera's stream before anything is saved (issue 17): ffprobe says what the stream is, ffmpeg takes
 * one picture of it, and every failure becomes a `SetupFailureCode` with a sentence a person can act on.
 * Credentials go to ffmpeg inside the URL and nowhere else: not into a log, not into a reason.
 */
import { spawn } from "node:child_process"
import { streamInfoSchema, type SetupFailureCode, type StreamInfo } from "@vigil/protocol"
import { z } from "zod"
import {
  classifyFfmpegFailure,
  redactCredentials,
  rtspProgressOf,
  type FfmpegFailureKind,
} from "../capture/ffmpegStderr.ts"
import { MediaError } from "../capture/errors.ts"
import { runFfmpeg } from "../capture/runFfmpeg.ts"
import { silentLogger, type Logger } from "../capture/types.ts"
import { credentialsOf, withCredentials } from "./rtspUrl.ts"

export interface ProbeTarget {
  /** The main stream (recorded and watched); may already contain credentials. */
  url: string
  /** A smaller stream of the same camera, for detection. */
  substreamUrl?: string
  /** When given, override the credentials in the URLs. */
  username?: string
  password?: string
  /** Default "tcp". */
  transport?: "tcp" | "udp"
  /** Per stream and per step. Default 10 000 ms. */
  timeoutMs?: number
}

export type ProbeField = "url" | "substreamUrl" | "username" | "password"

export type ProbeOutcome =
  | {
      ok: true
      stream: StreamInfo
      substream?: StreamInfo
      /** A picture just taken: JPEG, at most 960 px wide and 140 000 bytes. */
      snapshot: Uint8Array
    }
  | { ok: false; code: SetupFailureCode; reason: string; field?: ProbeField }

export interface ProbeDeps {
  ffmpegPath: string
  ffprobePath: string
  logger?: Logger
}

type ProbeFailure = Extract<ProbeOutcome, { ok: false }>

/** The snapshot's limits: what the phone shows, and what fits in a set-up reply (base64 ≤ 200 000). */
const snapshotMaxWidth = 960
const snapshotMaxBytes = 140_000
/** Later tries when a picture comes out too large: coarser, then smaller. */
const shrinkSteps = [{ q: 10 }, { q: 20 }, { q: 31 }, { q: 31, width: 480 }] as const
/** ffmpeg gets the whole budget as its socket timeout; this is how long it has to say so before it is killed. */
const killGraceMs = 500

/**
 * Opens the camera's stream(s) with ffprobe, checks the main one can be recorded and played live (H.264),
 * and takes a picture from it (from the substream if the main stream gives none).
 */
export async function probeCamera(target: ProbeTarget, deps: ProbeDeps): Promise<ProbeOutcome> {
  const context: Context = {
    ...deps,
    logger: deps.logger ?? silentLogger,
    transport: target.transport ?? "tcp",
    // Never 0: ffmpeg reads a socket timeout of 0 as "wait for ever".
    timeoutMs: Math.max(500, Math.round(target.timeoutMs ?? 10_000) || 10_000),
  }
  const main = prepareStream(target.url, "url", target)
  if (!main.ok) return main
  const sub =
    target.substreamUrl === undefined ? undefined : prepareStream(target.substreamUrl, "substreamUrl", target)
  if (sub && !sub.ok) return sub

  const mainInfo = await probeStream(main, context)
  if (!mainInfo.ok) return mainInfo
  if (unplayableAs(mainInfo.info)) {
    // Knowing the substream lets the reason say whether choosing it would do.
    const subInfo = sub ? await probeStream(sub, context) : undefined
    return codecFailure(mainInfo.info, subInfo?.ok ? subInfo.info : undefined)
  }

  // Main and substream at once is how the hub will use the camera anyway.
  const [subInfo, mainShot] = await Promise.all([
    sub ? probeStream(sub, context) : undefined,
    grabSnapshot(main, context),
  ])
  if (subInfo && !subInfo.ok) return subInfo
  let shot = mainShot
  if (!shot.ok && sub) {
    context.logger.info(
      { code: shot.code },
      "camera probe: no picture from the main stream, trying the substream",
    )
    const subShot = await grabSnapshot(sub, context)
    if (subShot.ok) shot = subShot
  }
  if (!shot.ok) return shot
  context.logger.info(
    { stream: mainInfo.info, substream: subInfo?.info, snapshotBytes: shot.jpeg.length },
    "camera probe: stream works",
  )
  return {
    ok: true,
    stream: mainInfo.info,
    ...(subInfo ? { substream: subInfo.info } : {}),
    snapshot: shot.jpeg,
  }
}

interface Context extends ProbeDeps {
  logger: Logger
  transport: "tcp" | "udp"
  timeoutMs: number
}

/** One stream to try: the URL ffmpeg gets, and what of it may be said to a person. */
interface Stream {
  ok: true
  field: "url" | "substreamUrl"
  /** With credentials: for ffmpeg only. */
  url: string
  /** "192.168.1.20:554". */
  place: string
  hostname: string
  /** "/stream1"; undefined when it holds the password (some cameras want it in the path). */
  path: string | undefined
  /** Texts that must not reach a log. */
  secrets: string[]
}

function prepareStream(
  raw: string,
  field: "url" | "substreamUrl",
  target: ProbeTarget,
): Stream | ProbeFailure {
  const parsed = URL.canParse(raw) ? new URL(raw) : undefined
  if (!parsed || !/^rtsps?:$/.test(parsed.protocol) || !parsed.hostname) {
    const which = field === "url" ? "The camera's address" : "The substream's address"
    return failure(
      "invalid",
      `${which} is not an RTSP address: it should look like rtsp://192.168.1.20:554/stream1. A password with /, # or ? in it goes in the password field, not in the address.`,
      field,
    )
  }
  const { username, password } = target.username !== undefined ? target : credentialsOf(raw)
  if (username?.includes(":")) {
    return failure("invalid", "A camera's user name cannot contain a colon (:): check it.", "username")
  }
  const secrets = password ? [password, encodeURIComponent(password)] : []
  const path = parsed.pathname || "/"
  return {
    ok: true,
    field,
    // Re-encoded even when they came in the URL, so a password typed with a bare @ or % still works.
    url: withCredentials(raw, username ?? "", password),
    place: parsed.port ? parsed.host : `${parsed.host}:${parsed.protocol === "rtsps:" ? 322 : 554}`,
    hostname: parsed.hostname,
    path: secrets.some((secret) => path.includes(secret)) ? undefined : path,
    secrets,
  }
}

function failure(code: SetupFailureCode, reason: string, field?: ProbeField): ProbeFailure {
  return { ok: false, code, reason, ...(field ? { field } : {}) }
}

const ffprobeOutputSchema = z.object({
  streams: z
    .array(
      z.object({
        codec_type: z.string().optional(),
        codec_name: z.string().optional(),
        profile: z.string().optional(),
        width: z.number().optional(),
        height: z.number().optional(),
        avg_frame_rate: z.string().optional(),
        r_frame_rate: z.string().optional(),
      }),
    )
    .default([]),
})

async function probeStream(
  stream: Stream,
  context: Context,
): Promise<{ ok: true; info: StreamInfo } | ProbeFailure> {
  const run = await runTool(
    context.ffprobePath,
    ["-hide_banner", ...inputOptions(context), "-show_streams", "-of", "json", stream.url],
    context,
    stream,
    1024 * 1024,
  )
  if (run.spawnError) return toolMissing("ffprobe", run.spawnError, context)
  if (run.exitCode !== 0) return explainFailure(stream, run, context)

  const parsed = ffprobeOutputSchema.safeParse(parseJson(run.stdout.toString("utf8")))
  const streams = parsed.success ? parsed.data.streams : []
  const video = streams.find((s) => s.codec_type === "video")
  if (!video) return explainFailure(stream, { ...run, kind: "no-video" }, context)
  if (!video.width || !video.height) return explainFailure(stream, { ...run, kind: "timeout" }, context)
  const fps = frameRate(video.avg_frame_rate) ?? frameRate(video.r_frame_rate)
  const audio = streams.find((s) => s.codec_type === "audio")?.codec_name
  const info = streamInfoSchema.safeParse({
    codec: video.codec_name?.slice(0, 32) || "unknown",
    ...(video.profile ? { profile: video.profile.slice(0, 64) } : {}),
    width: video.width,
    height: video.height,
    ...(fps !== undefined ? { fps } : {}),
    ...(audio ? { audio: audio.slice(0, 32) } : {}),
  })
  if (!info.success) {
    context.logger.warn({ field: stream.field, video }, "camera probe: stream described out of bounds")
    return failure(
      "error",
      "The camera describes its stream in a way the hub cannot use: choose another of its streams.",
      stream.field,
    )
  }
  context.logger.debug({ field: stream.field, info: info.data }, "camera probe: stream read")
  return { ok: true, info: info.data }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch (error) {
    // ffprobe wrote something else: the caller treats it as a stream without video.
    if (error instanceof SyntaxError) return undefined
    throw error
  }
}

/** "30000/1001" → 29.97; undefined for "0/0" and rates no camera sends. */
function frameRate(text: string | undefined): number | undefined {
  const [num, den] = (text ?? "").split("/").map(Number)
  if (!num || !den) return undefined
  const rate = num / den
  return rate > 0 && rate <= 1000 ? Math.round(rate * 100) / 100 : undefined
}

/** Why browsers cannot play this main stream live, as a name ("H.265"); undefined when they can. */
function unplayableAs(info: StreamInfo): string | undefined {
  if (info.codec !== "h264") return codecName(info.codec)
  // Browsers decode 8-bit 4:2:0 H.264 only.
  if (info.profile && /High 10|High 4:2:2|High 4:4:4/i.test(info.profile)) return `H.264 ${info.profile}`
  return undefined
}

function codecName(codec: string): string {
  const names: Record<string, string> = { hevc: "H.265", h264: "H.264", mjpeg: "MJPEG", mpeg4: "MPEG-4" }
  return names[codec] ?? codec.toUpperCase()
}

function codecFailure(main: StreamInfo, sub: StreamInfo | undefined): ProbeFailure {
  const name = unplayableAs(main) ?? codecName(main.codec)
  const first = `The camera's main stream is ${name}, which browsers cannot play live`
  if (sub && !unplayableAs(sub)) {
    return failure(
      "codec",
      `${first}. Its substream is H.264, but the main stream is the one recorded and watched: set the camera's main stream to H.264 in its web page or app.`,
      "url",
    )
  }
  if (sub && unplayableAs(sub) === name) {
    return failure(
      "codec",
      `${first}, and so is its substream: set the camera's main stream to H.264 in its web page or app.`,
      "url",
    )
  }
  return failure(
    "codec",
    `${first}: choose the camera's H.264 stream (often its substream) instead, or set its main stream to H.264 in the camera's web page or app.`,
    "url",
  )
}

async function grabSnapshot(
  stream: Stream,
  context: Context,
): Promise<{ ok: true; jpeg: Uint8Array } | ProbeFailure> {
  const run = await runTool(
    context.ffmpegPath,
    [
      ...["-hide_banner", "-nostdin", "-nostats"],
      ...inputOptions(context),
      // The stream was just probed: ffmpeg need not study it again before decoding.
      ...["-analyzeduration", "500000", "-i", stream.url],
      ...["-map", "0:v:0", "-an", "-sn", "-dn", "-frames:v", "1"],
      ...["-vf", scaleFilter(snapshotMaxWidth), "-q:v", "5", "-f", "image2pipe", "-c:v", "mjpeg", "pipe:1"],
    ],
    context,
    stream,
    16 * 1024 * 1024,
  )
  if (run.spawnError) return toolMissing("ffmpeg", run.spawnError, context)
  const jpeg = new Uint8Array(run.stdout)
  if (run.exitCode !== 0 || jpeg[0] !== 0xff || jpeg[1] !== 0xd8) {
    if (run.exitCode !== 0) return explainFailure(stream, run, context)
    context.logger.warn({ field: stream.field, bytes: jpeg.length }, "camera probe: ffmpeg gave no picture")
    return failure(
      "error",
      "The camera's stream opened, but no picture could be decoded from it: restart the camera, or choose another of its streams.",
      stream.field,
    )
  }
  return fitJpeg(jpeg, context)
}

/** `scale` to at most `width` wide, keeping the aspect ratio, never enlarging. */
function scaleFilter(width: number): string {
  return `scale=w='min(${width},iw)':h=-2`
}

/** The picture, re-encoded coarser (then smaller) until it fits the reply. */
async function fitJpeg(
  jpeg: Uint8Array,
  context: Context,
): Promise<{ ok: true; jpeg: Uint8Array } | ProbeFailure> {
  let out = jpeg
  for (const step of shrinkSteps) {
    if (out.length <= snapshotMaxBytes) return { ok: true, jpeg: out }
    context.logger.debug({ bytes: out.length, ...step }, "camera probe: picture too large, re-encoding it")
    try {
      out = await runFfmpeg(
        context.ffmpegPath,
        [
          ...["-f", "jpeg_pipe", "-i", "pipe:0", "-frames:v", "1"],
          ...("width" in step ? ["-vf", scaleFilter(step.width)] : []),
          ...["-q:v", String(step.q), "-f", "image2pipe", "-c:v", "mjpeg", "pipe:1"],
        ],
        "FRAME_INVALID",
        { input: [jpeg], timeoutMs: context.timeoutMs },
      )
    } catch (error) {
      if (!(error instanceof MediaError)) throw error
      context.logger.warn({ err: error }, "camera probe: could not shrink the picture")
      return failure(
        "error",
        "The hub could not make a picture small enough to send: the hub's log says why.",
      )
    }
  }
  return out.length <= snapshotMaxBytes
    ? { ok: true, jpeg: out }
    : failure("error", "The hub could not make a picture small enough to send: the hub's log says why.")
}

function inputOptions(context: Context): string[] {
  // ffmpeg 5.1's RTSP demuxer takes its socket timeout in microseconds as -timeout. Not -rw_timeout: that
  // is for inputs read through AVIO, which RTSP is not (ffmpeg refuses it there, ffprobe ignores it).
  const micros = String(context.timeoutMs * 1000)
  return ["-v", "verbose", "-rtsp_transport", context.transport, "-timeout", micros]
}

interface ToolRun {
  exitCode: number | null
  timedOut: boolean
  stdout: Buffer
  /** The last lines of stderr (SDP lines left out). */
  lines: string[]
  progress: "none" | "connected" | "described"
  spawnError?: Error
}

/** Runs ffprobe or ffmpeg (argument array, no shell), killed once its time is up. */
function runTool(
  path: string,
  args: string[],
  context: Context,
  stream: Stream,
  maxOutputBytes: number,
): Promise<ToolRun> {
  const scrub = (text: string) => scrubSecrets(text, stream.secrets)
  context.logger.debug({ tool: path, args: args.map(scrub) }, "camera probe: running")
  return new Promise((resolve) => {
    const child = spawn(path, args, { stdio: ["ignore", "pipe", "pipe"] })
    const chunks: Buffer[] = []
    let size = 0
    let partial = ""
    const run: ToolRun = {
      exitCode: null,
      timedOut: false,
      stdout: Buffer.alloc(0),
      lines: [],
      progress: "none",
    }
    const addLine = (line: string) => {
      const progress = rtspProgressOf(line)
      if (progress === "described" || (progress === "connected" && run.progress === "none"))
        run.progress = progress
      // SDP lines ("a=control:...") say nothing about failures and could look like one.
      if (/^[a-z]=/.test(line)) return
      run.lines.push(line)
      if (run.lines.length > 60) run.lines.shift()
    }
    const timer = setTimeout(() => {
      run.timedOut = true
      child.kill("SIGKILL")
    }, context.timeoutMs + killGraceMs)
    child.stdout.on("data", (chunk: Buffer) => {
      size += chunk.length
      if (size > maxOutputBytes) child.kill("SIGKILL")
      else chunks.push(chunk)
    })
    child.stderr.setEncoding("utf8")
    child.stderr.on("data", (text: string) => {
      const parts = (partial + text).split(/\r?\n|\r/)
      partial = parts.pop() ?? ""
      parts.forEach(addLine)
    })
    let settled = false
    const settle = () => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      if (partial) addLine(partial)
      run.stdout = Buffer.concat(chunks)
      resolve(run)
    }
    child.on("error", (error) => {
      run.spawnError = error
      settle()
    })
    child.on("close", (code) => {
      run.exitCode = code
      settle()
    })
  })
}

/** Credentials out of a text bound for a log: in URLs, and the password itself wherever it shows. */
function scrubSecrets(text: string, secrets: readonly string[]): string {
  let out = redactCredentials(text)
  // Shorter ones would blank out half the log; they only ever appear inside URLs, redacted above.
  for (const secret of secrets) if (secret.length >= 4) out = out.replaceAll(secret, "***")
  return out
}

function toolMissing(tool: "ffmpeg" | "ffprobe", error: Error, context: Context): ProbeFailure {
  context.logger.error({ tool, err: error.message }, "camera probe: could not run the tool")
  return failure(
    "error",
    `The hub could not run ${tool}: install ffmpeg on the hub (Debian: apt-get install ffmpeg) or set ${tool === "ffmpeg" ? "FFMPEG_PATH" : "FFPROBE_PATH"}.`,
  )
}

/** A failed ffprobe or ffmpeg run, as a code and a sentence; its stderr goes to the log, scrubbed. */
function explainFailure(
  stream: Stream,
  run: ToolRun & { kind?: FfmpegFailureKind },
  context: Context,
): ProbeFailure {
  const kind = run.kind ?? classifyFfmpegFailure(run.lines) ?? (run.timedOut ? "timeout" : undefined)
  const outcome = describeFailure(stream, kind, run.progress, context)
  context.logger.warn(
    {
      field: stream.field,
      code: outcome.code,
      kind,
      progress: run.progress,
      exitCode: run.exitCode,
      timedOut: run.timedOut,
      stderr: run.lines.slice(-8).map((line) => scrubSecrets(line, stream.secrets)),
    },
    "camera probe: stream did not open",
  )
  return outcome
}

function describeFailure(
  stream: Stream,
  kind: FfmpegFailureKind | undefined,
  progress: ToolRun["progress"],
  context: Context,
): ProbeFailure {
  const sub = stream.field === "substreamUrl"
  const seconds = Math.round(context.timeoutMs / 1000)
  const at = sub ? `${stream.place} (the substream's address)` : stream.place
  switch (kind) {
    case "auth":
      return sub
        ? failure(
            "auth",
            "The camera refused the user name or password for the substream: check the substream's address (it should be the same camera as the main stream).",
            stream.field,
          )
        : failure(
            "auth",
            "The camera refused the user name or password. Check them: they are the camera's own, set in its web page or app.",
            "password",
          )
    case "unreachable":
      return failure(
        "unreachable",
        `Nothing answers at ${at}: check the address and that the camera is on the same network as the hub.`,
        stream.field,
      )
    case "no-host":
      return failure(
        "unreachable",
        `The hub cannot find ${stream.hostname}: check the address (the camera's IP address, such as 192.168.1.20, always works).`,
        stream.field,
      )
    case "timeout":
      if (progress === "described") {
        const other = context.transport === "tcp" ? "UDP" : "TCP"
        return failure(
          "timeout",
          `The ${sub ? "substream" : "camera"} at ${stream.place} answered but sent no video in ${seconds} s: restart the camera, or try ${other} as the transport.`,
          stream.field,
        )
      }
      if (progress === "connected") {
        return failure(
          "timeout",
          `Something at ${at} accepted the connection but did not answer as an RTSP camera in ${seconds} s: check the port (RTSP is usually 554).`,
          stream.field,
        )
      }
      return failure(
        "unreachable",
        `Nothing answers at ${at} in ${seconds} s: check the address and that the camera is on the same network as the hub.`,
        stream.field,
      )
    case "not-found":
      return failure(
        "not-found",
        `The camera has no stream at ${stream.path ?? "that path"}: check the path (the camera's manual or its ONVIF profiles name it).`,
        stream.field,
      )
    case "no-video":
      return failure(
        "not-found",
        `The stream at ${stream.path ?? "that path"} has no video: check the path (the camera's manual or its ONVIF profiles name its video streams).`,
        stream.field,
      )
    case "bad-data":
      return failure(
        "invalid",
        `What answers at ${at} is not an RTSP stream: check the port, and whether the address should start with rtsp:// or rtsps://.`,
        stream.field,
      )
    default:
      return failure(
        "error",
        `The hub could not open the stream at ${at}: the hub's log says why.`,
        stream.field,
      )
  }
}
