import type { DeviceId } from "../ids.ts"
import type { ServerFrame } from "./frames.ts"

/** One authenticated WebSocket, as the rest of the app sees it. */
export interface LiveConnection {
  readonly deviceId: DeviceId
  /** Queues a frame; false when the connection is closing or was dropped for being too slow. */
  send(frame: ServerFrame): boolean
  close(code: number, reason: string): void
}

/** The authenticated WebSocket connections of this process, by device. */
export class LiveDevices {
  readonly #byDevice = new Map<DeviceId, Set<LiveConnection>>()
  #size = 0

  add(connection: LiveConnection): void {
    let set = this.#byDevice.get(connection.deviceId)
    if (set === undefined) {
      set = new Set()
      this.#byDevice.set(connection.deviceId, set)
    }
    if (!set.has(connection)) {
      set.add(connection)
      this.#size++
    }
  }

  remove(connection: LiveConnection): void {
    const set = this.#byDevice.get(connection.deviceId)
    if (set === undefined || !set.delete(connection)) return
    this.#size--
    if (set.size === 0) this.#byDevice.delete(connection.deviceId)
  }

  /** Connections the device holds. */
  count(deviceId: DeviceId): number {
    return this.#byDevice.get(deviceId)?.size ?? 0
  }

  /** Sends to every connection of the device; returns how many took it. */
  deliver(deviceId: DeviceId, frame: ServerFrame): number {
    let delivered = 0
    for (const connection of this.#byDevice.get(deviceId) ?? []) if (connection.send(frame)) delivered++
    return delivered
  }

  closeAll(code: number, reason: string): void {
    for (const set of [...this.#byDevice.values()])
      for (const connection of [...set]) connection.close(code, reason)
  }

  /** Authenticated connections in total. */
  get size(): number {
    return this.#size
  }
}
