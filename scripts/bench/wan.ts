// Simulated WAN: one-way delays between the replicas of the bench shard, set through each
// replica's fault switch (`setFaults`, reached through Miniflare's bindings), then CAS at
// concurrency 1. The physical floor of a commit is the quorum round trip: with 3 replicas the
// leader needs one follower's ack, so the floor is 2 × (one-way delay to its nearest follower).
// The delay is a timer inside the leader, and this runtime's timers fire late (a 40 ms timer in a
// Durable Object takes ~42 ms here), so the floor the verdict uses is that round trip as the
// runtime delivers it: measured in the same run by timing a DO that sleeps that long (the bare
// Worker's /sleep) against one that does not. The nominal ratio is reported beside it.
import { Agent } from "undici";
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

export const uniform = (ms: number): WanProfile => ({
  name: `uniform ${ms} ms`,
  oneWayMs: () => ms,
});

/** Three locations at 20, 60 and 120 ms one way from each other (a near pair, a mid and a far leg). */
const triangleLegsMs: Record<string, number> = { "0-1": 20, "0-2": 60, "1-2": 120 };
const triangle: WanProfile = {
  name: "triangle 20/60/120 ms",
  oneWayMs: (i, j) => triangleLegsMs[`${Math.min(i, j)}-${Math.max(i, j)}`] ?? 0,
};

export const wanProfiles: readonly WanProfile[] = [
  uniform(20),
  uniform(60),
  uniform(120),
  triangle,
];

export interface WanResult {
  profile: string;
  leader: string | undefined;
  /** 2 × one-way delay from the leader to its nearest follower, as configured. */
  quorumRttMs: number | undefined;
  /** The same delay as this runtime's timers deliver it (the floor the ratio uses), when measured. */
  deliveredRttMs?: number | undefined;
  /** Commit p50 over the configured round trip. */
  nominalRatio?: number | undefined;
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

export async function applyProfile(
  replicas: ReplicaInfo[],
  stubs: Map<string, BenchStub>,
  profile: WanProfile | undefined,
): Promise<void> {
  await Promise.all(
    replicas.map((r, i) => {
      const faults =
        profile === undefined
          ? { dropInbound: false, dropOutbound: false, stopped: false, delayMsByPeer: {} }
          : faultsFor(i, replicas, profile);
      return stubs.get(r.id)!.setFaults(faults);
    }),
  );
}

export function quorumRttMs(
  replicas: ReplicaInfo[],
  leaderId: string | undefined,
  profile: WanProfile,
): number | undefined {
  const leader = replicas.findIndex((r) => r.id === leaderId);
  if (leader < 0 || replicas.length < 2) return undefined;
  const followers = replicas.map((_, j) => j).filter((j) => j !== leader);
  // A majority is ⌊n/2⌋ followers besides the leader: for 3 replicas, the nearest one.
  const sorted = followers.map((j) => profile.oneWayMs(leader, j)).sort((a, b) => a - b);
  return 2 * sorted[Math.floor(replicas.length / 2) - 1]!;
}

/** How long a DO timer of `ms` really takes, from outside: p50 of /sleep?ms=N minus /sleep?ms=0. */
export type DelayProbe = (ms: number) => Promise<number>;

export function delayProbe(bareOrigin: string): DelayProbe {
  const samples = 15;
  const p50 = async (agent: Agent, ms: number) => {
    const times: number[] = [];
    for (let i = 0; i < samples; i++) {
      const started = performance.now();
      const res = await agent.request({
        origin: bareOrigin,
        path: `/sleep?ms=${ms}`,
        method: "GET",
      });
      await res.body.text();
      if (res.statusCode !== 200) throw new Error(`/sleep answered ${res.statusCode}`);
      times.push(performance.now() - started);
    }
    return times.sort((a, b) => a - b)[Math.floor(samples / 2)]!;
  };
  return async (ms) => {
    const agent = new Agent({ connections: 1 });
    try {
      return (await p50(agent, ms)) - (await p50(agent, 0));
    } finally {
      await agent.close();
    }
  };
}

export interface WanContext {
  /** The bench shard's replicas, sorted by id. */
  replicas: ReplicaInfo[];
  stubs: Map<string, BenchStub>;
  leader: () => Promise<string | undefined>;
  /** CAS on distinct keys at concurrency 1. */
  runCas: () => Promise<CellResult>;
  /** Calibrates the floor; without it the nominal round trip is the floor. */
  probe?: DelayProbe;
}

async function runProfile(ctx: WanContext, profile: WanProfile): Promise<WanResult> {
  const leaderBefore = await ctx.leader();
  await applyProfile(ctx.replicas, ctx.stubs, profile);
  const cell = await ctx.runCas();
  const leaderAfter = await ctx.leader();
  const rtt = quorumRttMs(ctx.replicas, leaderAfter, profile);
  const delivered = rtt === undefined || ctx.probe === undefined ? undefined : await ctx.probe(rtt);
  const p50 = cell.runs.some((r) => r.ops > 0) ? cell.p50Ms : undefined;
  const note = leaderBefore !== leaderAfter ? "leadership moved during the cell" : undefined;
  const over = (floor: number | undefined) =>
    p50 !== undefined && floor !== undefined && floor > 0 ? p50 / floor : undefined;
  return {
    profile: profile.name,
    leader: leaderAfter,
    quorumRttMs: rtt,
    deliveredRttMs: delivered,
    commitP50Ms: p50,
    ratio: over(delivered ?? rtt),
    nominalRatio: over(rtt),
    cell,
    ...(note ? { note } : {}),
  };
}

/** Every profile in turn, clearing the delays at the end whatever happens. */
export async function runWan(
  ctx: WanContext,
  profiles: readonly WanProfile[],
): Promise<WanResult[]> {
  const results: WanResult[] = [];
  try {
    for (const profile of profiles) results.push(await runProfile(ctx, profile));
  } finally {
    await applyProfile(ctx.replicas, ctx.stubs, undefined);
  }
  return results;
}
