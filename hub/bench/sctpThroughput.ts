/**
 * `tsx hub/bench/sctpThroughput.ts`: what werift's data channel moves, and how late frames arrive under a
 * live-view load. Prints figures and writes bench-results/sctp.json.
 *
 * werift sends (in this process, as the hub does); the receiver is either werift in a child process
 * (werift→werift over 127.0.0.1) or the system Chromium (werift→Chromium, like a phone). The receiver offers
 * and werift answers, as in live view. For each pair and each werift build given with --werift (default: the
 * installed, patched werift; pass a second path, e.g. an unpatched copy, to compare builds in the same run,
 * interleaved round by round so machine load affects both alike):
 *   - throughput: 16 KiB and 64 KiB messages, ≤ 1 MiB kept buffered, MB/s from the first send to the last
 *     byte received, on a fresh association each time;
 *   - 720p30: a fresh association, a GOP-cache burst at open (keyframe 150 KB + 29 frames, as a viewer joining
 *     mid-GOP gets), then 30 frames/s of 5–60 KB with a 150 KB keyframe every 60 frames, sliced into ≤ 64 KiB
 *     messages; latency = last slice received − frame handed to send (same machine, same clock), overall and
 *     in the first 3 s.
 *
 * werift→Chromium needs root (a throw-away network namespace: Chromium gathers no candidates on loopback);
 * without it only werift→werift runs. Options: --seconds N (720p30 run, default 10), --rounds N (default 2),
 * --werift spec[,spec] (module specifiers or paths), --peers werift,chromium, --mb N (per throughput run, 8),
 * --tests throughput_16k,throughput_64k,live_720p30, --trace (werift's cwnd and queues every 5 ms, to stderr).
 */
import { fork, spawnSync } from "node:child_process"
import { mkdirSync, writeFileSync } from "node:fs"
import { cpus } from "node:os"
import { isAbsolute, join } from "node:path"
import { pathToFileURL } from "node:url"
import { parseArgs } from "node:util"
import type { RTCPeerConnection as WeriftPc } from "werift"
import { liveRtcConfig } from "../src/live/rtcConfig.ts"
import { rerunInNetns } from "./inNetns.ts"

const root = new URL("../..", import.meta.url).pathname
const now = () => performance.timeOrigin + performance.now()
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const channelInit = { negotiated: true, id: 0, ordered: true } as const
const loopbackConfig = {
  ...liveRtcConfig({ additionalHostAddresses: ["127.0.0.1"] }),
  iceFilterCandidatePair: (pair: { remoteCandidate: { host: string } }) =>
    pair.remoteCandidate.host === "127.0.0.1",
}
/** Message header: u32 frame index, u8 last slice of the frame, f64 ms the frame was handed to send. */
const headerBytes = 13

const resolveSpec = (spec: string) =>
  spec.startsWith(".") || isAbsolute(spec) ? pathToFileURL(join(root, spec)).href : spec
const loadWerift = async (spec: string) =>
  (await import(resolveSpec(spec))) as { RTCPeerConnection: typeof WeriftPc }

async function gathered(pc: WeriftPc) {
  if (pc.iceGatheringState === "complete") return
  await new Promise<void>((resolve) => {
    const sub = pc.iceGatheringStateChange.subscribe((s) => {
      if (s === "complete") {
        sub.unSubscribe()
        resolve()
      }
    })
  })
}

// ── Receiver in a child process (werift→werift) ──────────────────────────────────────────────────────────
if (process.env.VIGIL_SCTP_RECEIVER) {
  const { RTCPeerConnection } = await loadWerift(process.env.VIGIL_SCTP_RECEIVER)
  let pc: WeriftPc | undefined
  const send = (m: object) => process.send!(m)
  process.on("message", async (m: { op: string; sdp?: string; expectBytes?: number }) => {
    if (m.op === "offer") {
      pc = new RTCPeerConnection(loopbackConfig)
      const dc = pc.createDataChannel("bench", channelInit)
      const rx = receiverState(m.expectBytes ?? 0, (r) => send({ op: "done", ...r }))
      dc.onMessage.subscribe((data) => rx.onMessage(data as Buffer))
      await pc.setLocalDescription(await pc.createOffer())
      await gathered(pc)
      send({ op: "offer", sdp: pc.localDescription!.sdp })
    } else if (m.op === "answer") {
      await pc!.setRemoteDescription({ type: "answer", sdp: m.sdp! })
    } else if (m.op === "close") {
      await pc?.close()
      pc = undefined
      send({ op: "closed" })
    }
  })
  send({ op: "ready" })
  await new Promise(() => {})
}

