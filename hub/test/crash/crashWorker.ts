/**
 * Child process for the crash test: opens the hub space in DATA_DIR and delivers fake clips forever,
 * printing `accepted <clipId> <sha256 of the clip>` once each is durable (deliverClip resolved). With
 * `drain` it only delivers what is queued and exits. The test kills it with SIGKILL at random moments.
 */
import { createHash, randomBytes } from "node:crypto"
import { pino } from "pino"
import type { CameraId } from "@vigil/protocol"
import { HubSpace } from "../../src/space/hubSpace.ts"

const [signalUrl, dataDir, mode] = process.argv.slice(2)
if (!signalUrl || !dataDir) throw new Error("usage: crashWorker.ts SIGNAL_URL DATA_DIR [drain]")

const hub = await HubSpace.open({ dataDir, signalUrl, hubName: "Crash", logger: pino({ level: "silent" }) })
if (mode === "drain") {
  await hub.drained()
  process.stdout.write("drained\n")
  process.exit(0)
}
process.stdout.write("ready\n")
for (;;) {
  const mp4 = randomBytes(50_000 + Math.floor(Math.random() * 150_000))
  const now = Date.now()
  const delivered = await hub.deliverClip({
    mp4,
    cameraId: "crash" as CameraId,
    cameraName: "Crash cam",
    label: "motion",
    startedAt: now - 1000,
    endedAt: now,
  })
  if (!delivered) throw new Error("no phone paired")
  process.stdout.write(`accepted ${delivered.clipId} ${createHash("sha256").update(mp4).digest("hex")}\n`)
}
