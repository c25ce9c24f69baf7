import { describe, expect, it } from "vitest"
import { describeFfmpegFailure, redactCredentials } from "./ffmpegStderr.ts"

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

describe("redactCredentials", () => {
  it("hides the user and password of any URL", () => {
    expect(redactCredentials("open rtsp://admin:hunter2@10.0.0.5:554/live failed")).toBe(
      "open rtsp://***@10.0.0.5:554/live failed",
    )
    expect(redactCredentials("rtsp://10.0.0.5/live")).toBe("rtsp://10.0.0.5/live")
  })
})
