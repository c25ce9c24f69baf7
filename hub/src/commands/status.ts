import type { CameraStatus } from "../camera/cameraPipeline.ts"
import { askRunningHub, controlSocketPath, type HubStatus } from "./controlSocket.ts"
import type { CommandResult } from "./cameras.ts"

function ago(ms: number | undefined, now: number): string {
  if (ms === undefined) return "never"
  const s = Math.max(0, Math.round((now - ms) / 1000))
  return s < 120 ? `${s} s ago` : s < 7200 ? `${Math.round(s / 60)} min ago` : `${Math.round(s / 3600)} h ago`
}

function cameraLine(c: CameraStatus, now: number): string {
  const state = c.state === "reconnecting" ? `reconnecting (${c.lastError ?? "camera dropped"})` : c.state
  const motion = c.motionActive ? ", motion now" : ""
  return `  ${c.cameraId.padEnd(16)} ${state}${motion}; video ${ago(c.lastVideoAt, now)}; ${c.clips} clip(s), last ${ago(c.lastClipAt, now)}; ${c.restarts} restart(s)`
}

/** The running hub's state as text. */
export function formatStatus(status: HubStatus, now = Date.now()): string[] {
  return [
    `Hub "${status.name}": running since ${new Date(status.startedAt).toISOString()}`,
    `Signal: ${status.signalUrl}; ${status.phones} phone(s) paired; ${status.pendingOutbox} message(s) waiting to be delivered`,
    `Object detection: ${status.detector ?? "off (events are labelled motion)"}`,
    `Cameras:`,
    ...status.cameras.map((c) => cameraLine(c, now)),
  ]
}

/** `hub status`: asks the running hub over its control socket. */
export async function runStatusCommand(dataDir: string): Promise<CommandResult> {
  const answer = await askRunningHub(dataDir, { kind: "status" })
  if (!answer)
    return {
      code: 1,
      out: [],
      err: [
        `hub status: no hub is running with data directory ${dataDir} (no answer on ${controlSocketPath(dataDir)})`,
      ],
    }
  if (!answer.ok || !answer.status)
    return { code: 1, out: [], err: [`hub status: ${answer.ok ? "empty answer" : answer.error}`] }
  return { code: 0, out: formatStatus(answer.status), err: [] }
}
