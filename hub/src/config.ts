import { readFile } from "node:fs/promises"
import { z } from "zod"
import { ConfigError } from "./errors.ts"
import { defaultDetectionFilters, type LabelFilter } from "./detect/detectionFilter.ts"

/** Labels a camera can notify for; "motion" is an event nothing was recognised in. */
const eventLabelsForConfig = ["person", "pet", "vehicle", "motion"] as const
export const defaultNotifyLabels = ["person", "pet", "vehicle"] as const

const notifySchema = z.array(z.enum(eventLabelsForConfig)).max(4)
/** The synthetic test camera shows no person, pet or vehicle: it notifies for plain motion too, or never would. */
const syntheticNotifyLabels = [...defaultNotifyLabels, "motion"] as const

const labelFilterSchema = (d: LabelFilter) =>
  z
    .strictObject({
      minScore: z.number().min(0.05).max(0.99).default(d.minScore),
      minHeight: z.number().min(0).max(1).default(d.minHeight),
      maxHeight: z.number().min(0).max(1).default(d.maxHeight),
    })
    .default(d)

/**
 * The hub's configuration. Everything has an embedded default, so `hub start` runs with no file: one
 * synthetic camera, signal on this machine. A config file (JSON) overrides any part; errors name the field.
 */
const point = z.tuple([z.number().min(0).max(1), z.number().min(0).max(1)])
const polygon = z.array(point).min(3, "a polygon needs at least 3 points").max(64)
const zoneObject = z.strictObject({
  points: polygon,
  labels: z.array(z.enum(eventLabelsForConfig)).max(4).optional(),
})
export type ZoneConfig = z.infer<typeof zoneObject>

/** Motion detection for one camera. Zones and masks are polygons in normalized coordinates (0–1, origin top left). */
const motionSchema = z.strictObject({
  /** 0 (only large, stark changes) – 1 (the faintest). */
  sensitivity: z.number().min(0).max(1).default(0.5),
  /** Fraction of the watched area that must change. */
  minArea: z.number().min(0.0001).max(1).default(0.01),
  /** Motion ends after this long without a changed frame. */
  cooldownSeconds: z.number().min(0).max(120).default(2),
  /**
   * Only these areas are watched; empty: the whole picture. A zone is a polygon, or `{ points, labels }`:
   * then only those labels count inside it (an object whose feet are outside every zone that cares about
   * its label is not reported).
   */
  zones: z
    .array(z.union([polygon, zoneObject]))
    .max(16)
    .default([]),
  /** Never watched, even inside a zone. */
  masks: z.array(polygon).max(16).default([]),
  /** Rate of the small gray frames motion detection looks at. */
  fps: z.number().int().min(1).max(15).default(5),
})
export type MotionConfig = z.infer<typeof motionSchema>
const motionDefaults: MotionConfig = motionSchema.parse({})

const cameraCommon = {
  id: z.string().regex(/^[a-z0-9-]{1,32}$/, "lowercase letters, digits and dashes"),
  name: z.string().min(1).max(64),
  motion: motionSchema.default(motionDefaults),
  /** Look for people, pets and vehicles when this camera sees motion (if the hub has a detector). */
  detectObjects: z.boolean().default(true),
  /**
   * Which labels notify the phones (a push for the clip, an early sighting). A clip labelled otherwise —
   * plain "motion" by default — is still recorded and delivered, silently.
   */
  notify: notifySchema.default([...defaultNotifyLabels]),
  /** Record event clips; false: the camera is for live view only (no motion events, no clips). */
  record: z.boolean().default(true),
  /** No notifications in this window of the hub's local time (clips are still recorded). */
  quietHours: z
    .strictObject({
      from: z.string().regex(/^([01][0-9]|2[0-3]):[0-5][0-9]$/, "a time as HH:MM"),
      to: z.string().regex(/^([01][0-9]|2[0-3]):[0-5][0-9]$/, "a time as HH:MM"),
    })
    .optional(),
  /** No notifications before this time (ms since 1970), set by "snooze" on a phone. */
  snoozeUntil: z.number().int().nonnegative().optional(),
}
const evenSize = (max: number) =>
  z
    .number()
    .int()
    .min(64)
    .max(max)
    .refine((n) => n % 2 === 0, "must be even")

