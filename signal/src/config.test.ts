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
        vapidSubject: "mailto:vigil-relay@localhost",
        shutdownGraceMs: 30_000,
        signal: {},
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
      config: {
        port: 0,
        host: "0.0.0.0",
        dataDir: "/var/lib/vigil",
        webRoot: "web/dist",
        logLevel: "info",
        vapidSubject: "mailto:vigil-relay@localhost",
        shutdownGraceMs: 30_000,
        signal: {},
      },
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
    [["--trusted-proxies", "10.0.0.1,nope"], {}, "--trusted-proxies"],
    [[], { SIGNAL_TRUSTED_PROXIES: "10.0.0.0/33" }, "SIGNAL_TRUSTED_PROXIES"],
    [["--cors-origin", "https://app.example/path"], {}, "--cors-origin"],
    [["--retention-days", "0"], {}, "--retention-days"],
    [["--space-quota-bytes", "1e9"], {}, "--space-quota-bytes"],
    [["--vapid-subject", "admin"], {}, "--vapid-subject"],
    [["--shutdown-grace-ms", "-5"], {}, "--shutdown-grace-ms"],
  ])("rejects %j %j naming %s", (argv, env, named) => {
    const result = parseServerConfig(argv, env)
    expect(result.kind).toBe("error")
    if (result.kind === "error") expect(result.message).toContain(named)
  })
})

describe("parseServerConfig: limits", () => {
  const files: Record<string, string> = {
    "ok.json": JSON.stringify({ maxBlobBytes: 1024, rateLimitPerDevice: { perSecond: 0, burst: 1 } }),
    "unknown.json": JSON.stringify({ maxBlobBytez: 1 }),
    "type.json": JSON.stringify({ retentionMs: "30d" }),
    "broken.json": "{",
  }
  const read = (path: string): string => {
    const text = files[path]
    if (text === undefined) throw new Error("ENOENT: no such file")
    return text
  }

  it("reads the dedicated flags into the app limits", () => {
    const result = parseServerConfig(
      [
        "--trusted-proxies",
        "10.0.0.1, 172.16.0.0/12,::1",
        "--cors-origin=https://app.example",
        "--retention-days",
        "7",
        "--space-quota-bytes",
        "1000000",
      ],
      { SIGNAL_VAPID_SUBJECT: "mailto:ops@example.org", SIGNAL_SHUTDOWN_GRACE_MS: "5000" },
    )
    expect(result).toMatchObject({
      kind: "ok",
      config: {
        vapidSubject: "mailto:ops@example.org",
        shutdownGraceMs: 5000,
        signal: {
          trustedProxies: ["10.0.0.1", "172.16.0.0/12", "::1"],
          corsOrigin: "https://app.example",
          retentionMs: 7 * 24 * 3600 * 1000,
          spaceQuotaBytes: 1_000_000,
        },
      },
    })
  })

  it("reads a --config file, the dedicated flags winning", () => {
    const result = parseServerConfig(["--config", "ok.json"], { SIGNAL_SPACE_QUOTA_BYTES: "5" }, read)
    expect(result).toMatchObject({
      kind: "ok",
      config: {
        signal: { maxBlobBytes: 1024, rateLimitPerDevice: { perSecond: 0, burst: 1 }, spaceQuotaBytes: 5 },
      },
    })
  })

  it.each([
    ["unknown.json", "maxBlobBytez"],
    ["type.json", "retentionMs"],
    ["broken.json", "not valid JSON"],
    ["missing.json", "cannot read missing.json"],
  ])("rejects %s naming %s", (file, named) => {
    const result = parseServerConfig([], { SIGNAL_CONFIG: file }, read)
    expect(result.kind).toBe("error")
    if (result.kind === "error") {
      expect(result.message).toContain("SIGNAL_CONFIG")
      expect(result.message).toContain(named)
    }
  })
})
