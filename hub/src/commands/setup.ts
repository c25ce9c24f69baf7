/**
 * `hub setup`: the questions a household answers once — the relay's address, the home's name and the first
 * camera — each checked before it is saved (the relay answers over HTTPS, the camera's stream opens), then
 * written atomically into the config file the hub service reads.
 */
import { spawn } from "node:child_process"
import { parseHubConfig } from "../config.ts"
import { readConfigJson } from "./cameras.ts"
import { writeFileAtomic } from "../store/atomicFile.ts"

export interface SetupDeps {
  /** Path of the config file (created when missing). */
  configPath: string
  /** Asks a question; resolves the answer (trimmed), or undefined when the input ended. */
  ask: (question: string) => Promise<string | undefined>
  print: (line: string) => void
  /** Checks the relay; resolves undefined when it answers, else a sentence saying what is wrong. */
  checkRelay?: (url: string) => Promise<string | undefined>
  /** Opens a camera's stream; resolves what was found, or a reason a person can act on. */
  probeCamera: (url: string) => Promise<ProbeResult>
}

export type ProbeResult = { ok: true; summary: string } | { ok: false; reason: string }

const isLoopback = (host: string) =>
  host === "localhost" || host.startsWith("127.") || host === "[::1]" || host === "::1"

/** The relay URL as typed, or a reason it cannot be one. */
export function parseRelayUrl(text: string): { url: string } | { reason: string } {
  let url: URL
  try {
    url = new URL(/^[a-z]+:\/\//i.test(text) ? text : `https://${text}`)
  } catch {
    return { reason: "that is not a web address; type it like https://relay.example.org" }
  }
  if (url.protocol !== "https:" && !(url.protocol === "http:" && isLoopback(url.hostname)))
    return { reason: "phones need the relay over https (plain http only works on this machine itself)" }
  if (url.pathname !== "/" || url.search || url.hash)
    return { reason: "give only the relay's address, without a path (https://relay.example.org)" }
  return { url: url.origin }
}

/** Reads `GET /healthz` of the relay and explains a failure. */
export async function checkRelayReachable(url: string): Promise<string | undefined> {
  try {
    const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(8000) })
    if (res.ok) return undefined
    return `the relay answered ${res.status} at ${url}/healthz; is this the Vigil relay's address?`
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause
    const code = cause?.code ?? (err as { name?: string }).name
    const host = new URL(url).hostname
    switch (code) {
      case "ENOTFOUND":
      case "EAI_AGAIN":
        return `no address found for ${host}: check the name, and that its DNS record points at the relay`
      case "ECONNREFUSED":
        return `${host} answers, but nothing listens on its https port: is the relay running (vigil-relay status)?`
      case "UNABLE_TO_VERIFY_LEAF_SIGNATURE":
      case "SELF_SIGNED_CERT_IN_CHAIN":
      case "DEPTH_ZERO_SELF_SIGNED_CERT":
      case "UNABLE_TO_GET_ISSUER_CERT_LOCALLY":
      case "CERT_HAS_EXPIRED":
      case "ERR_TLS_CERT_ALTNAME_INVALID":
        return `the certificate of ${host} is not valid for this box (${code}): the relay's certificate must come from a public CA`
      case "TimeoutError":
      case "ETIMEDOUT":
      case "EHOSTUNREACH":
      case "ENETUNREACH":
        return `no route to ${host} from this box (${code}): check its network and the relay's firewall`
      default:
        return `could not reach ${url}: ${cause?.message ?? (err as Error).message}`
    }
  }
}

/** Probes an RTSP URL with ffprobe and turns its failure into a reason a person can act on. */
export function probeRtspWith(ffprobePath: string) {
  return (url: string): Promise<ProbeResult> =>
    new Promise((resolve) => {
      const child = spawn(
        ffprobePath,
        ["-v", "error", "-rtsp_transport", "tcp", "-timeout", "8000000", "-show_streams", "-of", "json", url],
        { stdio: ["ignore", "pipe", "pipe"] },
      )
      let out = ""
      let err = ""
      child.stdout.setEncoding("utf8").on("data", (t: string) => (out += t))
      child.stderr.setEncoding("utf8").on("data", (t: string) => (err += t.slice(0, 4000)))
      const timer = setTimeout(() => child.kill("SIGKILL"), 15_000)
      child.on("error", (e) => resolve({ ok: false, reason: `ffprobe could not run: ${e.message}` }))
      child.on("close", (code) => {
        clearTimeout(timer)
        if (code === 0) return resolve(describeStreams(out))
        resolve({ ok: false, reason: explainProbeFailure(err, url) })
      })
    })
}

