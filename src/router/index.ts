// The public surface of src/router: the Router the API talks to, its errors and consistency
// tokens, and the backend the Worker's vars choose. The API and the Worker entry import only this.
export { routerFor, type BackendEnv } from "./backend.ts";
export { pauseP99 } from "./reshard-operation.ts";
export {
  FaultError,
  type FaultAction,
  type FaultWindow,
  type ReplicaFaults,
} from "./fault-types.ts";
export {
  ClusterOperationError,
  type OperationRequest,
  type OperationStart,
} from "./operation-types.ts";
export {
  BadTokenError,
  ShardUnavailableError,
  formatToken,
  formatTokens,
  parseToken,
  revisionFor,
  routerLimits,
  type ClusterStatus,
  type ConsistencyToken,
  type PendingChange,
  type Read,
  type ReadOptions,
  type ReplicaStatus,
  type Router,
  type ShardStatus,
  type WaitRequest,
  type Waited,
  type Written,
} from "./types.ts";
export {
  partsOf,
  recoverIntent,
  runCrossShardTxn,
  txnCoordinatorLimits,
  type CoordinatorIo,
  type CrossShardAnswer,
  type CrossShardTxn,
} from "./txn-coordinator.ts";
export { intentLimits, systemIo } from "./intents.ts";
