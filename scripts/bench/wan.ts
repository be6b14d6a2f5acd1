// Simulated WAN: one-way delays between the replicas of the bench shard, set through each
// replica's fault switch (`setFaults`, reached through Miniflare's bindings), then CAS at
// concurrency 1. The physical floor of a commit is the quorum round trip: with 3 replicas the
// leader needs one follower's ack, so the floor is 2 × (one-way delay to its nearest follower).
import type { CellResult } from "./cell.ts";
import type { BenchStub, ReplicaInfo } from "./stats.ts";

/**
 * src/replica/faults.ts delays a message "before sending to a peer", and a reply travels as the
 * RPC's return value without a send of its own: one delay per RPC round trip. So the bench sets
 * it to the whole round trip, 2 × one-way. If the replica ever delays replies too, make this 1.
 */
const faultDelaysPerRoundTrip = 2;

export interface WanProfile {
  name: string;
  /** One-way delay between replica i and j of the shard (sorted by id), symmetric, in ms. */
  oneWayMs: (i: number, j: number) => number;
}

const uniform = (ms: number): WanProfile => ({ name: `uniform ${ms} ms`, oneWayMs: () => ms });

/** Three locations at 20, 60 and 120 ms one way from each other (a near pair, a mid and a far leg). */
const triangleLegsMs: Record<string, number> = { "0-1": 20, "0-2": 60, "1-2": 120 };
const triangle: WanProfile = {
  name: "triangle 20/60/120 ms",
  oneWayMs: (i, j) => triangleLegsMs[`${Math.min(i, j)}-${Math.max(i, j)}`] ?? 0,
};

export const wanProfiles: readonly WanProfile[] = [uniform(20), uniform(60), uniform(120), triangle];

export interface WanResult {
  profile: string;
  leader: string | undefined;
  /** 2 × one-way delay from the leader to its nearest follower. */
  quorumRttMs: number | undefined;
  commitP50Ms: number | undefined;
  ratio: number | undefined;
  cell?: CellResult;
  note?: string;
}

function faultsFor(self: number, replicas: ReplicaInfo[], profile: WanProfile) {
  const delayMsByPeer: Record<string, number> = {};
  replicas.forEach((peer, j) => {
    if (j !== self) delayMsByPeer[peer.id] = faultDelaysPerRoundTrip * profile.oneWayMs(self, j);
  });
  return { dropInbound: false, dropOutbound: false, stopped: false, delayMsByPeer };
}

export async function applyProfile(replicas: ReplicaInfo[], stubs: Map<string, BenchStub>, profile: WanProfile | undefined): Promise<void> {
  await Promise.all(
    replicas.map((r, i) => {
      const faults = profile === undefined ? { dropInbound: false, dropOutbound: false, stopped: false, delayMsByPeer: {} } : faultsFor(i, replicas, profile);
      return stubs.get(r.id)!.setFaults(faults);
    }),
  );
}

export function quorumRttMs(replicas: ReplicaInfo[], leaderId: string | undefined, profile: WanProfile): number | undefined {
  const leader = replicas.findIndex((r) => r.id === leaderId);
  if (leader < 0 || replicas.length < 2) return undefined;
  const followers = replicas.map((_, j) => j).filter((j) => j !== leader);
  // A majority is ⌊n/2⌋ followers besides the leader: for 3 replicas, the nearest one.
  const sorted = followers.map((j) => profile.oneWayMs(leader, j)).sort((a, b) => a - b);
  return 2 * sorted[Math.floor(replicas.length / 2) - 1]!;
}

export interface WanContext {
  /** The bench shard's replicas, sorted by id. */
  replicas: ReplicaInfo[];
  stubs: Map<string, BenchStub>;
  leader: () => Promise<string | undefined>;
  /** CAS on distinct keys at concurrency 1. */
  runCas: () => Promise<CellResult>;
}

async function runProfile(ctx: WanContext, profile: WanProfile): Promise<WanResult> {
  const leaderBefore = await ctx.leader();
  await applyProfile(ctx.replicas, ctx.stubs, profile);
  const cell = await ctx.runCas();
  const leaderAfter = await ctx.leader();
  const rtt = quorumRttMs(ctx.replicas, leaderAfter, profile);
  const p50 = cell.runs.some((r) => r.ops > 0) ? cell.p50Ms : undefined;
  const note = leaderBefore !== leaderAfter ? "leadership moved during the cell" : undefined;
  const ratio = p50 !== undefined && rtt !== undefined && rtt > 0 ? p50 / rtt : undefined;
  return { profile: profile.name, leader: leaderAfter, quorumRttMs: rtt, commitP50Ms: p50, ratio, cell, ...(note ? { note } : {}) };
}

/** Every profile in turn, clearing the delays at the end whatever happens. */
export async function runWan(ctx: WanContext, profiles: readonly WanProfile[]): Promise<WanResult[]> {
  const results: WanResult[] = [];
  try {
    for (const profile of profiles) results.push(await runProfile(ctx, profile));
  } finally {
    await applyProfile(ctx.replicas, ctx.stubs, undefined);
  }
  return results;
}
