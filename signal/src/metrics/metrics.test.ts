import { describe, expect, it } from "vitest"
import { Metrics } from "./metrics.ts"

describe("Metrics", () => {
  it("renders counters with escaped labels and gauges in the text format", async () => {
    const metrics = new Metrics()
    const requests = metrics.counter("x_requests_total", "Requests.")
    requests.inc({ route: "/a", status: "200" })
    requests.inc({ status: "200", route: "/a" }, 2)
    requests.inc({ route: 'we"ird\\\n', status: "404" })
    metrics.gauge("x_depth", "Depth.", async () => 42)
    expect(requests.get({ route: "/a", status: "200" })).toBe(3)
    expect(await metrics.render()).toBe(
      [
        "# HELP x_requests_total Requests.",
        "# TYPE x_requests_total counter",
        'x_requests_total{route="/a",status="200"} 3',
        'x_requests_total{route="we\\"ird\\\\\\n",status="404"} 1',
        "# HELP x_depth Depth.",
        "# TYPE x_depth gauge",
        "x_depth 42",
        "",
      ].join("\n"),
    )
  })
})
