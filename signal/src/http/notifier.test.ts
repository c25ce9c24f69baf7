import { describe, expect, it } from "vitest"
import { Notifier } from "./notifier.ts"

const never = new AbortController().signal

describe("Notifier", () => {
  it("keeps a notification that arrives between subscribe and wait", async () => {
    const notifier = new Notifier()
    const sub = notifier.subscribe("k")
    notifier.notify("k")
    expect(await sub.wait(10_000, never)).toBe("notified")
    sub.dispose()
    expect(notifier.listenerCount).toBe(0)
  })

  it("wakes only the waiters of the notified key", async () => {
    const notifier = new Notifier()
    const a = notifier.subscribe("a")
    const b = notifier.subscribe("b")
    const waitingA = a.wait(10_000, never)
    notifier.notify("a")
    expect(await waitingA).toBe("notified")
    expect(await b.wait(10, never)).toBe("timeout")
    a.dispose()
    b.dispose()
    expect(notifier.listenerCount).toBe(0)
  })

  it("ends a wait on abort and on closeAll, and refuses to wait after closeAll", async () => {
    const notifier = new Notifier()
    const controller = new AbortController()
    const sub = notifier.subscribe("k")
    const waiting = sub.wait(10_000, controller.signal)
    controller.abort()
    expect(await waiting).toBe("aborted")
    sub.dispose()

    const other = notifier.subscribe("k")
    const closing = other.wait(10_000, never)
    notifier.closeAll()
    expect(await closing).toBe("closed")
    other.dispose()
    const late = notifier.subscribe("k")
    expect(await late.wait(10_000, never)).toBe("closed")
    late.dispose()
    expect(notifier.listenerCount).toBe(0)
  })

  it("calls a persistent listener on every notification until disposed, not on closeAll", () => {
    const notifier = new Notifier()
    let calls = 0
    const stop = notifier.listen("k", () => calls++)
    notifier.notify("k")
    notifier.notify("k")
    notifier.notify("other")
    notifier.closeAll()
    expect(calls).toBe(2)
    expect(notifier.listenerCount).toBe(1)
    stop()
    stop()
    notifier.notify("k")
    expect(calls).toBe(2)
    expect(notifier.listenerCount).toBe(0)
  })
})
