/**
 * Child-process entry that runs the CenterNet detector away from the hub's event loop, so a 0.5 s inference
 * never stalls capture, live view or delivery, and a crash or leak in the WASM runtime cannot take the hub
 * down. Spoken to only by childProcessDetector.ts over Node IPC; the messages are defined there.
 */
import { loadCenterNetDetector, type CenterNetOptions } from "./centerNetDetector.ts"
import type { ObjectDetector } from "./objectDetector.ts"
import type { ChildReply, ChildRequest } from "./childProcessDetector.ts"

function send(reply: ChildReply): void {
  process.send?.(reply)
}

if (!process.send) {
  process.stderr.write("detectorChild.ts runs as a child process of the hub (it needs an IPC channel)\n")
  process.exit(2)
}
// The parent going away (even by SIGKILL) closes the channel: leave with it.
process.on("disconnect", () => process.exit(0))

let detector: ObjectDetector | undefined
process.on("message", (request: ChildRequest) => {
  switch (request.kind) {
    case "load":
      loadDetector(request.options)
      break
    case "detect": {
      const image = { width: request.width, height: request.height, data: request.pixels }
      if (!detector) {
        send({ kind: "error", id: request.id, message: "the model is not loaded" })
        break
      }
      detector.detect(image).then(
        (detections) => send({ kind: "result", id: request.id, detections }),
        (error: unknown) => send({ kind: "error", id: request.id, message: (error as Error).message }),
      )
      break
    }
  }
})

function loadDetector(options: CenterNetOptions): void {
  loadCenterNetDetector(options).then(
    (loaded) => {
      detector = loaded
      send({ kind: "ready", name: loaded.name })
    },
    (error: unknown) => send({ kind: "failed", message: (error as Error).message }),
  )
}
