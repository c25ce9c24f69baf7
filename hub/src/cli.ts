#!/usr/bin/env node
/**
 * The hub's command line. `hub start` runs the cameras and delivers encrypted clips; it prints a pairing
 * link for a phone while no phone is paired (or with --pair).
 */
import { createHash } from "node:crypto"
import { readFileSync } from "node:fs"
import { chmod, mkdir } from "node:fs/promises"
import type { DeviceId } from "@vigil/protocol"
import { parseArgs } from "node:util"
import { basename, resolve } from "node:path"
import { fileURLToPath } from "node:url"
import pkg from "../package.json" with { type: "json" }
import { ConfigError, loadHubConfig, type HubConfig } from "./config.ts"
import { resolveFfmpeg, resolveFfprobe } from "./ffmpeg.ts"
import { createLogger } from "./log.ts"
import { startCameraPipeline, type CameraPipeline } from "./camera/cameraPipeline.ts"
import { CameraWatch } from "./camera/cameraWatch.ts"
import { runCamerasCommand, type CommandResult } from "./commands/cameras.ts"
import { startControlServer } from "./commands/controlSocket.ts"
import { runPairCommand } from "./commands/pair.ts"
import { ConsolePrompt, hasConsoleInput } from "./commands/consolePrompt.ts"
import { startPairingConsole } from "./commands/pairingConsole.ts"
import { runPhonesCommand } from "./commands/phones.ts"
import { probeRtspWith, runSetup } from "./commands/setup.ts"
import { runStatusCommand } from "./commands/status.ts"
import { startChildProcessDetector } from "./detect/childProcessDetector.ts"
import type { ObjectDetector } from "./detect/objectDetector.ts"
import { LiveService } from "./live/liveService.ts"
import { HubSpace } from "./space/hubSpace.ts"

const usage = `Usage: hub [start] [options]       run the cameras and deliver encrypted clips
       hub pair [options] [--no-wait]  show a one-time pairing code (QR) for a phone
       hub status [options]            what the running hub is doing
       hub phones list|remove ID       the paired phones; remove one (ID: its id or a unique prefix)
       hub phones role ID owner|member owners add and remove phones and cameras; members only view
       hub cameras list|add|remove     edit the cameras in the config file (hub cameras --help)
       hub setup --config FILE         ask for the relay, the home's name and the first camera; save them

Options:
  --config FILE          JSON config file (optional; every setting has a default)
  --signal URL           signal server (default http://127.0.0.1:8080)
  --web-url URL          where phones open the app (default: the signal URL)
  --data-dir DIR         where the hub keeps its keys and queue (default ./.vigil-data/hub)
  --name NAME            name phones show for this hub (default "My home")
  --synthetic-cycle S    seconds between passes of the synthetic camera's moving object
  --pair                 offer pairing (discovery and link) even if a phone is already paired; the link
                         (a one-time secret) is printed only on a terminal, with --pair, or with
                         VIGIL_PAIRING_LINK_ON_STDOUT=1 — never into a service's log by default

Pairing by discovery needs a terminal (or a pipe) on stdin: the hub asks there whether the code the phone
shows is the same ("y" to accept); type "pair" to let another phone join.
  --version              print the version and the SHA-256 of this build
  -h, --help             show this help`

/**
 * `--version`: run from the release bundle, its SHA-256, to compare with the published release
 * (docs/06-reproducible-builds.md).
 */
function versionText(): string {
  const self = fileURLToPath(import.meta.url)
  if (self.endsWith(".ts")) return `${pkg.name} ${pkg.version}\ndevelopment build (tsx)`
  const digest = createHash("sha256").update(readFileSync(self)).digest("hex")
  return `${pkg.name} ${pkg.version}\n${basename(self)} sha256 ${digest}`
}

function printResult(result: CommandResult): number {
  for (const line of result.out) console.log(line)
  for (const line of result.err) console.error(line)
  return result.code
}

/** The options every command that reads the hub's configuration accepts. */
const configOptions = {
  config: { type: "string" },
  signal: { type: "string" },
  "web-url": { type: "string" },
  "data-dir": { type: "string" },
  name: { type: "string" },
} as const

/** The config file with the command line's overrides (the options every command shares). */
function configFromOptions(values: {
  config?: string
  signal?: string
  "web-url"?: string
  "data-dir"?: string
  name?: string
}): Promise<HubConfig> {
  return loadHubConfig(values.config, {
    signalUrl: values.signal,
    webUrl: values["web-url"],
    dataDir: values["data-dir"],
    name: values.name,
  })
}

/** The hub's space as its config describes it (a new one is founded on the configured ciphersuite). */
function openHubSpace(config: HubConfig, logger: ReturnType<typeof createLogger>): Promise<HubSpace> {
  return HubSpace.open({
    dataDir: resolve(config.dataDir),
    signalUrl: config.signalUrl,
    webUrl: config.webUrl,
    hubName: config.name,
    logger,
    cameras: config.cameras,
    suite:
      config.ciphersuite === "xwing"
        ? "MLS_256_XWING_AES256GCM_SHA512_Ed25519"
        : "MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519",
  })
}