function describeStreams(json: string): ProbeResult {
  let streams: {
    codec_type?: string
    codec_name?: string
    width?: number
    height?: number
    avg_frame_rate?: string
  }[]
  try {
    streams = (JSON.parse(json) as { streams?: typeof streams }).streams ?? []
  } catch {
    return { ok: false, reason: "the camera answered with something that is not a video stream" }
  }
  const video = streams.find((s) => s.codec_type === "video")
  if (!video) return { ok: false, reason: "the stream has no video track" }
  if (video.codec_name === "hevc")
    return {
      ok: false,
      reason:
        "the camera sends H.265, which phones' browsers cannot play: choose its H.264 stream (often the substream)",
    }
  if (video.codec_name !== "h264")
    return {
      ok: false,
      reason: `the camera sends ${video.codec_name ?? "an unknown codec"}; Vigil needs H.264`,
    }
  const [num, den] = (video.avg_frame_rate ?? "0/1").split("/").map(Number)
  const fps = num && den ? Math.round(num / den) : undefined
  const audio = streams.find((s) => s.codec_type === "audio")
  return {
    ok: true,
    summary: `H.264 ${video.width}×${video.height}${fps ? ` at ${fps} fps` : ""}${audio ? `, audio ${audio.codec_name}` : ""}`,
  }
}

/** ffprobe's stderr, as a person would want it said (never with the password). */
export function explainProbeFailure(stderr: string, url: string): string {
  let host = "the camera"
  try {
    host = new URL(url).host
  } catch {
    // The URL was checked before; keep the generic name.
  }
  if (/401|Unauthorized/i.test(stderr)) return "wrong user name or password for the camera"
  if (/404|Not Found/i.test(stderr))
    return `${host} answers, but has no stream at that path: check the URL's path`
  if (/Connection refused/i.test(stderr))
    return `nothing answers for RTSP at ${host}: check the port (usually 554)`
  if (/No route to host|Network is unreachable|timed out|Operation timed out/i.test(stderr))
    return `no route to the camera at ${host}: is it on and on this network?`
  if (/Name or service not known|Temporary failure in name resolution/i.test(stderr))
    return `no address found for ${host}`
  return `the stream at ${host} did not open (${stderr.trim().split("\n").pop()?.replace(url, "…") ?? "no reason given"})`
}

/** Runs the questions; returns the exit code. Nothing is saved unless every answer checked out. */
export async function runSetup(deps: SetupDeps): Promise<number> {
  const checkRelay = deps.checkRelay ?? checkRelayReachable
  // A config that exists but cannot be read stops setup (ConfigError): it would be overwritten otherwise.
  const current = await readConfigJson(deps.configPath)
  const askWithDefault = async (question: string, fallback: string | undefined) => {
    const answer = await deps.ask(fallback ? `${question} [${fallback}]` : question)
    if (answer === undefined) return undefined
    return answer === "" ? fallback : answer
  }
  const ended = () => {
    deps.print("Setup stopped before the end; nothing was saved.")
    return 1
  }

  let signalUrl: string | undefined
  while (!signalUrl) {
    const text = await askWithDefault("Relay address (https://…):", current.signalUrl as string | undefined)
    if (text === undefined) return ended()
    const parsed = parseRelayUrl(text)
    if ("reason" in parsed) {
      deps.print(`  ${parsed.reason}`)
      continue
    }
    const problem = await checkRelay(parsed.url)
    if (problem) deps.print(`  ${problem}`)
    else signalUrl = parsed.url
  }
  deps.print(`  The relay answers at ${signalUrl}.`)

  let name: string | undefined
  while (!name) {
    const text = await askWithDefault("Name of this home:", (current.name as string | undefined) ?? "My home")
    if (text === undefined) return ended()
    if (text.length > 64 || /[\p{Cc}\p{Cf}]/u.test(text)) deps.print("  Use at most 64 ordinary characters.")
    else name = text
  }

  let camera: Record<string, unknown> | undefined
  while (!camera) {
    const text = await deps.ask(
      'First camera: its RTSP address (rtsp://user:password@192.168.1.20:554/stream), /dev/video0 for a USB camera, or "test" for the test picture:',
    )
    if (text === undefined) return ended()
    if (text === "test") camera = { id: "front-door", name: "Front door", kind: "synthetic" }
    else if (/^\/dev\/\S+$/.test(text))
      camera = { id: "camera-1", name: "Camera 1", kind: "v4l2", device: text }
    else if (/^rtsps?:\/\/\S+$/i.test(text)) {
      deps.print("  Opening the stream…")
      const probe = await deps.probeCamera(text)
      if (!probe.ok) {
        deps.print(`  ${probe.reason}`)
        continue
      }
      deps.print(`  Found ${probe.summary}.`)
      camera = { id: "camera-1", name: "Camera 1", kind: "rtsp", url: text }
    } else deps.print('  That is not an rtsp:// address, a /dev/ device or "test".')
  }
  const cameraName = await askWithDefault("Camera name:", camera.name as string)
  if (cameraName === undefined) return ended()
  camera.name = cameraName.slice(0, 64)

  const next: Record<string, unknown> = { ...current, name, signalUrl, cameras: [camera] }
  parseHubConfig(next, deps.configPath)
  await writeFileAtomic(deps.configPath, `${JSON.stringify(next, null, 2)}\n`)
  deps.print(`Saved ${deps.configPath}.`)
  return 0
}
