/**
 * `npm run bench:signal`: load figures of the relay, measured against a real `server.ts` process on
 * 127.0.0.1. Prints them and writes bench-results/signal.json (repo root). Figures, not assertions.
 *
 *   1. WebSocket connections held at once (default 10,000; BENCH_WS_CONNECTIONS), authenticated, from
 *      source addresses 127.0.0.1–127.0.0.8, and the server's resident memory per connection.
 *   2. Mailbox throughput: messages sent over HTTP by a hub and delivered live over a WebSocket to a
 *      phone (BENCH_MAILBOX_MESSAGES, default 5,000), with p50/p99 send-to-delivery latency.
 *   3. Blob upload and download MB/s on loopback (BENCH_BLOB_MIB MiB in 16 MiB blobs, default 128).
 *
 * The npm script raises the open-file limit to the hard limit first; each side needs one descriptor
 * per connection.
 */
import { spawn, type ChildProcess } from "node:child_process"
import { createHash, randomBytes } from "node:crypto"
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises"
import { Agent, request } from "node:http"
import { createRequire } from "node:module"
import { cpus, tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"
import { WebSocket } from "ws"

const root = fileURLToPath(new URL("../..", import.meta.url))
const wsTarget = Number(process.env.BENCH_WS_CONNECTIONS ?? 10_000)
const mailboxMessages = Number(process.env.BENCH_MAILBOX_MESSAGES ?? 5_000)
const blobMiB = Number(process.env.BENCH_BLOB_MIB ?? 128)
const sourceAddresses = Array.from({ length: 8 }, (_, i) => `127.0.0.${i + 1}`)
/** The whole run is bounded: past this the server is killed and the bench fails. */
const deadlineMs = 10 * 60 * 1000

function say(line: string): void {
  process.stdout.write(`${line}\n`)
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN
}

const round = (n: number, digits = 1): number => Math.round(n * 10 ** digits) / 10 ** digits

async function rssOf(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, "utf8")
  const kb = /^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1]
  if (kb === undefined) throw new Error("no VmRSS")
  return Number(kb) * 1024
}

async function startServer(dataDir: string): Promise<{ child: ChildProcess; url: string }> {
  const configPath = join(dataDir, "bench-config.json")
  await writeFile(
    configPath,
    JSON.stringify({
      rateLimitPerAddress: { perSecond: 0, burst: 1 },
      rateLimitPerDevice: { perSecond: 0, burst: 1 },
      maxWsConnections: wsTarget + 1000,
      maxWsPerDevice: wsTarget,
      maxMailboxMessages: mailboxMessages + 1000,
      sweepIntervalMs: 0,
    }),
  )
  // `node --import tsx` rather than the tsx CLI, which would run the server in a child process of
  // its own: the pid must be the server's, for its resident memory.
  const tsxLoader = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href
  const child = spawn(
    process.execPath,
    [
      "--import",
      tsxLoader,
      join(root, "signal/src/server.ts"),
      "--port",
      "0",
      "--data-dir",
      dataDir,
      "--config",
      configPath,
    ],
    { env: { ...process.env, SIGNAL_LOG_LEVEL: "warn" }, stdio: ["ignore", "pipe", "inherit"] },
  )
  const url = await new Promise<string>((resolve, reject) => {
    let out = ""
    child.stdout?.on("data", (chunk: Buffer) => {
      out += chunk.toString()
      const match = /signal listening on (\S+)/.exec(out)
      if (match?.[1] !== undefined) resolve(match[1])
    })
    child.once("exit", (code) => reject(new Error(`server exited with ${code}`)))
  })
  return { child, url }
}

async function json(url: string, init: RequestInit = {}): Promise<Record<string, string>> {
  const res = await fetch(url, init)
  if (!res.ok) throw new Error(`${init.method ?? "GET"} ${url}: ${res.status} ${await res.text()}`)
  return (await res.json()) as Record<string, string>
}

interface Device {
  deviceId: string
  token: string
}

async function register(url: string, kind: "hub" | "phone"): Promise<Device> {
  return (await json(`${url}/v1/devices`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ kind }),
  })) as unknown as Device
}

/** Opens one authenticated socket; resolves once the relay answered `ready`. */
function openSocket(wsUrl: string, token: string, localAddress: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(wsUrl, { localAddress, perMessageDeflate: false })
    ws.once("error", reject)
    ws.once("open", () => ws.send(JSON.stringify({ kind: "auth", token })))
    ws.once("message", (data) => {
      const frame = JSON.parse(String(data)) as { kind: string }
      if (frame.kind === "ready") resolve(ws)
      else reject(new Error(`auth answered ${String(data)}`))
    })
  })
}

