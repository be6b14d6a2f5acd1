// The public surface of the consensus core.
export * from "./types.ts";
export * from "./storage.ts";
export { AssertionError } from "./assert.ts";
export {
  encodeConfChange,
  decodeConfChange,
  applyConfChange,
  confChangeError,
} from "./confchange.ts";
export { MemoryStorage } from "./memory-storage.ts";
export { defaultRaftConfig, messageBytesCeiling } from "./config.ts";
export {
  RawNode,
  bootstrap,
  bootstrapIndex,
  type BasicStatus,
  type Status,
  type ProgressStatus,
  type ProposeResult,
  type ProposeRefusal,
} from "./rawnode.ts";
export type { ProgressState } from "./progress.ts";
