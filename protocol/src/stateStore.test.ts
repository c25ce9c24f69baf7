import { describeStateStoreContract, type ContractRecords } from "../test/stateStoreContract.ts"
import { MemoryStateStore } from "./stateStore.ts"

describeStateStoreContract("memory", async () => new MemoryStateStore<ContractRecords>(), {
  persistent: false,
})