async function benchConnections(url: string, pid: number) {
  const wsUrl = `${url.replace(/^http/, "ws")}/v1/ws`
  const devices = await Promise.all(Array.from({ length: 100 }, () => register(url, "phone")))
  const sockets: WebSocket[] = []
  const open = async (count: number) => {
    let next = 0
    let failures = 0
    const worker = async () => {
      while (next < count) {
        const i = sockets.length + next++
        const device = devices[i % devices.length] as Device
        try {
          sockets.push(
            await openSocket(wsUrl, device.token, sourceAddresses[i % sourceAddresses.length] as string),
          )
        } catch {
          failures++
        }
      }
    }
    await Promise.all(Array.from({ length: 100 }, worker))
    return failures
  }
  // Warm up first so the baseline includes the code paths and buffers every connection shares.
  const warm = Math.min(200, wsTarget)
  await open(warm)
  await new Promise((r) => setTimeout(r, 1000))
  const rssBefore = await rssOf(pid)
  const started = performance.now()
  const failures = await open(wsTarget - warm)
  const connectSeconds = (performance.now() - started) / 1000
  // Hold, then check every socket still answers.
  await new Promise((r) => setTimeout(r, 3000))
  const rssAfter = await rssOf(pid)
  let alive = 0
  await Promise.all(
    sockets.map(
      (ws) =>
        new Promise<void>((resolve) => {
          if (ws.readyState !== WebSocket.OPEN) return resolve()
          const timer = setTimeout(resolve, 20_000)
          ws.once("message", () => {
            alive++
            clearTimeout(timer)
            resolve()
          })
          ws.send('{"kind":"ping"}')
        }),
    ),
  )
  const held = alive
  const perConnection = (rssAfter - rssBefore) / Math.max(1, sockets.length - warm)
  for (const ws of sockets) ws.terminate()
  return { held, failures, connectSeconds, rssBefore, rssAfter, perConnection }
}

async function benchMailbox(url: string) {
  const hub = await register(url, "hub")
  const phone = await register(url, "phone")
  const { spaceId } = await json(`${url}/v1/spaces`, {
    method: "POST",
    headers: { authorization: `Bearer ${hub.token}` },
  })
  await fetch(`${url}/v1/spaces/${spaceId}/members/${phone.deviceId}`, {
    method: "PUT",
    headers: { authorization: `Bearer ${hub.token}` },
  })
  const ws = await openSocket(`${url.replace(/^http/, "ws")}/v1/ws`, phone.token, "127.0.0.1")
  const latencies: number[] = []
  let lastSeq = 0
  let done: () => void = () => {}
  const finished = new Promise<void>((r) => (done = r))
  ws.on("message", (data) => {
    const frame = JSON.parse(String(data)) as { kind: string; messages?: { seq: number; body: string }[] }
    if (frame.kind !== "mailbox" || frame.messages === undefined) return
    const now = performance.timeOrigin + performance.now()
    for (const m of frame.messages) {
      latencies.push(now - Buffer.from(m.body, "base64").readDoubleBE(0))
      lastSeq = m.seq
    }
    if (latencies.length % 500 < frame.messages.length)
      ws.send(JSON.stringify({ kind: "ack", upTo: lastSeq }))
    if (latencies.length >= mailboxMessages) done()
  })
  ws.send(JSON.stringify({ kind: "subscribe", after: 0 }))
  const agent = new Agent({ keepAlive: true, maxSockets: 32 })
  const target = new URL(`${url}/v1/devices/${phone.deviceId}/mailbox`)
  const post = (body: Buffer) =>
    new Promise<void>((resolve, reject) => {
      const req = request(
        target,
        {
          method: "POST",
          agent,
          headers: { authorization: `Bearer ${hub.token}`, "content-type": "application/octet-stream" },
        },
        (res) => {
          res.resume()
          res.on("end", () =>
            res.statusCode === 201 ? resolve() : reject(new Error(`send: ${res.statusCode}`)),
          )
        },
      )
      req.on("error", reject)
      req.end(body)
    })
  const started = performance.now()
  let sent = 0
  await Promise.all(
    Array.from({ length: 32 }, async () => {
      while (sent < mailboxMessages) {
        sent++
        const body = Buffer.alloc(256)
        body.writeDoubleBE(performance.timeOrigin + performance.now(), 0)
        await post(body)
      }
    }),
  )
  await finished
  const seconds = (performance.now() - started) / 1000
  ws.close()
  agent.destroy()
  const sorted = [...latencies].sort((a, b) => a - b)
  return {
    perSecond: mailboxMessages / seconds,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
  }
}

