import { readFile } from "node:fs/promises"
import { z } from "zod"

/**
 * The hub's configuration. Everything has an embedded default, so `hub start` runs with no file: one
 * synthetic camera, signal on this machine. A config file (JSON) overrides any part; errors name the field.
 */
const cameraSchema = z.discriminatedUnion("kind", [
  z.strictObject({
    id: z.string().regex(/^[a-z0-9-]{1,32}$/, "lowercase letters, digits and dashes"),
    name: z.string().min(1).max(64),
    kind: z.literal("synthetic"),
    /** Seconds between two passes of the scripted moving object. */
    cycleSeconds: z.number().min(4).max(3600).default(30),
    /** Seconds the object is in view during each cycle. */
    motionSeconds: z.number().min(1).max(600).default(4),
    width: z.number().int().min(64).max(3840).default(640),
    height: z.number().int().min(64).max(2160).default(360),
    fps: z.number().int().min(1).max(60).default(15),
  }),
])

export const hubConfigSchema = z.strictObject({
  name: z.string().min(1).max(64).default("My home"),
  signalUrl: z.url({ protocol: /^https?$/ }).default("http://127.0.0.1:8080"),
  /** Where phones open the PWA; defaults to the signal URL, which serves it. */
  webUrl: z.url({ protocol: /^https?$/ }).optional(),
  dataDir: z.string().min(1).default("./.vigil-data/hub"),
  /**
   * MLS ciphersuite for a new space: "suite1" (X25519, the default) or "xwing" (post-quantum hybrid
   * X25519 + ML-KEM-768). Fixed once the space exists.
   */
  ciphersuite: z.enum(["suite1", "xwing"]).default("suite1"),
  cameras: z
    .array(cameraSchema)
    .min(1)
    .default([
      {
        id: "front-door",
        name: "Front door",
        kind: "synthetic",
        cycleSeconds: 30,
        motionSeconds: 4,
        width: 640,
        height: 360,
        fps: 15,
      },
    ]),
  recording: z
    .strictObject({
      preRollSeconds: z.number().min(0).max(30).default(5),
      postRollSeconds: z.number().min(0).max(60).default(2),
      maxClipSeconds: z.number().min(2).max(600).default(30),
    })
    .default({ preRollSeconds: 5, postRollSeconds: 2, maxClipSeconds: 30 }),
})

export type HubConfig = z.infer<typeof hubConfigSchema>
export type HubCameraConfig = HubConfig["cameras"][number]

export class ConfigError extends Error {
  readonly code = "CONFIG_INVALID"
}

/** Validates a config object; the error names the first bad field and says what was expected. */
export function parseHubConfig(input: unknown, source = "config"): HubConfig {
  const parsed = hubConfigSchema.safeParse(input)
  if (parsed.success) return parsed.data
  const issue = parsed.error.issues[0]
  const field = issue?.path.length ? issue.path.join(".") : "(root)"
  throw new ConfigError(`${source}: field "${field}": ${issue?.message ?? "invalid"}`)
}

export async function loadHubConfig(
  path: string | undefined,
  overrides: Record<string, unknown>,
): Promise<HubConfig> {
  let fromFile: Record<string, unknown> = {}
  if (path) {
    let text: string
    try {
      text = await readFile(path, "utf8")
    } catch (err) {
      throw new ConfigError(`cannot read config file ${path}: ${(err as Error).message}`)
    }
    try {
      fromFile = JSON.parse(text) as Record<string, unknown>
    } catch (err) {
      throw new ConfigError(`${path} is not valid JSON: ${(err as Error).message}`)
    }
  }
  const merged = {
    ...fromFile,
    ...Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined)),
  }
  return parseHubConfig(merged, path ?? "settings")
}
