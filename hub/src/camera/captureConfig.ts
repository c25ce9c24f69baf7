import type { CameraConfig } from "../capture/cameraArgs.ts"
import type { HubCameraConfig, ZoneConfig } from "../config.ts"
import type { MotionDetectorOptions } from "../detect/motionDetector.ts"

/** What the capture layer (ffmpeg arguments) needs from a configured camera. */
export function captureConfigOf(camera: HubCameraConfig): CameraConfig {
  const motion = { fps: camera.motion.fps }
  switch (camera.kind) {
    case "synthetic":
      return {
        kind: "synthetic",
        cycleSeconds: camera.cycleSeconds,
        motionSeconds: camera.motionSeconds,
        width: camera.width,
        height: camera.height,
        fps: camera.fps,
        motion,
      }
    case "rtsp":
      return {
        kind: "rtsp",
        url: camera.url,
        transport: camera.transport,
        timeoutSeconds: camera.timeoutSeconds,
        motion,
      }
    case "file":
      return {
        kind: "file",
        path: camera.path,
        transcode: camera.transcode,
        fps: camera.fps,
        width: camera.width,
        height: camera.height,
        motion,
      }
    case "v4l2":
      return {
        kind: "v4l2",
        device: camera.device,
        width: camera.width,
        height: camera.height,
        fps: camera.fps,
        inputFormat: camera.inputFormat,
        motion,
      }
  }
}

/** The camera's frame rate when we know it (we encode it, or it is configured); undefined: measure it. */
export function knownFrameRate(camera: HubCameraConfig): number | undefined {
  return camera.fps
}

/**
 * Whether an event with this label notifies the phones (a sighting while it records, a push for its clip):
 * the camera's `notify` list, by default person, pet and vehicle; plain "motion" is silent unless listed.
 */
export function notifiesFor(camera: Pick<HubCameraConfig, "notify">): (label: string) => boolean {
  const labels = new Set<string>(camera.notify)
  return (label) => labels.has(label)
}

/**
 * Motion detector settings from the camera's motion config. Sensitivity 0–1 maps linearly onto the
 * per-pixel difference threshold 45–5 (0.5 → 25, the detector's default).
 */
export function motionOptionsOf(camera: HubCameraConfig): MotionDetectorOptions {
  const m = camera.motion
  return {
    threshold: Math.round(5 + (1 - m.sensitivity) * 40),
    minAreaFraction: m.minArea,
    cooldownMs: m.cooldownSeconds * 1000,
    zones: m.zones.map(zonePoints),
    masks: m.masks,
  }
}

/** A zone's outline, whichever way the config wrote it (a bare polygon, or `{ points, labels }`). */
export const zonePoints = (zone: ZoneConfig | ZoneConfig["points"]) =>
  Array.isArray(zone) ? zone : zone.points
