// The reshard operation (http-api.md "Cluster operations": POST /v1/cluster/reshard): a record in
// the directory like the membership operations (operations.ts), driven by whoever looks. The
// directory holds the old ring (`shardCount`) and, while a grow runs, the new shards' members; the
// record holds the new ring, the namespace moving now (its driver record, reshard-steps.ts) and
// the counts. Which namespaces are already moved is not listed: each old shard knows, as a flipped
// fence (src/store/moves-fence.ts), and answers with the new shard (the router follows). So the
// directory stays small whatever the number of namespaces, and a driver that restarts finds what
// is left by asking the shards which namespaces they still serve (servedNamespaces), a batch at a
// time. Before the ring changes, every shard it leaves takes a ring fence (moves-ring.ts) and is
// looked at once more: a namespace first written there after the last look cannot stay behind.
// The plan of a new reshard is reshard-plan.ts.
import { shardIndexFor } from "../ring/index.ts";
import type {
  Leaving,
  NamespaceMoveRecord,
  ReshardProgress,
  ServedNamespaces,
  ClusterOperation,
  ClusterShard,
  ClusterTopology,
} from "../store/index.ts";
import { advanceMove, MoveError, newMove, type MoveIo } from "./reshard-steps.ts";

/** What driving a reshard needs besides the directory: the moves' I/O and a shard's namespaces. */
export interface ReshardIo extends MoveIo {
  /** The namespaces `shard` serves that the new ring puts elsewhere (moves-export.ts). */
  servedNamespaces(shard: number, leaving: Leaving): Promise<ServedNamespaces>;
}

/** Pauses the record keeps, for their median: 256 numbers, a few KB of directory. */
const pausesKept = 256;

export const reshardLimits = {
  /**
   * Namespaces moved side by side. Each step of a move saves the record (a directory write, a
   * Raft round of shard 0), so moving them one at a time cost ~7 directory writes each: 10,000
   * namespaces took 954 s locally. Eight share those writes; more only queue on the one core.
   */
  namespacesAtOnce: 8,
} as const;

/**
 * Upper bounds of the pause histogram's buckets, ms (the last bucket is everything above): the
 * record keeps a count per bucket, so the p99 covers every namespace moved, not the latest 256.
 */
export const pauseBucketsMs = [
  10, 20, 30, 40, 50, 75, 100, 150, 200, 250, 300, 400, 500, 600, 800, 1_000, 1_500, 2_000, 3_000,
  5_000,
];

/**
 * The 99th percentile of every pause, as the upper bound of its histogram bucket (the max when
 * that is the last bucket); undefined for a record of a release that kept no histogram.
 */
export function pauseP99(r: ReshardProgress): number | undefined {
  const buckets = r.pauseBuckets;
  if (buckets === undefined) return undefined;
  const total = buckets.reduce((sum, n) => sum + n, 0);
  let seen = 0;
  for (let i = 0; i < buckets.length; i++) {
    seen += buckets[i]!;
    if (seen >= Math.ceil(total * 0.99))
      return Math.min(pauseBucketsMs[i] ?? r.pauseMsMax, r.pauseMsMax);
  }
  return 0;
}

/** What one step changed: the record, and at the end the ring. */
export interface ReshardUpdate {
  operation: ClusterOperation;
  ring?: { shardCount: number; shards: ClusterShard[] };
}

/**
 * One step of a running reshard: the moving namespaces' next steps, else the next namespaces to
 * move (looked up on the old shards), else the ring fence on every shard the ring leaves (then
 * one more look), else the ring's change, which finishes the operation.
 */
