/**
 * Offline alerts (issue 16): watches each camera's last video and tells the phones, through the space, when
 * a camera has delivered nothing for `offlineAfterMs` ("Front door offline since 14:02"), and again when its
 * video is back. What the phones were told is kept in the hub's state (`offlineCameras`), so a restart
 * neither repeats an alert nor forgets to say the camera is back. The relay sees only sealed messages.
 */
import type { CameraId } from "@vigil/protocol"
import type { Logger } from "../log.ts"
import type { CameraStatusToDeliver } from "../space/clipDelivery.ts"

export interface WatchedCamera {
  cameraId: string
  name: string
  /** Last video from the camera (ms); undefined while none came since the hub started. */
  lastVideoAt?: number
}

export interface CameraWatchOptions {
  offlineAfterMs: number
  /** When the hub started: a camera that never delivered counts from then. */
  startedAt: number
  /** Cameras the phones were last told are offline (camera id → since), from the hub's state. */
  offline: Readonly<Record<string, number>>
  /** Tells the phones; false when they knew already. */
  deliver: (status: CameraStatusToDeliver) => Promise<boolean>
  logger: Logger
}

export class CameraWatch {
  private readonly offline: Map<string, number>
  private readonly busy = new Set<string>()
  private timer: NodeJS.Timeout | undefined

  constructor(private readonly opts: CameraWatchOptions) {
    this.offline = new Map(Object.entries(opts.offline))
  }

  /** Checks every `everyMs` until `stop`. */
  start(cameras: () => readonly WatchedCamera[], everyMs = 5000) {
    this.timer = setInterval(() => this.check(cameras(), Date.now()), everyMs)
    this.timer.unref()
  }

  stop() {
    clearInterval(this.timer)
  }

  /** One look at every camera; a change is delivered in the background (one at a time per camera). */
  check(cameras: readonly WatchedCamera[], now: number): void {
    for (const camera of cameras) {
      if (this.busy.has(camera.cameraId)) continue
      const offlineSince = this.offline.get(camera.cameraId)
      const lastVideo = camera.lastVideoAt ?? this.opts.startedAt
      if (offlineSince === undefined && now - lastVideo >= this.opts.offlineAfterMs) {
        this.report(camera, "offline", lastVideo)
      } else if (
        offlineSince !== undefined &&
        camera.lastVideoAt !== undefined &&
        camera.lastVideoAt > offlineSince &&
        now - camera.lastVideoAt < this.opts.offlineAfterMs
      ) {
        this.report(camera, "online", camera.lastVideoAt)
      }
    }
  }

  private report(camera: WatchedCamera, state: "offline" | "online", since: number) {
    const id = camera.cameraId
    this.busy.add(id)
    if (state === "offline") this.opts.logger.warn({ cameraId: id, since }, "camera offline: no video")
    else this.opts.logger.info({ cameraId: id, since }, "camera back online")
    void this.opts
      .deliver({ cameraId: id as CameraId, cameraName: camera.name, state, since })
      .then(
        () => {
          if (state === "offline") this.offline.set(id, since)
          else this.offline.delete(id)
        },
        (err: unknown) =>
          this.opts.logger.warn({ err: (err as Error).message, cameraId: id }, "camera status not delivered"),
      )
      .finally(() => this.busy.delete(id))
  }
}
