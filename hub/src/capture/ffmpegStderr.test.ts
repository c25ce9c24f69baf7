import { describe, expect, it } from "vitest"
import {
  classifyFfmpegFailure,
  describeFfmpegFailure,
  redactCredentials,
  rtspProgressOf,
} from "./ffmpegStderr.ts"

describe("describeFfmpegFailure", () => {
  it.each([
    [
      "[rtsp @ 0x55] method DESCRIBE failed: 401 Unauthorized",
      "rtsp://***@10.0.0.5/cam: Server returned 401 Unauthorized (authorization failed)",
      "camera refused credentials",
    ],
    [
      "[tcp @ 0x55] Connection to tcp://10.0.0.5:554?timeout=0 failed: Connection refused",
      "",
      "no route to camera",
    ],
    ["rtsp://10.0.0.9/cam: No route to host", "", "no route to camera"],
    ["[rtsp @ 0x55] method DESCRIBE failed: 404 Not Found", "", "camera has no stream at that path"],
    ["/videos/x.mp4: No such file or directory", "", "input file not found"],
    ["Unknown encoder 'libx264'", "", "this ffmpeg lacks a needed encoder (libx264)"],
  ])("explains %s", (first, second, reason) => {
    expect(describeFfmpegFailure([first, second])).toBe(reason)
  })

  it("returns undefined for lines it does not know", () => {
    expect(describeFfmpegFailure(["something odd happened"])).toBeUndefined()
    expect(describeFfmpegFailure([])).toBeUndefined()
  })
})

describe("classifyFfmpegFailure", () => {
  it.each([
    ["rtsp://***@10.0.0.5/cam: Server returned 401 Unauthorized (authorization failed)", "auth"],
    [
      "[tcp @ 0x55] Connection to tcp://10.0.0.5:554?timeout=5000000 failed: Connection refused",
      "unreachable",
    ],
    ["[tcp @ 0x55] Connection to tcp://10.0.0.5:554?timeout=5000000 failed: Connection timed out", "timeout"],
    ["rtsp://cam.invalid/x: Name or service not known", "no-host"],
    ["[rtsp @ 0x55] method DESCRIBE failed: 404 Not Found", "not-found"],
  ] as const)("reads %s as %s", (line, kind) => {
    expect(classifyFfmpegFailure([line])).toBe(kind)
  })

  it("does not take the timeout= of a connection line for a timeout", () => {
    expect(
      classifyFfmpegFailure([
        "[tcp @ 0x55] Connection to tcp://10.0.0.5:554?timeout=5000000 failed: Connection reset by peer",
      ]),
    ).toBeUndefined()
  })
})

describe("rtspProgressOf", () => {
  it("sees the TCP connection and the camera's SDP in verbose stderr", () => {
    expect(rtspProgressOf("[tcp @ 0x5627cc48d140] Successfully connected to 127.0.0.1 port 554")).toBe(
      "connected",
    )
    expect(rtspProgressOf("[rtsp @ 0x557bc91af240] SDP:")).toBe("described")
    expect(rtspProgressOf("[tcp @ 0x55] Starting connection attempt to 127.0.0.1 port 554")).toBeUndefined()
  })
})

describe("redactCredentials", () => {
  it("hides the user and password of any URL", () => {
    expect(redactCredentials("open rtsp://admin:hunter2@10.0.0.5:554/live failed")).toBe(
      "open rtsp://***@10.0.0.5:554/live failed",
    )
    expect(redactCredentials("rtsp://10.0.0.5/live")).toBe("rtsp://10.0.0.5/live")
  })

  it("hides a password typed with a bare @ whole", () => {
    expect(redactCredentials("rtsp://admin:p@ss@10.0.0.5/live")).toBe("rtsp://***@10.0.0.5/live")
  })
})
