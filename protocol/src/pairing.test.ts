import { describe, expect, it } from "vitest"
import { fromBase64Url, fromUtf8, toBase64Url, utf8 } from "./bytes.ts"
import { CodecError, CryptoError, ProtocolStateError } from "./errors.ts"
import type { DeviceId, SpaceId } from "./ids.ts"
import {
  createJoinRequest,
  decodeInvite,
  encodeInvite,
  pairingRoomId,
  verifyJoinRequest,
  type Invite,
} from "./pairing.ts"

const now = 1_763_000_000_000
const invite: Invite = {
  signal: "https://relay.example",
  spaceId: "00112233445566778899aabbccddeeff" as SpaceId,
  hubDeviceId: "ffeeddccbbaa99887766554433221100" as DeviceId,
  hubName: "Maison",
  hubKey: new Uint8Array(32).fill(7),
  secret: new Uint8Array(32).fill(9),
  expiresAt: now + 600_000,
  suite: "MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519",
}

/** The invite's JSON, as `encodeInvite` writes it, for editing one field at a time. */
const inviteJson = (): Record<string, unknown> =>
  JSON.parse(fromUtf8(fromBase64Url(encodeInvite(invite).slice(3)))) as Record<string, unknown>
const codeOfJson = (json: unknown) => `v1.${toBase64Url(utf8(JSON.stringify(json)))}`

/** The error `call` threw (or rejected with), for checking its class and code. */
async function failure(call: () => unknown): Promise<unknown> {
  try {
    await call()
  } catch (err) {
    return err
  }
  throw new Error("expected a failure")
}

describe("encodeInvite / decodeInvite", () => {
  it("round-trips an invite, and the default suite is left out of the code", () => {
    const code = encodeInvite(invite)
    expect(code.startsWith("v1.")).toBe(true)
    expect(inviteJson()).not.toHaveProperty("suite")
    expect(decodeInvite(code, now)).toEqual(invite)
  })

  it("carries a non-default suite", () => {
    const xwing: Invite = { ...invite, suite: "MLS_256_XWING_AES256GCM_SHA512_Ed25519" }
    const code = encodeInvite(xwing)
    expect(JSON.parse(fromUtf8(fromBase64Url(code.slice(3))))).toMatchObject({ suite: xwing.suite })
    expect(decodeInvite(code, now).suite).toBe(xwing.suite)
  })

  it("accepts surrounding whitespace and drops trailing slashes of the relay URL", () => {
    const code = codeOfJson({ ...inviteJson(), signal: "http://192.168.1.5:8080//" })
    const decoded = decodeInvite(`  ${code}\n`, now)
    expect(decoded.signal).toBe("http://192.168.1.5:8080")
  })

  it("is valid until its expiry, then refused with PAIRING_EXPIRED", async () => {
    expect(decodeInvite(encodeInvite(invite), invite.expiresAt).expiresAt).toBe(invite.expiresAt)
    const err = await failure(() => decodeInvite(encodeInvite(invite), invite.expiresAt + 1))
    expect(err).toBeInstanceOf(ProtocolStateError)
    expect(err).toMatchObject({ code: "PAIRING_EXPIRED" })
  })

  it("refuses text that is not a Vigil code, or whose payload is not base64url JSON", async () => {
    const body = encodeInvite(invite).slice(3)
    for (const text of ["", "hello", `v2.${body}`, "v1.!!!", `v1.${toBase64Url(utf8("not json"))}`]) {
      const err = await failure(() => decodeInvite(text, now))
      expect(err, text).toBeInstanceOf(CodecError)
      expect(err, text).toMatchObject({ code: "CODEC_INVALID" })
    }
  })

  it("refuses an invite with any field missing, malformed or added", async () => {
    const edits: Record<string, unknown>[] = [
      { v: 2 },
      { signal: "ftp://relay.example" },
      { signal: "javascript:alert(1)" },
      { space: "00112233445566778899AABBCCDDEEFF" },
      { hub: "ffee" },
      { name: "" },
      { name: "x".repeat(65) },
      { key: toBase64Url(new Uint8Array(31)) },
      { secret: toBase64Url(new Uint8Array(33)) },
      { exp: 0 },
      { exp: 1.5 },
      { suite: "MLS_128_DHKEMP256_AES128GCM_SHA256_P256" },
      { extra: true },
    ]
    for (const edit of edits) {
      const err = await failure(() => decodeInvite(codeOfJson({ ...inviteJson(), ...edit }), now))
      expect(err, JSON.stringify(edit)).toMatchObject({ code: "CODEC_INVALID" })
    }
    for (const field of ["v", "signal", "space", "hub", "name", "key", "secret", "exp"]) {
      const json = inviteJson()
      delete json[field]
      expect(await failure(() => decodeInvite(codeOfJson(json), now)), field).toMatchObject({
        code: "CODEC_INVALID",
      })
    }
  })
})

