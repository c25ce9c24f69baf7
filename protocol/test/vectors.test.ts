import { webCryptoAead } from "../src/aead.ts"
import { describeEnvelopeVectors } from "./envelopeVectorSuite.ts"
import { describeFramingVectors } from "./vectorSuite.ts"

// WebCrypto is what phones use: this file runs in Node and in Chromium (see vitest.config.ts).
describeFramingVectors(webCryptoAead)
describeEnvelopeVectors(webCryptoAead)
