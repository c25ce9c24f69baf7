import { describe, expect, it } from "vitest"
import { notificationTarget } from "./notificationClick.ts"

describe("notificationTarget", () => {
  it("opens the clip a notification names", () => {
    const clipId = "0123456789abcdef0123456789abcdef"
    expect(notificationTarget({ url: "/#clip=x", clipId })).toEqual({ url: `/#clip=${clipId}`, clipId })
  })

  it.each([undefined, null, {}, { clipId: "../../evil" }, { clipId: 5 }, { url: "https://evil.example/" }])(
    "leads anything else (%j) to the start page, never to a URL taken from the data",
    (data) => {
      expect(notificationTarget(data)).toEqual({ url: "/" })
    },
  )
})
