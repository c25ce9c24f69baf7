import { describe, expect, it } from "vitest"
import { buildCameraArgs, rtspInputScript, type CameraConfig } from "./cameraArgs.ts"
import { CameraConfigError } from "./errors.ts"
import { escapeFilterValue } from "./filterEscape.ts"
import { syntheticMotionWindow } from "./syntheticSource.ts"

const withFont = { fileExists: () => true }
const withoutFont = { fileExists: () => false }

/** The value following `flag`, for the n-th occurrence. */
function valueOf(args: string[], flag: string, occurrence = 0): string | undefined {
  const positions = args.flatMap((arg, i) => (arg === flag ? [i] : []))
  const at = positions[occurrence]
  return at === undefined ? undefined : args[at + 1]
}

describe("buildCameraArgs: synthetic", () => {
  const args = buildCameraArgs({ kind: "synthetic" }, withFont)
  const graph = valueOf(args, "-i") ?? ""

  it("paces a lavfi scene in real time and encodes baseline H.264 with 1 s GOPs and in-band headers", () => {
    expect(args.slice(0, 5)).toEqual(["-hide_banner", "-nostdin", "-nostats", "-loglevel", "error"])
    expect(args.indexOf("-re")).toBeLessThan(args.indexOf("-i"))
    expect(valueOf(args, "-f")).toBe("lavfi")
    expect(graph).toContain("s=640x360:r=15")
    expect(valueOf(args, "-c:v")).toBe("libx264")
    expect(valueOf(args, "-preset")).toBe("ultrafast")
    expect(valueOf(args, "-tune")).toBe("zerolatency")
    expect(valueOf(args, "-profile:v")).toBe("baseline")
    expect(valueOf(args, "-g")).toBe("15")
    expect(valueOf(args, "-keyint_min")).toBe("15")
    expect(valueOf(args, "-sc_threshold")).toBe("0")
    expect(valueOf(args, "-x264-params")).toBe("repeat-headers=1")
    expect(valueOf(args, "-bsf:v")).toBe("h264_metadata=aud=insert")
  })

  it("writes Annex-B to stdout and 160x90 gray frames at 5 fps to fd 3", () => {
    expect(args.filter((a) => a.startsWith("pipe:"))).toEqual(["pipe:1", "pipe:3"])
    expect(args[args.indexOf("pipe:1") - 1]).toBe("h264")
    expect(args.slice(-5)).toEqual(["-f", "rawvideo", "-pix_fmt", "gray", "pipe:3"])
    expect(valueOf(args, "-filter_complex")).toContain("fps=5,scale=160:90:flags=area,format=gray[motion]")
  })

  it("burns in a clock only when the font exists, and moves the box only in the motion window", () => {
    expect(graph).toContain("drawtext=fontfile=/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
    expect(graph).toContain("%{localtime}")
    const noClock = valueOf(buildCameraArgs({ kind: "synthetic" }, withoutFont), "-i")
    expect(noClock).not.toContain("drawtext")
    expect(
      valueOf(buildCameraArgs({ kind: "synthetic", clockFontFile: null }, withFont), "-i"),
    ).not.toContain("drawtext")
    expect(graph).toContain("enable='gte(mod(t,30),25)'")
    expect(graph).not.toContain("testsrc")
  })

  it("takes size, rate, cycle, keyframe interval and motion size as parameters", () => {
    const config: CameraConfig = {
      kind: "synthetic",
      width: 320,
      height: 180,
      fps: 10,
      cycleSeconds: 6,
      motionSeconds: 2,
      keyframeSeconds: 2,
      motion: { width: 80, height: 45, fps: 2 },
    }
    const custom = buildCameraArgs(config, withoutFont)
    expect(valueOf(custom, "-i")).toContain("s=320x180:r=10")
    expect(valueOf(custom, "-i")).toContain("enable='gte(mod(t,6),4)'")
    expect(valueOf(custom, "-g")).toBe("20")
    expect(valueOf(custom, "-filter_complex")).toContain("fps=2,scale=80:45")
    expect(syntheticMotionWindow(config)).toEqual({ cycleSeconds: 6, startSeconds: 4, endSeconds: 6 })
  })

  it("rejects values ffmpeg cannot use", () => {
    const bad: CameraConfig[] = [
      { kind: "synthetic", width: 641 },
      { kind: "synthetic", fps: 0 },
      { kind: "synthetic", cycleSeconds: 5, motionSeconds: 5 },
      { kind: "synthetic", motion: { width: 0 } },
    ]
    for (const config of bad) expect(() => buildCameraArgs(config, withoutFont)).toThrow(CameraConfigError)
  })
})

describe("buildCameraArgs: file", () => {
  it("loops the file in real time and re-encodes by default", () => {
    const args = buildCameraArgs({ kind: "file", path: "/videos/porch.mp4", width: 640 })
    expect(args.slice(args.indexOf("-stream_loop"), args.indexOf("-i") + 2)).toEqual([
      "-stream_loop",
      "-1",
      "-re",
      "-i",
      "/videos/porch.mp4",
    ])
    expect(valueOf(args, "-filter_complex")).toMatch(/^\[0:v:0\]fps=15,scale=640:-2,format=yuv420p,split=2/)
    expect(valueOf(args, "-c:v")).toBe("libx264")
  })

  it("can copy the file's H.264, converting MP4 framing to Annex-B before inserting AUDs", () => {
    const args = buildCameraArgs({ kind: "file", path: "/videos/porch.mp4", transcode: false })
    expect(valueOf(args, "-c:v")).toBe("copy")
    expect(valueOf(args, "-bsf:v")).toBe("h264_mp4toannexb,h264_metadata=aud=insert")
    expect(valueOf(args, "-filter_complex")).toBe("[0:v:0]fps=5,scale=160:90:flags=area,format=gray[motion]")
  })
})

describe("buildCameraArgs: rtsp", () => {
  const url = "rtsp://admin:secret@192.168.1.20:554/stream1"
  const deps = { fileExists: () => false, rtspInputPath: "/run/vigil/input.ffconcat" }

  it("issue 14 finding 16: keeps the URL and its password off ffmpeg's command line", () => {
    const args = buildCameraArgs({ kind: "rtsp", url }, deps)
    expect(args.join(" ")).not.toContain("secret")
    expect(args.join(" ")).not.toContain("rtsp://")
    expect(valueOf(args, "-f")).toBe("concat")
    expect(valueOf(args, "-i")).toBe("/run/vigil/input.ffconcat")
    expect(() => buildCameraArgs({ kind: "rtsp", url })).toThrow(CameraConfigError)
  })

  it("copies H.264 over TCP by default, with SPS/PPS repeated before each keyframe and AUDs first", () => {
    const args = buildCameraArgs({ kind: "rtsp", url }, deps)
    expect(rtspInputScript({ kind: "rtsp", url }).split("\n")).toEqual([
      "ffconcat version 1.0",
      `file '${url}'`,
      "option rtsp_transport tcp",
      "option timeout 10000000",
      "option analyzeduration 1000000",
      "option allowed_media_types video",
      "",
    ])
    expect(valueOf(args, "-c:v")).toBe("copy")
    expect(valueOf(args, "-bsf:v")).toBe("dump_extra=freq=keyframe,h264_metadata=aud=insert")
    expect(args).not.toContain("-re")
    expect(args).toContain("pipe:3")
  })

  it("supports UDP and rejects URLs that are not RTSP or could break out of the script", () => {
    expect(rtspInputScript({ kind: "rtsp", url, transport: "udp" })).toContain("option rtsp_transport udp\n")
    expect(rtspInputScript({ kind: "rtsp", url: "rtsp://a:it's@cam/x" })).toContain(
      "file 'rtsp://a:it'\\''s@cam/x'",
    )
    expect(() => buildCameraArgs({ kind: "rtsp", url: "http://cam/" }, deps)).toThrow(CameraConfigError)
    expect(() => rtspInputScript({ kind: "rtsp", url: "rtsp://cam/x'\nfile '/etc/passwd" })).toThrow(
      CameraConfigError,
    )
  })
})

describe("escapeFilterValue", () => {
  it("escapes both the option level and the graph level", () => {
    expect(escapeFilterValue("/fonts/plain.ttf")).toBe("/fonts/plain.ttf")
    expect(escapeFilterValue("C:/a,b.ttf")).toBe("C\\\\:/a\\,b.ttf")
    expect(escapeFilterValue("it's")).toBe("it\\\\\\'s")
  })
})

describe("buildCameraArgs: v4l2", () => {
  it("opens the webcam at the asked size, rate and format, and encodes it like the synthetic camera", () => {
    const args = buildCameraArgs({
      kind: "v4l2",
      device: "/dev/video2",
      width: 640,
      height: 480,
      fps: 10,
      inputFormat: "mjpeg",
    })
    expect(valueOf(args, "-f")).toBe("v4l2")
    expect(valueOf(args, "-input_format")).toBe("mjpeg")
    expect(valueOf(args, "-framerate")).toBe("10")
    expect(valueOf(args, "-video_size")).toBe("640x480")
    expect(valueOf(args, "-i")).toBe("/dev/video2")
    expect(valueOf(args, "-c:v")).toBe("libx264")
    expect(valueOf(args, "-g")).toBe("10")
    expect(args.filter((a) => a.startsWith("pipe:"))).toEqual(["pipe:1", "pipe:3"])
  })

  it("refuses a device that is not under /dev and odd sizes", () => {
    expect(() => buildCameraArgs({ kind: "v4l2", device: "video0" })).toThrow(CameraConfigError)
    expect(() => buildCameraArgs({ kind: "v4l2", width: 641 })).toThrow(CameraConfigError)
  })
})