/** Counts bytes and frame latencies; `done` once expectBytes arrived (same logic runs in the page). */
function receiverState(expectBytes: number, done: (r: ReceiverResult) => void) {
  let bytes = 0
  let first = 0
  const latencies: [number, number][] = []
  return {
    onMessage(data: Uint8Array) {
      const t = performance.timeOrigin + performance.now()
      if (bytes === 0) first = t
      bytes += data.length
      const view = new DataView(data.buffer, data.byteOffset, data.byteLength)
      if (data.length >= 13 && view.getUint8(4) === 1)
        latencies.push([view.getFloat64(5), t - view.getFloat64(5)])
      if (bytes >= expectBytes) done({ bytes, first, last: t, latencies })
    },
  }
}
interface ReceiverResult {
  bytes: number
  first: number
  last: number
  /** [sent ms, latency ms] per frame. */
  latencies: [number, number][]
}

interface Receiver {
  /** A fresh peer connection expecting `expectBytes`; returns its offer. */
  offer(expectBytes: number): Promise<string>
  answer(sdp: string): Promise<void>
  result(): Promise<ReceiverResult>
  close(): Promise<void>
}

async function weriftReceiver(spec: string): Promise<Receiver & { kill(): void }> {
  const child = fork(new URL(import.meta.url).pathname, [], {
    execArgv: ["--import", "tsx"],
    env: { ...process.env, VIGIL_SCTP_RECEIVER: spec },
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  })
  type ChildMessage = { op: string; sdp?: string } & Partial<ReceiverResult>
  const waiters = new Map<string, (m: ChildMessage) => void>()
  child.on("message", (m: ChildMessage) => {
    waiters.get(m.op)?.(m)
    waiters.delete(m.op)
  })
  const next = (op: string) => new Promise<ChildMessage>((resolve) => waiters.set(op, resolve))
  await next("ready")
  let done: Promise<ReceiverResult> | undefined
  return {
    async offer(expectBytes) {
      done = next("done") as Promise<ChildMessage & ReceiverResult>
      const offered = next("offer")
      child.send({ op: "offer", expectBytes })
      return (await offered).sdp!
    },
    async answer(sdp) {
      child.send({ op: "answer", sdp })
    },
    result: () => done!,
    async close() {
      const closed = next("closed")
      child.send({ op: "close" })
      await closed
    },
    kill: () => child.kill(),
  }
}

/** The browser's RTCPeerConnection, as much of it as the page uses (the hub is compiled without DOM types). */
interface PagePc {
  createDataChannel(
    label: string,
    init: object,
  ): { binaryType: string; onmessage: (e: { data: ArrayBuffer }) => void }
  createOffer(): Promise<{ type: string; sdp: string }>
  setLocalDescription(d: { type: string; sdp: string }): Promise<void>
  setRemoteDescription(d: { type: string; sdp: string }): Promise<void>
  iceGatheringState: string
  localDescription: { sdp: string } | null
  close(): void
}
interface PageGlobals {
  RTCPeerConnection: new () => PagePc
  pc: PagePc
  done: Promise<ReceiverResult>
  receiverState: typeof receiverState
}