/** `hub pair` and `hub status`: the options they share with `hub start`. */
async function runSpaceCommand(command: "pair" | "status", argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      ...configOptions,
      "no-wait": { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  })
  if (values.help) {
    console.log(usage)
    return 0
  }
  const config = await configFromOptions(values)
  const dataDir = resolve(config.dataDir)
  if (command === "status") return printResult(await runStatusCommand(dataDir))
  const prompt = hasConsoleInput() ? new ConsolePrompt(process.stdin) : undefined
  return runPairCommand({
    dataDir,
    wait: !values["no-wait"],
    print: (line) => console.log(line),
    ask: prompt
      ? async (question) => {
          console.log(question)
          const line = await prompt.nextLine(new AbortController().signal)
          return line === undefined ? undefined : /^y(es)?$/i.test(line)
        }
      : undefined,
    openSpace: () => openHubSpace(config, createLogger("hub")),
  })
}

/** `hub setup --config FILE`: asks at this terminal, checks each answer, saves the config. */
async function runSetupCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { config: { type: "string" } } })
  if (!values.config) {
    console.error("hub setup: --config FILE is required (the hub service reads /etc/vigil-hub/hub.json)")
    return 2
  }
  const prompt = new ConsolePrompt(process.stdin)
  const never = new AbortController().signal
  return runSetup({
    configPath: resolve(values.config),
    print: (line) => console.log(line),
    ask: async (question) => {
      console.log(question)
      return (await prompt.nextLine(never))?.trim()
    },
    probeCamera: probeRtspWith(resolveFfprobe().path),
  })
}

/** `hub phones list|remove ID|role ID owner|member`: through the running hub, or by opening the space when none runs. */
async function runPhones(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { ...configOptions, help: { type: "boolean", short: "h" } },
  })
  if (values.help) {
    console.log(usage)
    return 0
  }
  const config = await configFromOptions(values)
  const dataDir = resolve(config.dataDir)
  return printResult(
    await runPhonesCommand(positionals, {
      dataDir,
      openSpace: () => openHubSpace(config, createLogger("hub")),
    }),
  )
}

