// Who drives a cluster operation (src/router/operation-steps.ts): two looks at one operation in
// one isolate (`op wait` beside the request that started it) ask the shard once per step, not
// twice; a look that only watched takes over when the driver stops.
import { describe, expect, it } from "vitest";
import type { OperationsIo } from "../../src/router/operations.ts";
import { driveOperation } from "../../src/router/operation-steps.ts";
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
      servedNamespaces: async () => [],
      nowMs: () => Date.now(),
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
