import { describeFramingVectors } from "../../protocol/test/vectorSuite.ts"
import { nodeAead } from "../src/crypto/nodeAead.ts"

// The hub seals clips and live frames with node:crypto; it must produce the checked-in bytes exactly.
describeFramingVectors(nodeAead)
