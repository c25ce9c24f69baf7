import { describeEnvelopeVectors } from "../../protocol/test/envelopeVectorSuite.ts"
import { describeFramingVectors } from "../../protocol/test/vectorSuite.ts"
import { nodeAead } from "../src/crypto/nodeAead.ts"

// The hub seals clips, live frames and pushes with node:crypto; it must produce the checked-in bytes exactly.
describeFramingVectors(nodeAead)
describeEnvelopeVectors(nodeAead)