const cameraSchema = z.discriminatedUnion("kind", [
  z.strictObject({
    ...cameraCommon,
    notify: notifySchema.default([...syntheticNotifyLabels]),
    kind: z.literal("synthetic"),
    /** Seconds between two passes of the scripted moving object. */
    cycleSeconds: z.number().min(4).max(3600).default(30),
    /** Seconds the object is in view during each cycle. */
    motionSeconds: z.number().min(1).max(600).default(4),
    width: evenSize(3840).default(640),
    height: evenSize(2160).default(360),
    fps: z.number().int().min(1).max(60).default(15),
  }),
  z.strictObject({
    ...cameraCommon,
    kind: z.literal("rtsp"),
    /** `rtsp://user:password@host:554/path`; credentials never reach a log. */
    url: z.string().regex(/^rtsps?:\/\/\S+$/i, "must start with rtsp:// or rtsps://"),
    /**
     * A smaller stream of the same camera (an NVR's "substream"): motion and detection run on it while the
     * main stream is recorded and watched, which keeps the hub's CPU low.
     */
    substreamUrl: z
      .string()
      .regex(/^rtsps?:\/\/\S+$/i, "must start with rtsp:// or rtsps://")
      .optional(),
    /** The ONVIF device service this camera was added from (discovery). */
    onvif: z.strictObject({ xaddr: z.url({ protocol: /^https?$/ }) }).optional(),
    transport: z.enum(["tcp", "udp"]).default("tcp"),
    timeoutSeconds: z.number().min(1).max(120).default(10),
    /** The camera's frame rate; measured from the stream when absent. */
    fps: z.number().min(1).max(120).optional(),
  }),
  z.strictObject({
    ...cameraCommon,
    kind: z.literal("file"),
    /** A video file played in a loop as if it were a live camera. */
    path: z.string().min(1),
    /** Re-encode (default) so GOPs and profile are ours; false copies the file's H.264 as it is. */
    transcode: z.boolean().default(true),
    fps: z.number().int().min(1).max(60).default(15),
    width: evenSize(3840).optional(),
    height: evenSize(2160).optional(),
  }),
  z.strictObject({
    ...cameraCommon,
    kind: z.literal("v4l2"),
    /** A V4L2 capture device (USB webcam). */
    device: z
      .string()
      .regex(/^\/dev\/\S+$/, "must be a device path such as /dev/video0")
      .default("/dev/video0"),
    width: evenSize(3840).default(1280),
    height: evenSize(2160).default(720),
    fps: z.number().int().min(1).max(60).default(15),
    /** What to ask the webcam for; most deliver mjpeg at larger sizes. */
    inputFormat: z.enum(["mjpeg", "yuyv422"]).optional(),
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
        motion: motionDefaults,
        detectObjects: true,
        notify: [...syntheticNotifyLabels],
        record: true,
      },
    ]),
  recording: z
    .strictObject({
      preRollSeconds: z.number().min(0).max(30).default(5),
      postRollSeconds: z.number().min(0).max(60).default(2),
      maxClipSeconds: z.number().min(2).max(600).default(30),
    })
    .default({ preRollSeconds: 5, postRollSeconds: 2, maxClipSeconds: 30 }),
  /**
   * A camera that delivers no video for this many seconds is reported offline to every phone (a
   * notification, "Front door offline since 14:02"); when video returns, phones are told it is back.
   */
  offlineAlertSeconds: z.number().int().min(5).max(86_400).default(300),
  /** Object detection (person, pet, vehicle), run only when motion fires, on the motion region. */
  detection: z
    .strictObject({
      enabled: z.boolean().default(true),
      /** "centernet": MB3-CenterNet (COCO) from @vladmandic/human on tfjs WASM, in its own process. */
      backend: z.literal("centernet").default("centernet"),
      /** Folder with centernet.json/.bin; default: the installed @vladmandic/human's models. */
      modelDir: z.string().min(1).optional(),
      /** The model's own threshold; each label's `minScore` below then decides. */
      minScore: z.number().min(0.05).max(0.99).default(0.3),
      /** Seconds between two looks while motion goes on (a new object is looked at again at once). */
      intervalSeconds: z.number().min(0.2).max(60).default(1),
      /**
       * Accepted for configs written before issue 15 and ignored: detection now runs through the whole
       * event, bounded by `maxBusyFraction` instead of a count.
       */
      maxPerEvent: z.number().int().min(1).max(50).optional(),
      /** Share of the time a camera's detection may take on average (0.05–1): bounds CPU in endless motion. */
      maxBusyFraction: z.number().min(0.05).max(1).default(0.5),
      /** Look at the motion region (grown, square; finds smaller people) or the whole picture. */
      area: z.enum(["motion-region", "full-frame"]).default("motion-region"),
      /** Pictures an object must be found in before it is reported: one-picture ghosts never are. */
      minFrames: z.number().int().min(1).max(10).default(2),
      /** An object that stays put this long is stationary (a parked car) and labels no later event. */
      stationarySeconds: z.number().min(2).max(3600).default(20),
      /** Per label: minimum score, and box height as a fraction of the picture's (min, max). */
      labels: z
        .strictObject({
          person: labelFilterSchema(defaultDetectionFilters.person),
          pet: labelFilterSchema(defaultDetectionFilters.pet),
          vehicle: labelFilterSchema(defaultDetectionFilters.vehicle),
        })
        .default(defaultDetectionFilters),
    })
    .default({
      enabled: true,
      backend: "centernet",
      minScore: 0.3,
      intervalSeconds: 1,
      maxBusyFraction: 0.5,
      area: "motion-region",
      minFrames: 2,
      stationarySeconds: 20,
      labels: defaultDetectionFilters,
    }),
})

export type HubConfig = z.infer<typeof hubConfigSchema>
export type HubCameraConfig = HubConfig["cameras"][number]

export { ConfigError }

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