async function chromiumReceiver(): Promise<Receiver & { kill(): Promise<void> }> {
  const { chromium } = await import("playwright")
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"],
  })
  const page = await browser.newPage()
  await page.goto("about:blank")
  // tsx keeps function names with a __name helper the page does not have.
  await page.evaluate(`globalThis.__name = (f) => f; globalThis.receiverState = ${receiverState.toString()}`)
  return {
    offer: (expectBytes) =>
      page.evaluate(async (expect) => {
        const g = globalThis as unknown as PageGlobals
        const pc = new g.RTCPeerConnection()
        const dc = pc.createDataChannel("bench", { negotiated: true, id: 0, ordered: true })
        dc.binaryType = "arraybuffer"
        g.pc = pc
        g.done = new Promise((resolve) => {
          const rx = g.receiverState(expect, resolve)
          dc.onmessage = (e) => rx.onMessage(new Uint8Array(e.data))
        })
        await pc.setLocalDescription(await pc.createOffer())
        while (pc.iceGatheringState !== "complete") await new Promise((r) => setTimeout(r, 5))
        return pc.localDescription!.sdp
      }, expectBytes),
    answer: (sdp) =>
      page.evaluate(
        (s) => (globalThis as unknown as PageGlobals).pc.setRemoteDescription({ type: "answer", sdp: s }),
        sdp,
      ),
    result: () => page.evaluate(() => (globalThis as unknown as PageGlobals).done),
    close: () => page.evaluate(() => (globalThis as unknown as PageGlobals).pc.close()),
    kill: () => browser.close(),
  }
}

/** werift answers the receiver's offer; resolves with the open channel. */
async function connect(Pc: typeof WeriftPc, receiver: Receiver, expectBytes: number, loopback: boolean) {
  const pc = new Pc(loopback ? loopbackConfig : liveRtcConfig())
  const dc = pc.createDataChannel("bench", channelInit)
  const offer = await receiver.offer(expectBytes)
  await pc.setRemoteDescription({ type: "offer", sdp: offer })
  await pc.setLocalDescription(await pc.createAnswer())
  await gathered(pc)
  await receiver.answer(pc.localDescription!.sdp)
  if (dc.readyState !== "open")
    await new Promise<void>((resolve) => dc.stateChanged.subscribe((s) => s === "open" && resolve()))
  return { pc, dc }
}

function message(size: number, frame: number, last: boolean, sentMs: number) {
  const b = Buffer.alloc(size)
  b.writeUInt32BE(frame, 0)
  b.writeUInt8(last ? 1 : 0, 4)
  b.writeDoubleBE(sentMs, 5)
  return b
}

async function throughput(
  Pc: typeof WeriftPc,
  receiver: Receiver,
  loopback: boolean,
  size: number,
  mb: number,
) {
  const count = Math.ceil((mb * 1024 * 1024) / size)
  const { pc, dc } = await connect(Pc, receiver, count * size, loopback)
  const body = message(size, 0, false, 0)
  dc.bufferedAmountLowThreshold = 512 * 1024
  const cpu0 = process.cpuUsage()
  const start = now()
  const stopTrace = trace(pc, `${size / 1024} KiB`)
  for (let i = 0; i < count; i++) {
    if (dc.bufferedAmount > 1024 * 1024)
      await new Promise<void>((resolve) => {
        const sub = dc.bufferedAmountLow.subscribe(() => {
          sub.unSubscribe()
          resolve()
        })
      })
    dc.send(body)
  }
  const r = await receiver.result()
  const cpu = process.cpuUsage(cpu0)
  stopTrace()
  await pc.close()
  await receiver.close()
  return {
    sender_cpu_percent: round((cpu.user + cpu.system) / 10 / (r.last - start)),
    // CPU the sender spent per MB: less sensitive to the machine's other load than MB/s.
    sender_cpu_ms_per_mb: round((cpu.user + cpu.system) / 1000 / ((count * size) / 1e6)),
    mb_per_s: round((count * size) / 1e6 / ((r.last - start) / 1000)),
    seconds: round((r.last - start) / 1000),
  }
}

/**
 * With --trace: werift's congestion state every 5 ms (cwnd, bytes in flight, peer window, chunks queued, sent
 * and awaiting a SACK, marked for retransmission) and the T3-rtx expiries, to stderr.
 */
