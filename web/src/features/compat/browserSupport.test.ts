import { encodeInvite, type DeviceId, type SpaceId } from "@vigil/protocol"
import { describe, expect, it } from "vitest"
import { checkBrowserSupport, httpsPairingUrl, type BrowserEnv } from "./browserSupport.ts"

/** A current browser on an https page: everything present. */
function fullBrowser(overrides: Partial<BrowserEnv> = {}): BrowserEnv {
  return {
    isSecureContext: true,
    location: { protocol: "https:", hostname: "relay.example.org", hash: "" },
    crypto: { subtle: {} },
    indexedDB: {},
    navigator: { serviceWorker: {} },
    VideoDecoder: function VideoDecoder() {},
    MediaSource: function MediaSource() {},
    document: { createElement: () => ({ canPlayType: () => "probably" }) },
    ...overrides,
  }
}

function inviteFor(signal: string, expiresAt = Date.now() + 60_000): string {
  return encodeInvite({
    signal,
    spaceId: "0".repeat(32) as SpaceId,
    hubDeviceId: "1".repeat(32) as DeviceId,
    hubName: "Home",
    hubKey: new Uint8Array(32),
    secret: new Uint8Array(32).fill(7),
    expiresAt,
    suite: "MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519",
  })
}

/** What a phone on the LAN sees at http://192.168.1.20:8080: no secure context, so no crypto.subtle. */
function plainHttpOnLan(hash = ""): BrowserEnv {
  return fullBrowser({
    isSecureContext: false,
    location: { protocol: "http:", hostname: "192.168.1.20", hash },
    crypto: {},
    navigator: {},
  })
}

describe("the start-up capability check", () => {
  it("lets a current browser on https run everything", () => {
    expect(checkBrowserSupport(fullBrowser())).toEqual({ kind: "supported", limits: [], live: true })
  })

  it("blocks plain http on a LAN address, and says it is plain http", () => {
    expect(checkBrowserSupport(plainHttpOnLan())).toEqual({
      kind: "blocked",
      blocker: { kind: "insecure-context", plainHttp: true },
    })
  })

  it("offers the same pairing link on the relay's https app when the fragment carries an invite", () => {
    const code = inviteFor("https://relay.example.org")

    const result = checkBrowserSupport(plainHttpOnLan(`#pair=${code}`))

    expect(result).toEqual({
      kind: "blocked",
      blocker: {
        kind: "insecure-context",
        plainHttp: true,
        httpsUrl: `https://relay.example.org/#pair=${code}`,
      },
    })
  })

  it("blocks an insecure context that is not plain http (a frame of an http page) without saying http", () => {
    const env = fullBrowser({ isSecureContext: false, crypto: {} })

    expect(checkBrowserSupport(env)).toEqual({
      kind: "blocked",
      blocker: { kind: "insecure-context", plainHttp: false },
    })
  })

  it("blocks a browser without WebCrypto", () => {
    expect(checkBrowserSupport(fullBrowser({ crypto: {} }))).toEqual({
      kind: "blocked",
      blocker: { kind: "no-webcrypto" },
    })
    expect(checkBrowserSupport(fullBrowser({ crypto: undefined, isSecureContext: undefined }))).toEqual({
      kind: "blocked",
      blocker: { kind: "no-webcrypto" },
    })
  })

  it("blocks a browser without IndexedDB", () => {
    expect(checkBrowserSupport(fullBrowser({ indexedDB: undefined }))).toEqual({
      kind: "blocked",
      blocker: { kind: "no-indexeddb" },
    })
  })

  it("runs without service workers, saying notifications and offline are off", () => {
    expect(checkBrowserSupport(fullBrowser({ navigator: {} }))).toEqual({
      kind: "supported",
      limits: [{ kind: "no-service-worker" }],
      live: true,
    })
  })

  it("runs without WebCodecs, with live view off and clips still playing", () => {
    expect(checkBrowserSupport(fullBrowser({ VideoDecoder: undefined }))).toEqual({
      kind: "supported",
      limits: [{ kind: "no-live-view" }],
      live: false,
    })
  })

  it("plays clips as whole files without Media Source Extensions", () => {
    expect(checkBrowserSupport(fullBrowser({ MediaSource: undefined }))).toEqual({
      kind: "supported",
      limits: [{ kind: "clips-whole-file" }],
      live: true,
    })
  })

  it("says clips cannot play when <video> plays no MP4/H.264, MediaSource or not", () => {
    const env = fullBrowser({
      MediaSource: undefined,
      document: { createElement: () => ({ canPlayType: () => "" }) },
    })

    expect(checkBrowserSupport(env)).toEqual({
      kind: "supported",
      limits: [{ kind: "no-clip-playback" }],
      live: true,
    })
  })

  it("reads the real globalThis shape without throwing (Node: no secure-context flag, no DOM)", () => {
    expect(() => checkBrowserSupport(globalThis)).not.toThrow()
  })
})

describe("the https pairing link", () => {
  it("keeps an expired invite's link: the https app explains the expiry itself", () => {
    const code = inviteFor("https://relay.example.org/", Date.now() - 1000)

    expect(httpsPairingUrl(`#pair=${code}`)).toBe(`https://relay.example.org/#pair=${code}`)
  })

  it("offers nothing for an http relay, a damaged code, or no code", () => {
    expect(httpsPairingUrl(`#pair=${inviteFor("http://192.168.1.20:8080")}`)).toBeUndefined()
    expect(httpsPairingUrl("#pair=v1.garbage")).toBeUndefined()
    expect(httpsPairingUrl("")).toBeUndefined()
    expect(httpsPairingUrl("#other=1")).toBeUndefined()
  })
})