describe("pairingRoomId", () => {
  it("is HKDF-SHA256(secret, info 'vigil pair room v1') in hex", async () => {
    // Computed with node:crypto's hkdfSync, an implementation independent of WebCrypto's.
    expect(await pairingRoomId(new Uint8Array(32))).toBe(
      "e85b0d53ca5525079a30f1c2c71095d9109cff73f3127343921042242cb535a8",
    )
  })

  it("gives each secret its own room", async () => {
    const a = await pairingRoomId(new Uint8Array(32).fill(1))
    const b = await pairingRoomId(new Uint8Array(32).fill(2))
    expect(a).toMatch(/^[0-9a-f]{64}$/)
    expect(a).not.toBe(b)
  })
})

describe("createJoinRequest / verifyJoinRequest", () => {
  const secret = new Uint8Array(32)
  const request = {
    deviceId: "0123456789abcdef0123456789abcdef" as DeviceId,
    keyPackage: new Uint8Array([1, 2, 3]),
  }
  const json = async () =>
    JSON.parse(fromUtf8(await createJoinRequest(secret, request))) as Record<string, unknown>
  const bytesOf = (value: unknown) => utf8(JSON.stringify(value))

  it("writes the device, the key package and an HMAC under the invite's MAC key", async () => {
    // The MAC computed with node:crypto (HKDF 'vigil pair mac v1', HMAC over "vigil pair join v1" | device | kp).
    expect(await json()).toEqual({
      v: 1,
      device: request.deviceId,
      kp: "AQID",
      mac: "MW6TFMk8vGLCAB_CFfyvsXUW6so4112sCi0-Dx5aRYI",
    })
  })

  it("verifies a request made with the same secret", async () => {
    expect(await verifyJoinRequest(secret, await createJoinRequest(secret, request))).toEqual(request)
  })

  it("refuses with PAIRING_INVALID a request made with another secret, or with its device, key package or MAC changed", async () => {
    const other = await createJoinRequest(new Uint8Array(32).fill(1), request)
    const original = await json()
    const mac = String(original.mac)
    const tampered = [
      other,
      bytesOf({ ...original, device: "1123456789abcdef0123456789abcdef" }),
      bytesOf({ ...original, kp: "AQIE" }),
      bytesOf({ ...original, mac: (mac[0] === "A" ? "B" : "A") + mac.slice(1) }),
    ]
    for (const [i, bytes] of tampered.entries()) {
      const err = await failure(() => verifyJoinRequest(secret, bytes))
      expect(err, `case ${i}`).toBeInstanceOf(CryptoError)
      expect(err, `case ${i}`).toMatchObject({ code: "PAIRING_INVALID" })
    }
  })

  it("refuses with CODEC_INVALID bytes that are not JSON, or not a join request", async () => {
    const original = await json()
    const malformed = [
      new Uint8Array([0xff, 0xfe]),
      utf8("{"),
      utf8("null"),
      bytesOf({ ...original, v: 2 }),
      bytesOf({ ...original, device: "0123456789ABCDEF0123456789ABCDEF" }),
      bytesOf({ ...original, kp: "" }),
      bytesOf({ ...original, kp: "AQ+D" }),
      bytesOf({ ...original, mac: String(original.mac).slice(1) }),
      bytesOf({ ...original, extra: 1 }),
      bytesOf({ v: 1, device: original.device, kp: original.kp }),
    ]
    for (const [i, bytes] of malformed.entries()) {
      const err = await failure(() => verifyJoinRequest(secret, bytes))
      expect(err, `case ${i}`).toBeInstanceOf(CodecError)
      expect(err, `case ${i}`).toMatchObject({ code: "CODEC_INVALID" })
    }
  })
})
