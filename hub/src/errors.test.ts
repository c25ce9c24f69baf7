import { CodecError } from "@vigil/protocol"
import { describe, expect, it } from "vitest"
import { CameraConfigError, MediaError } from "./capture/errors.ts"
import { ConfigError } from "./config.ts"
import { HubError, HubStateError, StateFileError, errorCodeOf, hubErrorCodes } from "./errors.ts"
import { StateFileError as StateFileErrorOfStore } from "./store/fileStateStore.ts"

describe("hub errors", () => {
  it("have unique codes", () => {
    expect(new Set(hubErrorCodes).size).toBe(hubErrorCodes.length)
  })

  it("are one family, still importable from where they were defined before", () => {
    expect(StateFileErrorOfStore).toBe(StateFileError)
    const errors = [
      [new ConfigError("bad"), "CONFIG_INVALID"],
      [new StateFileError("bad"), "STATE_FILE_CORRUPT"],
      [new HubStateError("bad"), "HUB_STATE_CORRUPT"],
      [new CameraConfigError("bad"), "CAMERA_CONFIG_INVALID"],
    ] as const
    for (const [err, code] of errors) {
      expect(err).toBeInstanceOf(HubError)
      expect(err).toMatchObject({ code, name: err.constructor.name })
      expect(errorCodeOf(err)).toBe(code)
    }
    expect(new CameraConfigError("bad")).toBeInstanceOf(MediaError)
  })

  it("errorCodeOf reads protocol codes too, and nothing from other errors", () => {
    expect(errorCodeOf(new CodecError("x"))).toBe("CODEC_INVALID")
    expect(errorCodeOf(new Error("x"))).toBeUndefined()
    expect(errorCodeOf(Object.assign(new Error("x"), { code: "ENOENT" }))).toBeUndefined()
  })
})
