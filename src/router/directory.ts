// The cluster directory as the router sees it: the topology shard 0 keeps (src/store/cluster.ts),
// seeded from wrangler.toml [vars] by the first router that finds none, and what a changed [vars]
// entry would change (pendingConfig). The router acts only on the stored directory: a changed
// SHARDS, REPLICAS_PER_SHARD or REPLICA_LOCATIONS moves no data and creates no replica.
import { replicaName, type GroupSpec, type MemberSpec } from "../replica/index.ts";
import type { Topology } from "../ring/index.ts";
import type { ClusterTopology } from "../store/index.ts";
import type { PendingChange } from "./types.ts";

/** The reserved namespace of the directory; always on shard 0, whatever the ring says. */
export const clusterNamespace = "_cluster";

export const directoryLimits = {
  /** How long an isolate uses the directory it read before reading it again, ms. */
  freshMsMax: 10_000,
} as const;

/**
 * The first replica of shard 0 exists in every store that was ever used (every seed has one), so
 * it is where a router with no directory asks first, by name, without creating anything.
 */
export function anchorId(prefix: string): string {
  return `${prefix}${replicaName("s0-r0", 1)}`;
}

/** The directory a fresh store starts with: the [vars] topology, shard 0 as it already exists. */
export function seedTopology(
  vars: Topology,
  prefix: string,
  shard0: MemberSpec[] | null,
): ClusterTopology {
  const shards = vars.shards.map((s) => {
    const members =
      s.index === 0 && shard0 !== null
        ? shard0.map((m) => ({ id: m.id, location: m.location, voter: true }))
        : s.replicas.map((r) => ({
            id: `${prefix}${replicaName(r.replicaId, 1)}`,
            location: r.location ?? "",
            voter: true,
          }));
    return { index: s.index, members, nextReplica: Math.max(members.length, s.replicas.length) };
  });
  return {
    epoch: 1,
    shardCount: vars.shardCount,
    shards,
    seed: {
      shardCount: vars.shardCount,
      replicasPerShard: vars.replicasPerShard,
      locations: [...vars.locations],
    },
    operations: [],
  };
}

/** The Raft group of a shard as the directory has it (voters and learners alike). */
export function groupFromDirectory(topology: ClusterTopology, shard: number): GroupSpec {
  const s = topology.shards[shard];
  if (s === undefined) throw new Error(`the directory has no shard ${shard}`);
  return { shard, members: s.members.map((m) => ({ id: m.id, location: m.location })) };
}

/** The changed [vars] entries (none while wrangler.toml says what the store was seeded with). */
export function pendingConfigOf(
  vars: Topology,
  stored: ClusterTopology,
  raftGeneration: string | undefined,
): PendingChange[] {
  const changes: PendingChange[] = [];
  const { seed } = stored;
  // Against the ring in force, not the seed: after a reshard, SHARDS set to the new count is no
  // longer pending (before resharding existed the two never differed).
  if (vars.shardCount !== stored.shardCount) {
    changes.push({
      variable: "SHARDS",
      stored: stored.shardCount,
      configured: vars.shardCount,
      apply:
        `the store keeps its ${stored.shardCount} shards; move its namespaces onto ` +
        `${vars.shardCount} shards online with \`edgecfg cluster reshard --shards ` +
        `${vars.shardCount} --wait\`, or set SHARDS back to ${stored.shardCount} in ` +
        "wrangler.toml to clear this",
    });
  }
  if (vars.replicasPerShard !== seed.replicasPerShard) {
    changes.push({
      variable: "REPLICAS_PER_SHARD",
      stored: seed.replicasPerShard,
      configured: vars.replicasPerShard,
      apply:
        "each shard keeps its members: add or remove replicas one at a time with `edgecfg " +
        "cluster replica add --shard N --location L --wait` (or `replica remove ID --shard N`), " +
        `then set REPLICAS_PER_SHARD back to ${seed.replicasPerShard} to clear this`,
    });
  }
  if (vars.locations.join(",") !== seed.locations.join(",")) {
    changes.push({
      variable: "REPLICA_LOCATIONS",
      stored: seed.locations.join(","),
      configured: vars.locations.join(","),
      apply:
        "replicas stay where they were created: move one with `edgecfg cluster replica replace " +
        "ID --shard N --location L --wait`, then set REPLICA_LOCATIONS back to " +
        `"${seed.locations.join(",")}" to clear this`,
    });
  }
  if (raftGeneration !== undefined && raftGeneration !== "" && raftGeneration !== "1") {
    changes.push({
      variable: "RAFT_GENERATION",
      stored: 1,
      configured: raftGeneration,
      apply:
        "no longer read: replica ids come from the directory and are never reused, so no " +
        "setting can start empty groups beside the stored ones; remove it from wrangler.toml",
    });
  }
  return changes;
}