function trace(pc: WeriftPc, label: string) {
  if (!values.trace) return () => {}
  type Chunk = { retransmit: boolean }
  type SctpState = Record<"cwnd" | "flightSize" | "peerAdvertisedRwnd" | "rto", number> &
    Record<"outboundQueue" | "sentQueue", Chunk[]> & { timer3Expired: () => void }
  const sctp = (pc.sctpTransport as unknown as { sctp: SctpState }).sctp
  const t0 = now()
  const lines: string[] = []
  const expired = sctp.timer3Expired
  sctp.timer3Expired = () => {
    lines.push(`${Math.round(now() - t0)}ms T3-rtx expired`)
    expired()
  }
  const timer = setInterval(() => {
    const marked = sctp.sentQueue.filter((c) => c.retransmit).length
    lines.push(
      `${Math.round(now() - t0)}ms cwnd ${sctp.cwnd} flight ${sctp.flightSize} rwnd ${sctp.peerAdvertisedRwnd} ` +
        `queued ${sctp.outboundQueue.length} sent ${sctp.sentQueue.length} marked ${marked} rto ${sctp.rto}`,
    )
  }, 5)
  return () => {
    clearInterval(timer)
    process.stderr.write(`trace ${label}:\n${lines.join("\n")}\n`)
  }
}

/** Deterministic 720p30 frame sizes: 150 KB keyframe every 60 frames, P-frames 5–20 KB, a few up to 60 KB. */
function frameSizes(n: number): number[] {
  let s = 0x9e3779b9
  const rnd = () => (s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0) / 2 ** 32
  return Array.from({ length: n }, (_, i) =>
    i % 60 === 0 ? 150_000 : Math.round(rnd() < 0.05 ? 20_000 + rnd() * 40_000 : 5_000 + rnd() * 15_000),
  )
}
const sliceMax = 65_536 - 64
function sendFrame(dc: { send(b: Buffer): void }, index: number, size: number) {
  const t = now()
  for (let off = 0; off < size; off += sliceMax) {
    const len = Math.min(sliceMax, size - off)
    dc.send(message(Math.max(len, headerBytes), index, off + len >= size, t))
  }
}

async function live720p(Pc: typeof WeriftPc, receiver: Receiver, loopback: boolean, seconds: number) {
  const burst = frameSizes(30) // keyframe + 29 frames: the GOP cache of a viewer joining 1 s into the GOP
  const stream = frameSizes(seconds * 30 + 30).slice(30) // continues the GOP: next keyframe at frame 30
  const total = [...burst, ...stream].reduce((a, b) => a + Math.max(b, headerBytes), 0)
  const { pc, dc } = await connect(Pc, receiver, total, loopback)
  const stopTrace = trace(pc, "720p30")
  setTimeout(stopTrace, 400)
  const t0 = now()
  burst.forEach((size, i) => sendFrame(dc, i, size))
  for (let i = 0; i < stream.length; i++) {
    const due = t0 + ((i + 1) * 1000) / 30
    const wait = due - now()
    if (wait > 0) await sleep(wait)
    sendFrame(dc, burst.length + i, stream[i]!)
  }
  const r = await receiver.result()
  await pc.close()
  await receiver.close()
  const all = r.latencies.map(([, l]) => l)
  const first = r.latencies.filter(([sent]) => sent - t0 < 3000).map(([, l]) => l)
  const burstLatencies = all.slice(0, burst.length)
  return {
    frames: all.length,
    burst_done_ms: round(Math.max(...burstLatencies)),
    latency_p50_ms: round(quantile(all, 0.5)),
    latency_p99_ms: round(quantile(all, 0.99)),
    first_3s_latency_p99_ms: round(quantile(first, 0.99)),
    after_3s_latency_p99_ms: round(
      quantile(
        r.latencies.filter(([sent]) => sent - t0 >= 3000).map(([, l]) => l),
        0.99,
      ),
    ),
  }
}

const quantile = (xs: number[], q: number) => {
  if (xs.length === 0) return NaN
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!
}
const round = (x: number) => Math.round(x * 10) / 10

