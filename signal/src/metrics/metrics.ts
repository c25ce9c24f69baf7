/** Label values of one series, e.g. `{ route: "/v1/mailbox", status: "200" }`. */
export type Labels = Readonly<Record<string, string>>

function escapeLabel(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")
}

function seriesKey(labels: Labels): string {
  const names = Object.keys(labels).sort()
  if (names.length === 0) return ""
  return `{${names.map((n) => `${n}="${escapeLabel(labels[n] ?? "")}"`).join(",")}}`
}

/** A monotonically growing count, per label set. */
export class Counter {
  readonly name: string
  readonly help: string
  readonly #series = new Map<string, number>()

  constructor(name: string, help: string) {
    this.name = name
    this.help = help
  }

  inc(labels: Labels = {}, by = 1): void {
    const key = seriesKey(labels)
    this.#series.set(key, (this.#series.get(key) ?? 0) + by)
  }

  /** The current value of one series (tests). */
  get(labels: Labels = {}): number {
    return this.#series.get(seriesKey(labels)) ?? 0
  }

  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} counter`]
    for (const [key, value] of this.#series) lines.push(`${this.name}${key} ${value}`)
    return lines.join("\n")
  }
}

interface Gauge {
  name: string
  help: string
  collect: () => number | Promise<number>
}

/**
 * The relay's metrics in the Prometheus text exposition format (version 0.0.4), written by hand:
 * counters the code increments, and gauges read when scraped.
 */
export class Metrics {
  readonly #counters: Counter[] = []
  readonly #gauges: Gauge[] = []

  counter(name: string, help: string): Counter {
    const counter = new Counter(name, help)
    this.#counters.push(counter)
    return counter
  }

  gauge(name: string, help: string, collect: () => number | Promise<number>): void {
    this.#gauges.push({ name, help, collect })
  }

  async render(): Promise<string> {
    const parts = this.#counters.map((c) => c.render())
    for (const gauge of this.#gauges) {
      const value = await gauge.collect()
      parts.push(`# HELP ${gauge.name} ${gauge.help}\n# TYPE ${gauge.name} gauge\n${gauge.name} ${value}`)
    }
    return `${parts.join("\n")}\n`
  }
}

/** The counters the app increments; gauges are registered where their source lives. */
export interface RelayMetrics {
  registry: Metrics
  httpRequests: Counter
  rateLimited: Counter
  blobBytesIn: Counter
  blobBytesOut: Counter
  blobsDeleted: Counter
  wsConnections: Counter
  wsMessages: Counter
  mailboxMessages: Counter
  pushes: Counter
}

export function createRelayMetrics(): RelayMetrics {
  const registry = new Metrics()
  return {
    registry,
    httpRequests: registry.counter(
      "signal_http_requests_total",
      "HTTP requests by method, route template and status.",
    ),
    rateLimited: registry.counter(
      "signal_rate_limited_total",
      "Requests and frames refused by a rate limit.",
    ),
    blobBytesIn: registry.counter("signal_blob_upload_bytes_total", "Blob bytes accepted by uploads."),
    blobBytesOut: registry.counter("signal_blob_download_bytes_total", "Blob bytes served by downloads."),
    blobsDeleted: registry.counter(
      "signal_blobs_deleted_total",
      "Blob references released, by reason (acknowledged, retention, owner, orphan).",
    ),
    wsConnections: registry.counter("signal_ws_connections_total", "WebSocket connections accepted."),
    wsMessages: registry.counter("signal_ws_messages_total", "WebSocket frames by direction and kind."),
    mailboxMessages: registry.counter("signal_mailbox_messages_total", "Mailbox messages accepted."),
    pushes: registry.counter("signal_push_total", "Web Push deliveries by result."),
  }
}
