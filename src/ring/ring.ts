// Namespace → shard.
//
// Choice: jump consistent hash (Lamping & Veach 2014) over a 64-bit string hash of the namespace
// (FNV-1a 64, then MurmurHash3's fmix64 so similar names spread).
//
// Why jump over the alternatives, for this system:
// - Shards are dense indexes s0..s{n-1}, and the ring only ever grows or shrinks at the end:
//   a shard is a Raft group that does not die when a machine does (its replicas are replaced
//   inside the group by membership change). Jump's one restriction — buckets can be added or
//   removed only at the end — therefore costs nothing here.
// - Balance: each shard gets 1/n of the namespaces in expectation, with the spread of a fair
//   random assignment. Virtual nodes need ~100-200 points per shard to get within ±10% and still
//   leave a tail; rendezvous matches jump's balance.
// - Movement: growing n → n+1 moves exactly the namespaces that land on the new shard, 1/(n+1)
//   in expectation, and never moves one between two old shards (the minimum any scheme can do).
// - Cost: no memory, no ring to build or keep in step across Workers, O(ln n) per lookup;
//   rendezvous is O(n) per lookup and virtual nodes need a sorted table of n × vnodes points.
// - Determinism: pure arithmetic, identical in Node and workerd, no randomness.
// When to revisit: weighted shards (different capacities) or removing a shard from the middle.
// Rendezvous (highest random weight) handles both at O(n) per lookup; the Topology type does
// not change, only `shardIndexFor`.
import { namespaceShard } from "../base/index.ts";
import type { ShardSpec, Topology } from "./topology.ts";

/** The index in [0, shardCount) of the shard that holds a namespace (src/base/jump.ts). */
export function shardIndexFor(namespace: string, shardCount: number): number {
  return namespaceShard(namespace, shardCount);
}

/** The shard that holds every key of a namespace. */
export function shardFor(namespace: string, topology: Topology): ShardSpec {
  const shard = topology.shards[shardIndexFor(namespace, topology.shardCount)];
  if (shard === undefined)
    throw new Error(`topology has ${topology.shards.length} shards, not ${topology.shardCount}`);
  return shard;
}
