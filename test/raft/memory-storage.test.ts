import { MemoryStorage } from "../../src/raft/memory-storage.ts";
import { describeLogStorageContract } from "./storage-contract.ts";

describeLogStorageContract("MemoryStorage", () => new MemoryStorage());
