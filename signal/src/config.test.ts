import { describe, expect, it } from "vitest"
import { parseServerConfig } from "./config.ts"

describe("parseServerConfig", () => {
  it("uses the defaults", () => {
    expect(parseServerConfig([], {})).toEqual({
      kind: "ok",
      config: {
        port: 8080,
        host: "127.0.0.1",
        dataDir: "./.vigil-data/signal",
        webRoot: undefined,
        logLevel: "info",
      },
    })
  })

  it("prefers flags over the environment, in both flag forms", () => {
    const result = parseServerConfig(["--port=0", "--web-root", "web/dist"], {
      SIGNAL_PORT: "9000",
      SIGNAL_HOST: "0.0.0.0",
      SIGNAL_DATA_DIR: "/var/lib/vigil",
    })
    expect(result).toEqual({
      kind: "ok",
      config: { port: 0, host: "0.0.0.0", dataDir: "/var/lib/vigil", webRoot: "web/dist", logLevel: "info" },
    })
  })

  it.each([
    [["--port", "65536"], {}, "--port"],
    [["--port", "-1"], {}, "--port"],
    [[], { SIGNAL_PORT: "80a" }, "SIGNAL_PORT"],
    [["--host", "a b"], {}, "--host"],
    [["--data-dir", " "], {}, "--data-dir"],
    [["--log-level", "loud"], {}, "--log-level"],
    [["--port"], {}, "--port needs a value"],
    [["--verbose"], {}, "unknown argument"],
  ])("rejects %j %j naming %s", (argv, env, named) => {
    const result = parseServerConfig(argv, env)
    expect(result.kind).toBe("error")
    if (result.kind === "error") expect(result.message).toContain(named)
  })
})
