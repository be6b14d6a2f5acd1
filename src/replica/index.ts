// The public surface of src/replica: the ReplicaDO class, its RPC contract with the router
// (rpc.ts), and how a group's members are named. The router imports only this.
export { ReplicaDO, type ReplicaEnv } from "./replica-do.ts";
export { replicaName, type GroupSpec, type MemberSpec } from "./group.ts";
export type { ReplicaVars } from "./config.ts";
export { replicaStub, stubOptionsFor } from "./stubs.ts";
export {
  encodeAddress,
  rpcStubOf,
  rpcVersion,
  type AddressOnWire,
  type ProposeAnswer,
  type ReadAnswer,
  type ReadRequest,
  type Remote,
  type ReplicaAddress,
  type ReplicaRpc,
  type ReplicaStatusReport,
  type Unserved,
  type WaitAnswer,
  type WaitRequestOnReplica,
} from "./rpc.ts";
