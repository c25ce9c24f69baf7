import { describeRelayTransportContract } from "../../protocol/test/relayTransportContract.ts"
import { SignalClient } from "../../protocol/src/signalClient.ts"
import { startTestRelay } from "./harness.ts"

// The same cases MemoryRelay passes (protocol/src/memoryRelay.test.ts), against the real app over HTTP.
describeRelayTransportContract("signal over HTTP (SignalClient)", async (limits) => {
  let now = Date.now()
  const relay = await startTestRelay({ now: () => now, config: limits })
  return {
    transport: (options = {}) => new SignalClient({ baseUrl: relay.url, token: options.token }),
    advance: (ms) => {
      now += ms
    },
    close: () => relay.close(),
  }
})
