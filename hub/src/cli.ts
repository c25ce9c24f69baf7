#!/usr/bin/env node
/**
 * The hub's command line. `hub start` runs the cameras and delivers encrypted clips; it prints a pairing
 * link for a phone while no phone is paired (or with --pair).
 */
import { createHash } from "node:crypto"
import { readFileSync } from "node:fs"
import { parseArgs } from "node:util"
import { basename, resolve } from "node:path"
import { fileURLToPath } from "node:url"
import pkg from "../package.json" with { type: "json" }
import { ConfigError, loadHubConfig, type HubConfig } from "./config.ts"
import { resolveFfmpeg, resolveFfprobe } from "./ffmpeg.ts"
import { createLogger } from "./log.ts"
import { startCameraPipeline, type CameraPipeline } from "./camera/cameraPipeline.ts"
import { HubSpace } from "./space/hubSpace.ts"

const usage = `Usage: hub start [options]

Options:
  --config FILE          JSON config file (optional; every setting has a default)
  --signal URL           signal server (default http://127.0.0.1:8080)
  --web-url URL          where phones open the app (default: the signal URL)
  --data-dir DIR         where the hub keeps its keys and queue (default ./.vigil-data/hub)
  --name NAME            name phones show for this hub (default "My home")
  --synthetic-cycle S    seconds between passes of the synthetic camera's moving object
  --pair                 print a pairing link even if a phone is already paired
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

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      config: { type: "string" },
      signal: { type: "string" },
      "web-url": { type: "string" },
      "data-dir": { type: "string" },
      name: { type: "string" },
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
    config = await loadHubConfig(values.config, {
      signalUrl: values.signal,
      webUrl: values["web-url"],
      dataDir: values["data-dir"],
      name: values.name,
    })
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
  let space: HubSpace
  try {
    space = await HubSpace.open({
      dataDir,
      signalUrl: config.signalUrl,
      webUrl: config.webUrl,
      hubName: config.name,
      logger: log,
      suite:
        config.ciphersuite === "xwing"
          ? "MLS_256_XWING_AES256GCM_SHA512_Ed25519"
          : "MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519",
    })
  } catch (err) {
    console.error(`hub: cannot reach signal at ${config.signalUrl}: ${(err as Error).message}`)
    return 1
  }

  const pipelines: CameraPipeline[] = config.cameras.map((camera) =>
    startCameraPipeline(camera, {
      ffmpegPath: ffmpeg.path,
      workDir: resolve(dataDir, "work"),
      recording: config.recording,
      logger: log.child({ camera: camera.id }),
      onClip: async (clip) => {
        const delivered = await space.deliverClip(clip)
        if (delivered) {
          const seconds = Math.round((clip.endedAt - clip.startedAt) / 1000)
          console.log(
            `Clip: ${clip.label} at ${clip.cameraName}, ${seconds} s — encrypted for ${space.phones.length} phone(s)`,
          )
        }
      },
    }),
  )

  console.log(
    `Vigil hub "${config.name}" running with ${config.cameras.length} camera(s): ${config.cameras.map((c) => c.name).join(", ")}`,
  )
  console.log(`Signal: ${config.signalUrl}`)

  const offerPairing = async () => {
    const { url } = await space.createInvite((phone) => {
      console.log(`Phone paired (${phone.deviceId.slice(0, 8)}…). New clips are encrypted for it.`)
      void offerPairing()
    })
    console.log(`To pair a phone, open this link on it within 15 minutes (it works once):`)
    console.log(`  Pairing link: ${url}`)
  }
  if (space.phones.length === 0 || values.pair) await offerPairing()
  else console.log(`${space.phones.length} phone(s) paired. Run with --pair to add another.`)

  await new Promise<void>((resolveStop) => {
    const stop = (signal: string) => {
      log.info({ signal }, "stopping")
      resolveStop()
    }
    process.once("SIGINT", () => stop("SIGINT"))
    process.once("SIGTERM", () => stop("SIGTERM"))
  })
  await Promise.all(pipelines.map((p) => p.stop()))
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
