// The reshard operation (http-api.md "Cluster operations": POST /v1/cluster/reshard): a record in
// the directory like the membership operations (operations.ts), driven by whoever looks. The
// directory holds the old ring (`shardCount`) and, while a grow runs, the new shards' members; the
// record holds the new ring, the namespace moving now (its driver record, reshard-steps.ts) and
// the counts. Which namespaces are already moved is not listed: each old shard knows, as a flipped
// fence (src/store/moves-fence.ts), and answers with the new shard (the router follows). So the
// directory stays small whatever the number of namespaces, and a driver that restarts finds what
// is left by asking the shards which namespaces they still serve (servedNamespaces).
import { replicaName } from "../replica/index.ts";
import { shardIndexFor } from "../ring/index.ts";
import {
  systemNamespace,
  type ClusterOperation,
  type ClusterShard,
  type ClusterTopology,
} from "../store/index.ts";
import { ClusterOperationError } from "./operation-types.ts";
import { advanceMove, MoveError, newMove, type MoveIo } from "./reshard-steps.ts";

/** What driving a reshard needs besides the directory: the moves' I/O and a shard's namespaces. */
export interface ReshardIo extends MoveIo {
  servedNamespaces(shard: number): Promise<string[]>;
}

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

/** Pauses the record keeps, for their median: 256 numbers, a few KB of directory. */
const pausesKept = 256;

/** What one step changed: the record, and at the end the ring. */
export interface ReshardUpdate {
  operation: ClusterOperation;
  ring?: { shardCount: number; shards: ClusterShard[] };
}

/**
 * One step of a running reshard: the moving namespace's next step, else the next namespace to
 * move (looked up on the old shards), else the ring's change, which finishes the operation.
 */
export async function reshardStep(
  io: ReshardIo,
  topology: ClusterTopology,
  op: ClusterOperation,
): Promise<ReshardUpdate> {
  const r = op.reshard!;
  if (r.move !== null && r.move.step !== "done") {
    try {
      const move = await advanceMove(io, r.move);
      return { operation: { ...op, reshard: { ...r, move } } };
    } catch (error) {
      if (!(error instanceof MoveError)) throw error; // out of reach: driveSteps repeats it
      // A shard refused the move (a full target): the operation stops where it is; a namespace
      // past its fence stays fenced until an operator moves it on (docs/ARCHITECTURE.md).
      return { operation: { ...op, state: "failed", error: error.message } };
    }
  }
  const finished =
    r.move === null
      ? r
      : {
          ...r,
          move: null,
          moved: r.moved + 1,
          bytes: r.bytes + r.move.bytes,
          keys: r.keys + r.move.keys,
          pauseMsMax: Math.max(r.pauseMsMax, r.move.pauseMs),
          pausesMs: [...r.pausesMs, r.move.pauseMs].slice(-pausesKept),
        };
  const left = await namespacesToMove(io, r.fromShards, r.toShards);
  const progress = {
    done: finished.moved,
    total: finished.moved + left.length,
    unit: "namespaces",
  };
  const next = left[0];
  if (next !== undefined) {
    const move = newMove(next.namespace, next.from, next.to, topology.epoch + 1);
    return { operation: { ...op, progress, reshard: { ...finished, move } } };
  }
  const done: ClusterOperation = {
    ...op,
    step: "done",
    state: "done",
    progress,
    reshard: finished,
  };
  return {
    operation: done,
    ring: { shardCount: r.toShards, shards: topology.shards.slice(0, r.toShards) },
  };
}

async function namespacesToMove(
  io: ReshardIo,
  from: number,
  to: number,
): Promise<{ namespace: string; from: number; to: number }[]> {
  const out: { namespace: string; from: number; to: number }[] = [];
  for (let shard = 0; shard < from; shard++) {
    for (const namespace of await io.servedNamespaces(shard)) {
      const target = shardIndexFor(namespace, to);
      if (target !== shard) out.push({ namespace, from: shard, to: target });
    }
  }
  return out;
}
