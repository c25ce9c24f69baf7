import { describe, expect, it } from "vitest"
import type { CameraId, ClipId } from "@vigil/protocol"
import { pushClipNotice, type PushContext } from "./pushNotifier.ts"

describe("pushClipNotice", () => {
  it("sends nothing for a clip its camera does not notify for (notify: false)", async () => {
    const used: string[] = []
    const touch = (what: string) =>
      new Proxy(
        {},
        { get: (_t, key) => (used.push(`${what}.${String(key)}`), () => Promise.reject(new Error("used"))) },
      )
    const ctx = {
      session: touch("session"),
      client: touch("client"),
      spaceId: "00".repeat(32),
      log: { debug: () => {}, info: () => {}, warn: (o: unknown) => used.push(`warn ${JSON.stringify(o)}`) },
      drained: async () => used.push("drained"),
    } as unknown as PushContext
    const clip = {
      clipId: "11".repeat(16) as ClipId,
      cameraId: "door" as CameraId,
      cameraName: "Door",
      label: "motion" as const,
      startedAt: 1,
    }
    await pushClipNotice(ctx, { ...clip, notify: false })
    expect(used).toEqual([])
    // The same clip with notify left out goes on to seal a payload (here: fails on the fake session).
    await pushClipNotice(ctx, clip)
    expect(used.length).toBeGreaterThan(0)
  })
})