// ── Main ─────────────────────────────────────────────────────────────────────────────────────────────────
const { values } = parseArgs({
  options: {
    seconds: { type: "string", default: "10" },
    rounds: { type: "string", default: "2" },
    werift: { type: "string", default: "werift" },
    peers: { type: "string", default: "werift,chromium" },
    mb: { type: "string", default: "8" },
    trace: { type: "boolean", default: false },
    tests: { type: "string", default: "throughput_16k,throughput_64k,live_720p30" },
  },
})
let peers = values.peers.split(",")
const rootOk = process.getuid?.() === 0 && spawnSync("ip", ["-V"]).status === 0
if (peers.includes("chromium") && !process.env.VIGIL_BENCH_NETNS) {
  if (rootOk) {
    await rerunInNetns()
  }
  process.stderr.write(
    "werift→Chromium needs root and iproute2 (a network namespace); running werift→werift only\n",
  )
  peers = peers.filter((p) => p !== "chromium")
}

const specs = values.werift.split(",")
const builds = await Promise.all(
  specs.map(async (spec) => ({ spec, Pc: (await loadWerift(spec)).RTCPeerConnection })),
)
const seconds = Number(values.seconds)
const rounds = Number(values.rounds)
const mb = Number(values.mb)
const print = (line: string) => process.stdout.write(`${line}\n`)
print(
  `sctp bench — ${cpus().length} cores, node ${process.version}, peers ${peers.join(", ")}, ${rounds} round(s)`,
)

type Row = { peer: string; werift: string; round: number; test: string } & Record<string, number | string>
const rows: Row[] = []
const chromiumRx = peers.includes("chromium") ? await chromiumReceiver() : undefined
const weriftRx = new Map<string, Awaited<ReturnType<typeof weriftReceiver>>>()
try {
  for (let round = 1; round <= rounds; round++) {
    for (const peer of peers) {
      for (const { spec, Pc } of builds) {
        let rx: Receiver
        if (peer === "chromium") rx = chromiumRx!
        else {
          if (!weriftRx.has(spec)) weriftRx.set(spec, await weriftReceiver(spec))
          rx = weriftRx.get(spec)!
        }
        const loopback = peer === "werift"
        const add = (test: string, r: object) => {
          const row = { peer, werift: spec, round, test, ...r } as Row
          rows.push(row)
          print(JSON.stringify(row))
        }
        const tests = values.tests.split(",")
        if (tests.includes("throughput_16k"))
          add("throughput_16k", await throughput(Pc, rx, loopback, 16 * 1024, mb))
        if (tests.includes("throughput_64k"))
          add("throughput_64k", await throughput(Pc, rx, loopback, 64 * 1024, mb))
        if (tests.includes("live_720p30")) add("live_720p30", await live720p(Pc, rx, loopback, seconds))
      }
    }
  }
} finally {
  await chromiumRx?.kill()
  for (const rx of weriftRx.values()) rx.kill()
}

// Best of the rounds, and the spread, per peer × build × test.
const summary: Record<string, Record<string, unknown>> = {}
for (const row of rows) {
  const key = `${row.peer} ${row.werift} ${row.test}`
  const same = rows.filter((r) => `${r.peer} ${r.werift} ${r.test}` === key)
  const best: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(row)) {
    if (typeof v !== "number" || k === "round") continue
    const vs = same.map((r) => r[k] as number)
    const higherIsBetter = k === "mb_per_s"
    best[k] = higherIsBetter ? Math.max(...vs) : Math.min(...vs)
    best[`${k}_spread`] = vs
  }
  summary[key] = best
}
print("\nbest of rounds (spread in brackets):")
for (const [k, v] of Object.entries(summary)) {
  const figures = Object.entries(v)
    .filter(([f]) => !f.endsWith("_spread") && f !== "frames")
    .map(([f, x]) => `${f} ${x} [${(v[`${f}_spread`] as number[]).join(", ")}]`)
  print(`  ${k}: ${figures.join("; ")}`)
}
mkdirSync(join(root, "bench-results"), { recursive: true })
writeFileSync(
  join(root, "bench-results/sctp.json"),
  JSON.stringify(
    {
      bench: "sctp",
      date: new Date().toISOString(),
      machine: { cores: cpus().length, node: process.version },
      seconds,
      mb,
      summary,
      rows,
    },
    null,
    2,
  ) + "\n",
)
process.exit(0)