export async function reshardStep(
  io: ReshardIo,
  topology: ClusterTopology,
  op: ClusterOperation,
): Promise<ReshardUpdate> {
  const r = op.reshard!;
  const batch = r.moves ?? (r.move === null ? [] : [r.move]);
  if (batch.some((m) => m.step !== "done")) {
    // Each move keeps its own progress: one out of reach does not make the others repeat theirs.
    const tries = await Promise.allSettled(batch.map((m) => advanceMove(io, m)));
    const failed = tries.filter((t) => t.status === "rejected").map((t) => t.reason as unknown);
    const refused = failed.find((e) => e instanceof MoveError);
    // A shard refused a move (a full target): the operation stops where it is; a namespace
    // past its fence stays fenced until an operator moves it on (docs/ARCHITECTURE.md).
    if (refused !== undefined)
      return { operation: { ...op, state: "failed", error: (refused as Error).message } };
    if (failed.length === tries.length) throw failed[0]; // out of reach: driveSteps repeats it
    const moves = tries.map((t, i) => (t.status === "fulfilled" ? t.value : batch[i]!));
    return { operation: { ...op, reshard: { ...r, move: null, moves } } };
  }
  const finished = withMoved(r, batch);
  const left = await namespacesToMove(io, r.fromShards, r.toShards);
  const total = Math.max(op.progress.total, finished.moved + left.total);
  const progress = { done: finished.moved, total, unit: "namespaces" };
  const epoch = topology.epoch + 1;
  if (left.next.length > 0) {
    const moves = left.next.map((n) => newMove(n.namespace, n.from, n.to, epoch));
    return { operation: { ...op, progress, reshard: { ...finished, moves } } };
  }
  if (finished.ringFenced !== true) {
    await fenceTheRing(io, r, epoch);
    return { operation: { ...op, progress, reshard: { ...finished, ringFenced: true } } };
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

/** The record with a finished batch counted in: moved, bytes, keys, pauses. */
function withMoved(r: ReshardProgress, batch: NamespaceMoveRecord[]): ReshardProgress {
  const buckets = [...(r.pauseBuckets ?? pauseBucketsMs.map(() => 0).concat(0))];
  for (const m of batch) {
    const i = pauseBucketsMs.findIndex((upper) => m.pauseMs <= upper);
    buckets[i === -1 ? pauseBucketsMs.length : i]! += 1;
  }
  const pauses = batch.map((m) => m.pauseMs);
  return {
    ...r,
    move: null,
    moves: [],
    moved: r.moved + batch.length,
    bytes: r.bytes + batch.reduce((sum, m) => sum + m.bytes, 0),
    keys: r.keys + batch.reduce((sum, m) => sum + m.keys, 0),
    pauseMsMax: Math.max(r.pauseMsMax, ...pauses),
    pausesMs: [...r.pausesMs, ...pauses].slice(-pausesKept),
    pauseBuckets: buckets,
  };
}

/**
 * Every shard the ring leaves stops taking namespaces it does not serve and the new ring puts
 * elsewhere (moves-ring.ts): one first written after the last look would otherwise stay behind.
 */
async function fenceTheRing(io: ReshardIo, r: ReshardProgress, epoch: number): Promise<void> {
  await Promise.all(
    Array.from({ length: r.fromShards }, async (_, shard) => {
      const command = {
        type: "ringFence" as const,
        atMs: io.nowMs(),
        ...{ epoch, shardCount: r.toShards, shard },
      };
      const outcome = await io.propose(shard, command);
      if (outcome.type !== "namespaceMove")
        throw new Error(`shard ${shard} answered its ring fence with ${outcome.type}`);
    }),
  );
}

/**
 * The next namespaces to move (a batch), and how many are left on the shards that answered. A
 * shard out of reach holds up only the end: the batch comes from the others, but "none left"
 * needs every shard's answer (else this throws, and driveSteps looks again).
 */
async function namespacesToMove(
  io: ReshardIo,
  from: number,
  to: number,
): Promise<{ next: { namespace: string; from: number; to: number }[]; total: number }> {
  const limit = reshardLimits.namespacesAtOnce;
  const looks = await Promise.allSettled(
    Array.from({ length: from }, (_, shard) =>
      io.servedNamespaces(shard, { shardCount: to, shard, limit }),
    ),
  );
  const next = looks
    .flatMap((look, shard) =>
      look.status === "rejected"
        ? []
        : look.value.namespaces.map((namespace) => ({
            namespace,
            from: shard,
            to: shardIndexFor(namespace, to),
          })),
    )
    .slice(0, limit);
  const unanswered = looks.find((look) => look.status === "rejected");
  if (next.length === 0 && unanswered !== undefined) throw unanswered.reason;
  const total = looks.reduce((sum, l) => sum + (l.status === "fulfilled" ? l.value.total : 0), 0);
  return { next, total };
}
