// The plan of a new reshard (http-api.md "Cluster operations": POST /v1/cluster/reshard): its
// record in the directory, and the shards a grow adds, seeded as the first start seeds them.
// Driving it is reshard-operation.ts; a namespace's move is reshard-steps.ts.
import { replicaName } from "../replica/index.ts";
import { shardIndexFor } from "../ring/index.ts";
import {
  systemNamespace,
  type ClusterOperation,
  type ClusterShard,
  type ClusterTopology,
} from "../store/index.ts";
import { ClusterOperationError } from "./operation-types.ts";

/** A new reshard to `shards`: its record, and the directory shards it needs (a grow adds some). */
export function planReshard(
  topology: ClusterTopology,
  shards: number,
  base: ClusterOperation,
  prefix: string,
): { operation: ClusterOperation; shards: ClusterShard[] } {
  const running = topology.operations.find((o) => o.state === "running");
  if (running !== undefined) {
    throw new ClusterOperationError(
      409,
      `operation ${running.id} (${running.kind}) is running; a reshard needs the cluster to ` +
        `itself: wait for it: edgecfg cluster op wait ${running.id}`,
    );
  }
  const from = topology.shardCount;
  const system = shardIndexFor(systemNamespace, topology.seed.shardCount);
  if (system >= shards) {
    throw new ClusterOperationError(
      409,
      `shard ${system} keeps the tokens and namespace settings (_sys), which a reshard does not ` +
        `move: the ring cannot shrink below ${system + 1} shards`,
    );
  }
  const reshard = {
    ...{ fromShards: from, toShards: shards, move: null, moved: 0, bytes: 0, keys: 0 },
    ...{ pauseMsMax: 0, pausesMs: [] },
  };
  const operation: ClusterOperation = {
    ...base,
    shard: 0,
    step: shards === from ? "done" : "reshard",
    ...(shards === from ? { state: "done" as const, finishedAtMs: base.startedAtMs } : {}),
    progress: { done: 0, total: 0, unit: "namespaces" },
    reshard,
  };
  return { operation, shards: [...topology.shards, ...newShards(topology, shards, prefix)] };
}

/**
 * Shards from the old count up to `shards`, seeded as the first start seeds (directory.ts), but
 * of generation `epoch + 1`: a shard index a shrink once removed comes back with new replica ids
 * (ids are never reused, and the old objects keep their fences to redirect stale routers).
 */
function newShards(topology: ClusterTopology, shards: number, prefix: string): ClusterShard[] {
  const { replicasPerShard, locations } = topology.seed;
  const added: ClusterShard[] = [];
  for (let index = topology.shards.length; index < shards; index++) {
    const members = Array.from({ length: replicasPerShard }, (_, r) => ({
      id: `${prefix}${replicaName(`s${index}-r${r}`, topology.epoch + 1)}`,
      location: locations[r] ?? "",
      voter: true,
    }));
    added.push({ index, members, nextReplica: replicasPerShard });
  }
  return added;
}
