// Who drives a cluster operation (src/router/operation-steps.ts): two looks at one operation in
// one isolate (`op wait` beside the request that started it) ask the shard once per step, not
// twice; a look that only watched takes over when the driver stops.
import { describe, expect, it } from "vitest";
import type { OperationsIo } from "../../src/router/operations.ts";
import { driveOperation } from "../../src/router/operation-steps.ts";
import { planReshard } from "../../src/router/reshard-plan.ts";
import { shardIndexFor } from "../../src/ring/index.ts";
import type { ReplicaStatusReport } from "../../src/replica/index.ts";
import type { ClusterOperation, ClusterTopology } from "../../src/store/index.ts";

const members = ["a", "b", "c"].map((id) => ({ id, location: "", voter: true }));

function transferOp(id: string): ClusterOperation {
  return {
    id,
    kind: "transferLeader",
    shard: 0,
    state: "running",
    step: "transfer",
    replica: "b",
    progress: { done: 0, total: 1, unit: "steps" },
    startedAtMs: Date.now(),
    updatedAtMs: Date.now(),
  };
}

/** A shard whose leadership moves to b after `transfersNeeded` transfer calls; counts its calls. */
function fakeShard(op: ClusterOperation, transfersNeeded: number) {
  let topology: ClusterTopology = {
    epoch: 1,
    shardCount: 1,
    shards: [{ index: 0, members, nextReplica: 3 }],
    seed: { shardCount: 1, replicasPerShard: 3, locations: [] },
    operations: [op],
  } as ClusterTopology;
  const calls = { leader: 0, transfer: 0, leaderAtOnceMax: 0 };
  let leaderInFlight = 0;
  const status = (id: string): ReplicaStatusReport =>
    ({ id, role: "leader", members, learners: [], appliedMembers: ["a", "b", "c"] }) as never;
  const io: OperationsIo = {
    directory: async () => topology,
    commit: async (next) => {
      topology = next;
      return { applied: true, topology };
    },
    leader: async () => {
      calls.leader++;
      calls.leaderAtOnceMax = Math.max(calls.leaderAtOnceMax, ++leaderInFlight);
      await new Promise((resolve) => setTimeout(resolve, 20)); // a round trip to the shard
      leaderInFlight--;
      return status(calls.transfer >= transfersNeeded ? "b" : "a");
    },
    status: async (id) => status(id),
    changeMembership: async () => ({ type: "ok" }) as never,
    transfer: async () => {
      calls.transfer++;
      return { type: "ok" } as never;
    },
    join: async () => undefined,
    retire: async () => undefined,
    reshard: {
      exportChunk: async () => {
        throw new Error("no reshard here");
      },
      propose: async () => {
        throw new Error("no reshard here");
      },
      servedNamespaces: async () => ({ namespaces: [], total: 0 }),
      nowMs: () => Date.now(),
      txnInTheWay: async () => {
        throw new Error("no reshard here");
      },
    },
    prefix: "",
    nowMs: () => Date.now(),
    newId: () => "op-x",
  };
  return { io, calls };
}

describe("operation drivers in one isolate", () => {
  it("a second look at a driven operation watches: the shard is asked once per step", async () => {
    const { io, calls } = fakeShard(transferOp("op-two-looks"), 3);
    const deadline = Date.now() + 10_000;
    const [a, b] = await Promise.all([
      driveOperation(io, "op-two-looks", deadline),
      driveOperation(io, "op-two-looks", deadline),
    ]);
    expect(a?.state).toBe("done");
    expect(b?.state).toBe("done");
    // Never two steps at once, and three steps that asked for a transfer and a fourth that saw b
    // lead: one driver's calls.
    expect(calls).toEqual({ leader: 4, transfer: 3, leaderAtOnceMax: 1 });
  });

  it("a look that watched takes over when the driver's time is up, and finishes", async () => {
    const { io, calls } = fakeShard(transferOp("op-take-over"), 4);
    const [short, long] = await Promise.all([
      driveOperation(io, "op-take-over", Date.now() + 150),
      driveOperation(io, "op-take-over", Date.now() + 10_000),
    ]);
    expect(short?.state).toBe("running");
    expect(long?.state).toBe("done");
    expect(calls.transfer).toBe(4);
  });
});

describe("planning a reshard", () => {
  const member = (id: string) => ({ id, location: "", voter: true });
  const topology = (epoch: number, shardCount: number): ClusterTopology => ({
    epoch,
    shardCount,
    shards: Array.from({ length: shardCount }, (_, index) => ({
      index,
      members: [0, 1, 2].map((r) => member(`s${index}-r${r}/g1`)),
      nextReplica: 3,
    })),
    seed: { shardCount: 2, replicasPerShard: 3, locations: [] },
    operations: [],
  });
  const base: ClusterOperation = {
    id: "op-1",
    kind: "reshard",
    shard: 0,
    state: "running",
    step: "start",
    progress: { done: 0, total: 0, unit: "namespaces" },
    startedAtMs: 0,
    updatedAtMs: 0,
  };

  it("gives the shards a grow adds replica ids never used before, even for a shard index that comes back", () => {
    const first = planReshard(topology(4, 2), 4, base, "p-");
    const again = planReshard(topology(9, 2), 4, base, "p-"); // after a shrink back to 2
    const ids = (p: ReturnType<typeof planReshard>) =>
      p.shards.slice(2).flatMap((s) => s.members.map((m) => m.id));
    expect(ids(first)).toEqual([
      "p-s2-r0/g5",
      "p-s2-r1/g5",
      "p-s2-r2/g5",
      "p-s3-r0/g5",
      "p-s3-r1/g5",
      "p-s3-r2/g5",
    ]);
    for (const id of ids(again)) expect(ids(first)).not.toContain(id);
    expect(first.operation).toMatchObject({
      state: "running",
      reshard: { fromShards: 2, toShards: 4 },
    });
  });

  it("refuses a second operation, and a shrink that would remove the shard of tokens and settings", () => {
    const busy = { ...topology(3, 2), operations: [{ ...base, kind: "addReplica" as const }] };
    expect(() => planReshard(busy, 3, base, "")).toThrow(/op-1 \(addReplica\) is running/);
    const system = shardIndexFor("_sys", 2);
    if (system > 0)
      expect(() => planReshard(topology(3, 2), system, base, "")).toThrow(/cannot shrink below/);
  });
});
