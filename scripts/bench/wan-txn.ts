// Cross-shard txn commits under the simulated WAN (issue 20): every replica of every shard is
// delayed alike (wan.ts's fault switch, here on all shards, not only the bench shard), then txns
// of two puts at concurrency 1, in one shard and over two. A single-shard txn commits in one
// quorum round; a cross-shard one (parallel commits) needs a prepare round in each participant
// (in parallel), then the record's settle and the other commits (in parallel): the ratio of the
// p50s is the fan-out's cost.
import type { CellResult } from "./cell.ts";
import type { BenchStub, ReplicaInfo } from "./stats.ts";
import { applyProfile, uniform, type WanProfile } from "./wan.ts";

export interface TxnWanResult {
  profile: string;
  singleShardP50Ms: number | undefined;
  crossShardP50Ms: number | undefined;
  /** crossShardP50Ms / singleShardP50Ms. */
  ratio: number | undefined;
  cells: CellResult[];
}

export interface TxnWanContext {
  /** The replicas of every shard. */
  replicas: ReplicaInfo[];
  stubs: Map<string, BenchStub>;
  /** One long run of the cell at concurrency 1. */
  runTxn: (scenario: "txn1" | "txn2") => Promise<CellResult>;
}

/** The profile the txn ratio is measured under: one-way delays alike on every leg. */
export const txnWanProfile: WanProfile = uniform(60);

function byShard(replicas: ReplicaInfo[]): ReplicaInfo[][] {
  const shards = new Map<number, ReplicaInfo[]>();
  for (const r of replicas) shards.set(r.shard, [...(shards.get(r.shard) ?? []), r]);
  return [...shards.values()].map((rs) => rs.sort((a, b) => a.id.localeCompare(b.id)));
}

async function applyEverywhere(ctx: TxnWanContext, profile: WanProfile | undefined) {
  await Promise.all(byShard(ctx.replicas).map((rs) => applyProfile(rs, ctx.stubs, profile)));
}

const p50Of = (c: CellResult) => (c.runs.some((r) => r.ops > 0) ? c.p50Ms : undefined);

/** Both cells under the profile, clearing the delays at the end whatever happens. */
export async function runTxnWan(ctx: TxnWanContext): Promise<TxnWanResult> {
  try {
    await applyEverywhere(ctx, txnWanProfile);
    const single = await ctx.runTxn("txn1");
    const cross = await ctx.runTxn("txn2");
    const [a, b] = [p50Of(single), p50Of(cross)];
    return {
      profile: txnWanProfile.name,
      singleShardP50Ms: a,
      crossShardP50Ms: b,
      ratio: a === undefined || b === undefined || a === 0 ? undefined : b / a,
      cells: [single, cross],
    };
  } finally {
    await applyEverywhere(ctx, undefined);
  }
}
