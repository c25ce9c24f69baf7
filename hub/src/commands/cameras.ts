import { readFile } from "node:fs/promises"
import { parseArgs } from "node:util"
import { redactCredentials } from "../capture/ffmpegStderr.ts"
import { ConfigError, parseHubConfig, type HubCameraConfig } from "../config.ts"
import { writeFileAtomic } from "../store/atomicFile.ts"

export const camerasUsage = `Usage:
  hub cameras list   --config FILE
  hub cameras add    --config FILE ID --name NAME (--rtsp URL [--udp] | --file PATH | --v4l2 DEVICE | --synthetic)
  hub cameras remove --config FILE ID

Edits the cameras in the hub's JSON config file (created if missing); a running hub picks the change up
when it is restarted.`

/** What a command prints, and its exit code; I/O stays in cli.ts. */
export interface CommandResult {
  code: number
  out: string[]
  err: string[]
}

export async function readConfigJson(path: string): Promise<Record<string, unknown>> {
  let text: string
  try {
    text = await readFile(path, "utf8")
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return {}
    throw new ConfigError(`cannot read config file ${path}: ${(error as Error).message}`)
  }
  try {
    const json: unknown = JSON.parse(text)
    if (!json || typeof json !== "object" || Array.isArray(json)) throw new Error("not a JSON object")
    return json as Record<string, unknown>
  } catch (error) {
    throw new ConfigError(`${path} is not valid JSON: ${(error as Error).message}`)
  }
}

/** One line per camera: id, kind, where from (credentials hidden), name. */
export function describeCamera(camera: HubCameraConfig): string {
  const source =
    camera.kind === "rtsp"
      ? `${redactCredentials(camera.url)} (${camera.transport})`
      : camera.kind === "file"
        ? camera.path
        : camera.kind === "v4l2"
          ? camera.device
          : `${camera.width}x${camera.height} test scene`
  return `${camera.id.padEnd(16)} ${camera.kind.padEnd(9)} ${source}  "${camera.name}"`
}

/** `hub cameras list|add|remove`. */
export async function runCamerasCommand(argv: string[]): Promise<CommandResult> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      config: { type: "string" },
      name: { type: "string" },
      rtsp: { type: "string" },
      udp: { type: "boolean" },
      file: { type: "string" },
      v4l2: { type: "string" },
      synthetic: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  })
  const [action, id] = positionals
  if (values.help) return { code: 0, out: [camerasUsage], err: [] }
  if (!values.config)
    return { code: 2, out: [], err: ["hub cameras: --config FILE is required", camerasUsage] }
  const path = values.config
  const json = await readConfigJson(path)
  const current = parseHubConfig(json, path)
  const explicit = Array.isArray(json.cameras) ? (json.cameras as Record<string, unknown>[]) : []

  switch (action) {
    case "list": {
      const note =
        explicit.length === 0 ? ["(no cameras configured: the hub runs its built-in test camera)"] : []
      return { code: 0, out: [...note, ...current.cameras.map(describeCamera)], err: [] }
    }
    case "add": {
      if (!id) return { code: 2, out: [], err: ["hub cameras add: give the new camera an ID", camerasUsage] }
      const sources = [values.rtsp, values.file, values.v4l2, values.synthetic].filter((v) => v !== undefined)
      if (sources.length !== 1) {
        return {
          code: 2,
          out: [],
          err: ["hub cameras add: give exactly one of --rtsp, --file, --v4l2, --synthetic"],
        }
      }
      if (explicit.some((c) => c.id === id))
        return { code: 2, out: [], err: [`hub cameras add: ${id} already exists`] }
      const camera: Record<string, unknown> = { id, name: values.name ?? id }
      if (values.rtsp)
        Object.assign(camera, { kind: "rtsp", url: values.rtsp, transport: values.udp ? "udp" : "tcp" })
      else if (values.file) Object.assign(camera, { kind: "file", path: values.file })
      else if (values.v4l2) Object.assign(camera, { kind: "v4l2", device: values.v4l2 })
      else camera.kind = "synthetic"
      const next = { ...json, cameras: [...explicit, camera] }
      const parsed = parseHubConfig(next, path)
      await writeFileAtomic(path, `${JSON.stringify(next, null, 2)}\n`)
      const added = parsed.cameras.find((c) => c.id === id)
      return {
        code: 0,
        out: [`Added: ${added ? describeCamera(added) : id}`, "Restart the hub to use it."],
        err: [],
      }
    }
    case "remove": {
      if (!id)
        return { code: 2, out: [], err: ["hub cameras remove: which camera? give its ID", camerasUsage] }
      if (!explicit.some((c) => c.id === id))
        return { code: 1, out: [], err: [`hub cameras remove: no camera ${id} in ${path}`] }
      const remaining = explicit.filter((c) => c.id !== id)
      const next: Record<string, unknown> = { ...json, cameras: remaining }
      if (remaining.length === 0) delete next.cameras
      parseHubConfig(next, path)
      await writeFileAtomic(path, `${JSON.stringify(next, null, 2)}\n`)
      const note =
        remaining.length === 0 ? ["No cameras left: the hub will run its built-in test camera."] : []
      return { code: 0, out: [`Removed ${id}.`, ...note, "Restart the hub to apply."], err: [] }
    }
    default:
      return { code: 2, out: [], err: [camerasUsage] }
  }
}
