// The public surface of src/ring: namespace → shard placement and the topology it places onto.
export { shardFor, shardIndexFor } from "./ring.ts";
export {
  parseTopology,
  buildShards,
  TopologyError,
  locationHints,
  shardCountMax,
  replicasPerShardMax,
} from "./topology.ts";
export type { LocationHint, ReplicaSpec, ShardSpec, Topology } from "./topology.ts";
export {
  fmix64,
  fnv1a64,
  fnv1a64Hex,
  jumpConsistentHash,
  namespaceKey,
} from "../base/index.ts";
