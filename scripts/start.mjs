// `npm start`: signal (serving the PWA) + a hub with the synthetic camera, on their embedded defaults.
import { spawn } from "node:child_process"
import { createInterface } from "node:readline"
import { buildWebIfStale } from "./lib/buildWeb.mjs"
import { requirePrograms } from "./lib/prereqs.mjs"

const root = new URL("..", import.meta.url).pathname
const port = process.env.SIGNAL_PORT ?? "8080"
requirePrograms(["ffmpeg"])
buildWebIfStale()

const level = process.env.LOG_LEVEL ?? "warn"
// The hub's output reaches this terminal through a pipe: it may print the pairing link here (it never does
// into a service's log by default).
const env = {
  ...process.env,
  LOG_LEVEL: level,
  SIGNAL_LOG_LEVEL: process.env.SIGNAL_LOG_LEVEL ?? level,
  VIGIL_PAIRING_LINK_ON_STDOUT: "1",
}
const children = []

function run(name, args, onLine, { stdin = "ignore" } = {}) {
  const child = spawn(process.execPath, ["--import", "tsx", ...args], {
    cwd: root,
    env,
    stdio: [stdin, "pipe", "inherit"],
  })
  children.push(child)
  createInterface({ input: child.stdout }).on("line", onLine)
  child.on("exit", (code, signal) => {
    if (!stopping) {
      console.error(`${name} stopped (${signal ?? `exit code ${code}`}); shutting down.`)
      stop(1)
    }
  })
  return child
}

let stopping = false
function stop(code = 0) {
  if (stopping) return
  stopping = true
  for (const c of children) c.kill("SIGTERM")
  setTimeout(() => process.exit(code), 3000).unref()
  Promise.all(children.map((c) => new Promise((r) => (c.exitCode !== null ? r() : c.on("exit", r))))).then(
    () => process.exit(code),
  )
}
process.on("SIGINT", () => stop(0))
process.on("SIGTERM", () => stop(0))

run("signal", ["signal/src/server.ts", "--port", port, "--web-root", "web/dist"], (line) => {
  const m = /signal listening on (\S+)/.exec(line)
  if (!m) return console.log(`[signal] ${line}`)
  const url = m[1]
  console.log(`Vigil is running. Open ${url} in Chromium on this machine to use the app.`)
  console.log(
    "Live view works on this network only; to watch from anywhere, run coturn beside signal: see docs/07-remote-access.md",
  )
  console.log(
    "To pair: open the app, tap Add camera, pick the hub by its name, check that the code matches the one",
  )
  console.log(
    'printed here, then type y and Enter in this terminal (type "pair" later to add another phone).',
  )
  // The hub asks this terminal to confirm pairing codes: it gets our stdin.
  run("hub", ["hub/src/cli.ts", "start", "--signal", url], (hubLine) => console.log(hubLine), {
    stdin: "inherit",
  })
})
