import { describe, expect, it } from "vitest"
import { captureConfigOf, motionOptionsOf } from "./camera/captureConfig.ts"
import { ConfigError, parseHubConfig } from "./config.ts"

describe("hub config", () => {
  it("has a default for everything: one synthetic camera, detection on", () => {
    const config = parseHubConfig({})
    expect(config.cameras).toHaveLength(1)
    expect(config.cameras[0]).toMatchObject({
      kind: "synthetic",
      detectObjects: true,
      motion: { sensitivity: 0.5 },
    })
    expect(config.detection).toMatchObject({ enabled: true, backend: "centernet", minScore: 0.3 })
  })

  it("accepts each kind of camera", () => {
    const config = parseHubConfig({
      cameras: [
        { id: "gate", name: "Gate", kind: "rtsp", url: "rtsp://u:p@10.0.0.5/stream1", transport: "udp" },
        { id: "loop", name: "Loop", kind: "file", path: "/tmp/x.mp4" },
        { id: "desk", name: "Desk", kind: "v4l2" },
        {
          id: "yard",
          name: "Yard",
          kind: "synthetic",
          motion: {
            zones: [
              [
                [0, 0],
                [1, 0],
                [1, 0.5],
              ],
            ],
            masks: [
              [
                [0, 0],
                [0.1, 0],
                [0.1, 0.1],
              ],
            ],
          },
        },
      ],
    })
    expect(config.cameras.map((c) => c.kind)).toEqual(["rtsp", "file", "v4l2", "synthetic"])
    expect(captureConfigOf(config.cameras[0]!)).toMatchObject({
      kind: "rtsp",
      transport: "udp",
      motion: { fps: 5 },
    })
    expect(captureConfigOf(config.cameras[2]!)).toMatchObject({ kind: "v4l2", device: "/dev/video0" })
    expect(motionOptionsOf(config.cameras[3]!)).toMatchObject({ threshold: 25, cooldownMs: 2000 })
    expect(motionOptionsOf(config.cameras[3]!).zones).toHaveLength(1)
  })

  it("names the bad field in its errors", () => {
    const bad = (input: unknown) => {
      try {
        parseHubConfig(input, "hub.json")
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigError)
        return (error as Error).message
      }
      throw new Error("accepted")
    }
    expect(bad({ cameras: [{ id: "x", name: "X", kind: "rtsp", url: "http://x" }] })).toMatch(
      /hub\.json: field "cameras\.0\.url"/,
    )
    expect(
      bad({
        cameras: [
          {
            id: "x",
            name: "X",
            kind: "synthetic",
            motion: {
              zones: [
                [
                  [0, 0],
                  [2, 0],
                  [1, 1],
                ],
              ],
            },
          },
        ],
      }),
    ).toMatch(/field "cameras\.0\.motion\.zones\.0\.1\.0"/)
    expect(
      bad({
        cameras: [
          {
            id: "x",
            name: "X",
            kind: "synthetic",
            motion: {
              zones: [
                [
                  [0, 0],
                  [1, 1],
                ],
              ],
            },
          },
        ],
      }),
    ).toMatch(/at least 3 points/)
    expect(bad({ detection: { minScore: 2 } })).toMatch(/field "detection\.minScore"/)
    expect(bad({ cameras: [{ id: "x", name: "X", kind: "ipcam" }] })).toMatch(/field "cameras\.0\.kind"/)
  })
})
