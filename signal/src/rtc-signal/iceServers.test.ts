import { createHmac } from "node:crypto"
import { describe, expect, it } from "vitest"
import { iceServersFor, turnConfigured } from "./iceServers.ts"

describe("iceServersFor", () => {
  const servers = [
    { urls: "stun:stun.home.example:3478" },
    { urls: ["turn:turn.home.example:3478?transport=udp", "turns:turn.home.example:5349"] },
    { urls: "turn:static.example", username: "u", credential: "c" },
  ]

  it("passes the settings through without a TURN secret", () => {
    expect(iceServersFor(servers, "d", { ttlMs: 1000, now: 0 })).toEqual(servers)
    expect(iceServersFor([], "d", { ttlMs: 1000, now: 0 })).toEqual([])
  })

  it("mints time-limited TURN credentials with a secret", () => {
    const secret = "a-shared-turn-secret"
    const [stun, turn, fixed] = iceServersFor(servers, "dev1", {
      turnSecret: secret,
      ttlMs: 60_000,
      now: 1_000_000,
    })
    expect(stun).toEqual(servers[0])
    expect(fixed).toEqual(servers[2])
    expect(turn?.username).toBe("1060:dev1")
    expect(turn?.credential).toBe(createHmac("sha1", secret).update("1060:dev1").digest("base64"))
  })

  it("says whether a TURN relay is configured", () => {
    expect(turnConfigured([], undefined)).toBe(false)
    expect(turnConfigured([{ urls: "stun:turn.example:3478" }], "a-shared-turn-secret")).toBe(false)
    expect(turnConfigured([servers[1]!], undefined)).toBe(false)
    expect(turnConfigured([servers[1]!], "a-shared-turn-secret")).toBe(true)
    expect(turnConfigured([servers[2]!], undefined)).toBe(true)
  })
})
