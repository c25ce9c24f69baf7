/**
 * A recording TCP proxy, run inside the test's network namespace in front of signal: every byte between
 * the hub or the phone and signal passes through it and is appended to a capture file, so a spec can show
 * what signal was ever given. Usage: tsx netnsProxy.ts <target port> <capture file>; prints
 * "proxy listening on http://127.0.0.1:PORT".
 */
import { createWriteStream } from "node:fs"
import { connect, createServer } from "node:net"

const [targetPort, capturePath] = process.argv.slice(2)
if (!targetPort || !capturePath) {
  process.stderr.write("usage: netnsProxy.ts <target port> <capture file>\n")
  process.exit(2)
}
const capture = createWriteStream(capturePath)
const server = createServer((client) => {
  const upstream = connect(Number(targetPort), "127.0.0.1")
  client.on("data", (b) => capture.write(b))
  upstream.on("data", (b) => capture.write(b))
  client.pipe(upstream)
  upstream.pipe(client)
  client.on("error", () => upstream.destroy())
  upstream.on("error", () => client.destroy())
})
server.listen(0, "127.0.0.1", () => {
  const address = server.address()
  if (address && typeof address === "object") {
    process.stdout.write(`proxy listening on http://127.0.0.1:${address.port}\n`)
  }
})
process.on("SIGTERM", () => capture.end(() => process.exit(0)))