async function main(argv: string[]): Promise<number> {
  // Everything the hub writes — its keys and queue, clips before encryption in work/, the control socket —
  // is its user's alone (issue 14 finding 16).
  process.umask(0o077)
  const [subcommand, ...rest] = argv
  try {
    if (subcommand === "cameras") return printResult(await runCamerasCommand(rest))
    if (subcommand === "setup") return await runSetupCommand(rest)
    if (subcommand === "phones") return await runPhones(rest)
    if (subcommand === "pair" || subcommand === "status") return await runSpaceCommand(subcommand, rest)
  } catch (err) {
    if (
      err instanceof ConfigError ||
      (err as NodeJS.ErrnoException).code === "ERR_PARSE_ARGS_UNKNOWN_OPTION"
    ) {
      console.error(`hub ${subcommand}: ${(err as Error).message}`)
      return 2
    }
    throw err
  }
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      ...configOptions,
      "synthetic-cycle": { type: "string" },
      pair: { type: "boolean" },
      help: { type: "boolean", short: "h" },
      version: { type: "boolean" },
    },
  })
  if (values.version) {
    console.log(versionText())
    return 0
  }
  const command = positionals[0] ?? "start"
  if (values.help || command !== "start") {
    console.log(usage)
    return values.help ? 0 : 2
  }

  let config: HubConfig
  try {
    config = await configFromOptions(values)
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`hub: ${err.message}`)
      return 2
    }
    throw err
  }
  if (values["synthetic-cycle"]) {
    const cycle = Number(values["synthetic-cycle"])
    if (!Number.isFinite(cycle) || cycle < 4) {
      console.error("hub: --synthetic-cycle must be a number of seconds ≥ 4")
      return 2
    }
    config.cameras = config.cameras.map((c) => (c.kind === "synthetic" ? { ...c, cycleSeconds: cycle } : c))
  }

  const log = createLogger("hub")
  const ffmpeg = resolveFfmpeg()
  const ffprobe = resolveFfprobe()
  log.info({ ffmpeg: ffmpeg.path, source: ffmpeg.source, ffprobe: ffprobe.path }, "using ffmpeg")

  const dataDir = resolve(config.dataDir)
  // Directories made by an earlier version (or by hand) may be world-readable: plaintext clips pass
  // through work/ before they are encrypted.
  const workDir = resolve(dataDir, "work")
  await mkdir(workDir, { recursive: true, mode: 0o700 })
  await Promise.all([chmod(dataDir, 0o700), chmod(workDir, 0o700)])
  let space: HubSpace
  try {
    space = await openHubSpace(config, log)
  } catch (err) {
    console.error(`hub: cannot reach signal at ${config.signalUrl}: ${(err as Error).message}`)
    return 1
  }

  // One detector for all cameras, in its own process; without it events are labelled "motion".
  let detector: ObjectDetector | undefined
  if (config.detection.enabled && config.cameras.some((c) => c.detectObjects)) {
    try {
      detector = await startChildProcessDetector({
        modelDir: config.detection.modelDir,
        minScore: config.detection.minScore,
      })
      log.info({ detector: detector.name }, "object detection ready")
    } catch (err) {
      log.error({ err }, "object detection unavailable; events will be labelled motion")
      console.error(
        `hub: object detection unavailable (${(err as Error).message}); events will be labelled motion`,
      )
    }
  }

  // Live view (docs/05-livestream.md): answers phones' MLS-signalled offers over werift data channels.
  const live = new LiveService({
    space,
    // Read at each answer, so a camera renamed from a phone is announced under its new name.
    cameras: config.cameras.map((c) => ({
      id: c.id,
      get name() {
        return space.cameraName(c.id, c.name)
      },
    })),
    logger: log.child({ component: "live" }),
    iceServers: () => space.getIceServers(),
  })
  space.onLiveRequest((request, from) => live.handleRequest(request, from))
  space.onPhoneRemoved((deviceId) => {
    const ended = live.closeDevice(deviceId)
    if (ended > 0) log.info({ deviceId, ended }, "ended the live view of a removed phone")
  })
  void live.start()

  const pipelines: CameraPipeline[] = config.cameras.map((camera) =>
    startCameraPipeline(camera, {
      ffmpegPath: ffmpeg.path,
      workDir,
      recording: config.recording,
      logger: log.child({ camera: camera.id }),
      detector,
      detection: config.detection,
      onAccessUnit: (unit) => live.pushAccessUnit(camera.id, unit),
      // The early notification: label, camera, time and picture go out before the clip is finished.
      onSighting: (sighting) => {
        void space
          .deliverSighting(sighting)
          .catch((err: unknown) => log.warn({ err: (err as Error).message }, "sighting not delivered"))
      },
      onClip: async (clip) => {
        const delivered = await space.deliverClip(clip)
        if (delivered) {
          const seconds = Math.round((clip.endedAt - clip.startedAt) / 1000)
          console.log(
            `Clip: ${clip.label} at ${space.cameraName(clip.cameraId, clip.cameraName)}, ${seconds} s — encrypted for ${space.phones.length} phone(s)`,
          )
        }
      },
    }),
  )

  // Offline alerts: a camera silent for offlineAlertSeconds is reported to every phone, and its return.
  const watch = new CameraWatch({
    offlineAfterMs: config.offlineAlertSeconds * 1000,
    startedAt: Date.now(),
    offline: space.offlineCameras,
    deliver: (status) => space.deliverCameraStatus(status),
    logger: log.child({ part: "camera-watch" }),
  })
  watch.start(() => pipelines.map((p) => p.status))

  console.log(
    `Vigil hub "${config.name}" running with ${config.cameras.length} camera(s): ${config.cameras.map((c) => c.name).join(", ")}`,
  )
  console.log(`Signal: ${config.signalUrl}`)

  const pairing = startPairingConsole({
    space,
    log,
    say: (line) => console.log(line),
    hubName: config.name,
    webUrl: config.webUrl ?? config.signalUrl,
    keepPairing: values.pair === true,
    // The link holds a one-time secret: not for a service's journal unless asked for.
    linkOnStdout:
      process.stdout.isTTY === true ||
      values.pair === true ||
      process.env.VIGIL_PAIRING_LINK_ON_STDOUT === "1",
  })
  const startedAt = Date.now()
  const control = await startControlServer(dataDir, {
    status: () => ({
      name: config.name,
      startedAt,
      signalUrl: config.signalUrl,
      phones: space.phones.length,
      pendingOutbox: space.pendingOutbox,
      detector: detector?.name,
      cameras: pipelines.map((p) => p.status),
    }),
    invite: async () => {
      const { url, invite } = await space.createInvite((phone) =>
        console.log(`Phone paired (${phone.deviceId.slice(0, 8)}…). New clips are encrypted for it.`),
      )
      return { url, expiresAt: invite.expiresAt }
    },
    openDiscovery: pairing.startDiscovery,
    nextDiscoveryEvents: (cursor, waitMs) => pairing.desk.next(cursor, waitMs),
    answerDiscovery: (id, accept) => pairing.desk.answer(id, accept),
    phones: () => space.phones,
    removePhone: async (deviceId) => {
      await space.removePhone(deviceId as DeviceId)
      console.log(`Phone removed (${deviceId.slice(0, 8)}…): it can decrypt nothing new.`)
    },
    setRole: async (deviceId, role) => {
      await space.setRole(deviceId as DeviceId, role)
      console.log(`Phone ${deviceId.slice(0, 8)}… is now ${role === "owner" ? "an owner" : "a member"}.`)
    },
  })

  await pairing.begin()

  await new Promise<void>((resolveStop) => {
    const stop = (signal: string) => {
      log.info({ signal }, "stopping")
      resolveStop()
    }
    process.once("SIGINT", () => stop("SIGINT"))
    process.once("SIGTERM", () => stop("SIGTERM"))
  })
  pairing.stop()
  watch.stop()
  control.close()
  live.close()
  await Promise.all(pipelines.map((p) => p.stop()))
  await detector?.close()
  await space.close()
  return 0
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`hub: ${(err as Error).message}`)
    process.exit(1)
  },
)
