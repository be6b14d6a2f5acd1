// The cluster directory: the ring (shard count, epoch) and each shard's members as replicated
// data, kept in shard 0's state (the one shard every ring has). wrangler.toml seeds it once; a
// changed [vars] entry is compared with `seed`, never acted on (src/router reports it as
// pendingConfig). Changes are compare-and-set on the epoch, so two Workers seeding at once, or an
// operation racing another, can never both win.
import { storeLimits } from "./limits.ts";
import type { StoreState } from "./state.ts";
import type {
  ClusterOperation,
  ClusterSetCommand,
  ClusterTopology,
  NamespaceMoveRecord,
  ReshardProgress,
  WriteOutcome,
} from "./types.ts";
import { invalid } from "./validate.ts";

export function applyClusterSet(state: StoreState, c: ClusterSetCommand): WriteOutcome {
  const current = state.cluster;
  if ((current?.epoch ?? 0) !== c.ifEpoch) {
    return { type: "clusterSet", revision: state.revision, applied: false, topology: current };
  }
  const error = topologyError(c.topology, c.ifEpoch + 1);
  if (error !== null) return invalid(state, "cluster", error);
  state.revision += 1;
  state.cluster = canonicalTopology(c.topology);
  return { type: "clusterSet", revision: state.revision, applied: true, topology: state.cluster };
}

/** Why `t` is not a directory of epoch `epoch`, or null. */
export function topologyError(t: ClusterTopology, epoch: number): string | null {
  if (t.epoch !== epoch) return `the new directory must have epoch ${epoch}, got ${t.epoch}`;
  const n = t.shardCount;
  if (!Number.isSafeInteger(n) || n < 1 || n > storeLimits.clusterShardsMax)
    return `shardCount must be 1 to ${storeLimits.clusterShardsMax}`;
  // While a reshard runs the directory lists the shards of both rings (a grow adds them first).
  const resharding = t.operations.find((o) => o.kind === "reshard" && o.state === "running");
  const listed = Math.max(n, resharding?.reshard?.toShards ?? 0);
  if (t.shards.length !== listed) return `${t.shards.length} shards listed for shardCount ${n}`;
  const ids = new Set<string>();
  for (const [i, shard] of t.shards.entries()) {
    if (shard.index !== i) return `shard ${i} is listed with index ${shard.index}`;
    const { members } = shard;
    if (members.length === 0 || members.length > storeLimits.clusterMembersPerShardMax)
      return `shard ${i} needs 1 to ${storeLimits.clusterMembersPerShardMax} members`;
    if (!members.some((m) => m.voter)) return `shard ${i} has no voter`;
    for (const m of members) {
      if (m.id.length === 0 || ids.has(m.id)) return `member id ${JSON.stringify(m.id)} repeats`;
      ids.add(m.id);
    }
    if (!Number.isSafeInteger(shard.nextReplica) || shard.nextReplica < members.length)
      return `shard ${i}: nextReplica must be at least its member count`;
  }
  if (t.operations.length > storeLimits.clusterOperationsMax)
    return `at most ${storeLimits.clusterOperationsMax} operations are kept`;
  const opIds = new Set(t.operations.map((o) => o.id));
  if (opIds.size !== t.operations.length) return "operation ids repeat";
  for (const o of t.operations) {
    const running = t.operations.filter((x) => x.shard === o.shard && x.state === "running");
    if (running.length > 1) return `shard ${o.shard} has more than one running operation`;
  }
  return null;
}

/** A copy with fields in a fixed order, so equal directories give equal snapshot bytes. */
export function canonicalTopology(t: ClusterTopology): ClusterTopology {
  return {
    epoch: t.epoch,
    shardCount: t.shardCount,
    shards: t.shards.map((s) => ({
      index: s.index,
      members: s.members.map((m) => ({ id: m.id, location: m.location, voter: m.voter })),
      nextReplica: s.nextReplica,
    })),
    seed: {
      shardCount: t.seed.shardCount,
      replicasPerShard: t.seed.replicasPerShard,
      locations: [...t.seed.locations],
    },
    operations: t.operations.map(canonicalOperation),
  };
}

function canonicalOperation(o: ClusterOperation): ClusterOperation {
  const optional = <K extends keyof ClusterOperation>(k: K) =>
    o[k] === undefined ? {} : { [k]: o[k] };
  return {
    id: o.id,
    kind: o.kind,
    shard: o.shard,
    state: o.state,
    step: o.step,
    ...optional("replica"),
    ...optional("added"),
    ...optional("location"),
    ...optional("force"),
    ...optional("idempotencyKey"),
    progress: { done: o.progress.done, total: o.progress.total, unit: o.progress.unit },
    startedAtMs: o.startedAtMs,
    updatedAtMs: o.updatedAtMs,
    ...optional("finishedAtMs"),
    ...optional("error"),
    ...(o.reshard === undefined ? {} : { reshard: canonicalReshard(o.reshard) }),
  };
}

function canonicalReshard(r: ReshardProgress): ReshardProgress {
  return {
    fromShards: r.fromShards,
    toShards: r.toShards,
    move: r.move === null ? null : canonicalMove(r.move),
    ...(r.moves === undefined ? {} : { moves: r.moves.map(canonicalMove) }),
    ...(r.ringFenced === true ? { ringFenced: true as const } : {}),
    ...(r.pauseBuckets === undefined ? {} : { pauseBuckets: [...r.pauseBuckets] }),
    moved: r.moved,
    bytes: r.bytes,
    keys: r.keys,
    pauseMsMax: r.pauseMsMax,
    pausesMs: [...r.pausesMs],
  };
}

function canonicalMove(m: NamespaceMoveRecord): NamespaceMoveRecord {
  return {
    namespace: m.namespace,
    from: m.from,
    to: m.to,
    epoch: m.epoch,
    step: m.step,
    since: m.since,
    catchUps: m.catchUps,
    flippedAt: m.flippedAt,
    bytes: m.bytes,
    keys: m.keys,
    fencedAtMs: m.fencedAtMs,
    pauseMs: m.pauseMs,
  };
}