async function benchBlobs(url: string) {
  const hub = await register(url, "hub")
  const { spaceId } = await json(`${url}/v1/spaces`, {
    method: "POST",
    headers: { authorization: `Bearer ${hub.token}` },
  })
  const size = 16 * 1024 * 1024
  const count = Math.max(1, Math.round(blobMiB / 16))
  const blobs = Array.from({ length: count }, () => {
    const bytes = randomBytes(size)
    return { bytes, blobId: createHash("sha256").update(bytes).digest("hex") }
  })
  const auth = { authorization: `Bearer ${hub.token}` }
  let started = performance.now()
  for (const { bytes, blobId } of blobs) {
    const res = await fetch(`${url}/v1/spaces/${spaceId}/blobs/${blobId}`, {
      method: "PUT",
      headers: { ...auth, "content-type": "application/octet-stream" },
      body: bytes,
    })
    if (res.status !== 201) throw new Error(`upload: ${res.status}`)
  }
  const uploadSeconds = (performance.now() - started) / 1000
  started = performance.now()
  await Promise.all(
    blobs.map(async ({ bytes, blobId }) => {
      const res = await fetch(`${url}/v1/spaces/${spaceId}/blobs/${blobId}`, { headers: auth })
      const got = Buffer.from(await res.arrayBuffer())
      if (got.byteLength !== bytes.byteLength) throw new Error("short download")
    }),
  )
  const downloadSeconds = (performance.now() - started) / 1000
  const mb = (count * size) / 1e6
  return { count, bytes: count * size, uploadMBps: mb / uploadSeconds, downloadMBps: mb / downloadSeconds }
}

async function main(): Promise<void> {
  const dataDir = await mkdtemp(join(tmpdir(), "vigil-signal-bench-"))
  const { child, url } = await startServer(dataDir)
  const pid = child.pid ?? 0
  const deadline = setTimeout(() => {
    say(`bench: not done after ${deadlineMs / 1000} s, giving up`)
    child.kill("SIGKILL")
    process.exit(1)
  }, deadlineMs)
  deadline.unref()
  try {
    say(`signal bench: ${url}, ${cpus().length} cores, Node ${process.version}`)
    const ws = await benchConnections(url, pid)
    say(
      `websockets: ${ws.held}/${wsTarget} held (${ws.failures} failed to open) in ${round(ws.connectSeconds)} s; ` +
        `server RSS ${round(ws.rssBefore / 2 ** 20)} → ${round(ws.rssAfter / 2 ** 20)} MiB, ` +
        `${Math.round(ws.perConnection)} bytes per connection`,
    )
    const mailbox = await benchMailbox(url)
    say(
      `mailbox: ${Math.round(mailbox.perSecond)} messages/s (HTTP send → WebSocket delivery, 256 B), ` +
        `latency p50 ${round(mailbox.p50)} ms, p99 ${round(mailbox.p99)} ms`,
    )
    const blobs = await benchBlobs(url)
    say(
      `blobs: ${blobs.count} × 16 MiB, upload ${round(blobs.uploadMBps)} MB/s (fsync'd), ` +
        `download ${round(blobs.downloadMBps)} MB/s`,
    )
    const results = {
      date: new Date().toISOString(),
      machine: { cores: cpus().length, node: process.version, platform: process.platform },
      ws_connections_target: wsTarget,
      ws_connections_held: ws.held,
      ws_connections_failed: ws.failures,
      ws_connect_seconds: round(ws.connectSeconds, 2),
      ws_rss_bytes_before: ws.rssBefore,
      ws_rss_bytes_after: ws.rssAfter,
      ws_rss_bytes_per_connection: Math.round(ws.perConnection),
      mailbox_messages: mailboxMessages,
      mailbox_messages_per_second: Math.round(mailbox.perSecond),
      mailbox_latency_p50_ms: round(mailbox.p50, 2),
      mailbox_latency_p99_ms: round(mailbox.p99, 2),
      blob_count: blobs.count,
      blob_bytes: blobs.bytes,
      blob_upload_mb_per_s: round(blobs.uploadMBps),
      blob_download_mb_per_s: round(blobs.downloadMBps),
    }
    await mkdir(join(root, "bench-results"), { recursive: true })
    await writeFile(join(root, "bench-results", "signal.json"), `${JSON.stringify(results, null, 2)}\n`)
    say("wrote bench-results/signal.json")
  } finally {
    child.kill("SIGTERM")
    await new Promise((r) => child.once("exit", r))
    await rm(dataDir, { recursive: true, force: true })
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    say(`bench failed: ${err instanceof Error ? err.stack : String(err)}`)
    process.exit(1)
  },
)
