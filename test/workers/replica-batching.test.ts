// DO-to-DO requests per committed write: one RPC per follower per round, commit piggybacked on
// the next append, concurrent proposals batched into one append.
import { describe, expect, it } from "vitest";
import { freshGroup, leaderOf, putCommand, ensureAll } from "./replica-harness.ts";
import type { ReplicaStats } from "../../src/replica/stats.ts";
import { replicaDefaults } from "../../src/replica/config.ts";

async function totals(stubs: { stats(): Promise<ReplicaStats> }[]) {
  const all = await Promise.all(stubs.map((s) => s.stats()));
  return {
    rpcs: all.reduce((n, s) => n + s.rpcsSent, 0),
    transactions: all.reduce((n, s) => n + s.storageTransactions, 0),
    ticks: Math.max(...all.map((s) => s.alarmsFired)),
  };
}

/**
 * DO requests per write, not counting the heartbeats the run's length allows (one per follower
 * per heartbeat interval of the leader's ticks): on a busy machine the same writes take longer
 * and more heartbeats go out meanwhile, which says nothing about batching.
 */
function perWriteOf(before: Totals, after: Totals, writes: number): number {
  const heartbeats =
    2 * Math.ceil((after.ticks - before.ticks) / replicaDefaults.heartbeatIntervalTicks);
  return Math.max(0, after.rpcs - before.rpcs - heartbeats) / writes;
}
type Totals = Awaited<ReturnType<typeof totals>>;

describe("batching", { timeout: 30_000 }, () => {
  it("one writer: at most ~2 DO requests per committed write", async () => {
    const g = freshGroup(3);
    await ensureAll(g);
    const leader = await leaderOf(g);
    const before = await totals(g.stubs);
    const writes = 100;
    const started = Date.now();
    for (let i = 0; i < writes; i++) {
      const answer = await g.stubs[leader]!.propose(
        g.addrs[leader]!,
        putCommand(`ns/k${i % 10}`, `v${i}`),
      );
      expect(answer.type).toBe("applied");
    }
    const ms = Date.now() - started;
    const after = await totals(g.stubs);
    const perWrite = perWriteOf(before, after, writes);
    console.log(
      `one writer: ${writes} writes in ${ms} ms, ${perWrite.toFixed(2)} DO requests/write, ` +
        `${((after.transactions - before.transactions) / writes).toFixed(2)} storage transactions/write (all replicas)`,
    );
    expect(perWrite).toBeLessThanOrEqual(2.2);
  });

  it("64 concurrent writers: at most ~0.5 DO requests per committed write", async () => {
    const g = freshGroup(3);
    await ensureAll(g);
    const leader = await leaderOf(g);
    const before = await totals(g.stubs);
    const writers = 64;
    const perWriter = 10;
    const started = Date.now();
    await Promise.all(
      Array.from({ length: writers }, async (_, w) => {
        for (let i = 0; i < perWriter; i++) {
          const answer = await g.stubs[leader]!.propose(
            g.addrs[leader]!,
            putCommand(`ns/w${w}`, `v${i}`),
          );
          expect(answer.type).toBe("applied");
        }
      }),
    );
    const ms = Date.now() - started;
    const after = await totals(g.stubs);
    const writes = writers * perWriter;
    const perWrite = perWriteOf(before, after, writes);
    console.log(
      `${writers} writers: ${writes} writes in ${ms} ms (${Math.round((writes / ms) * 1000)}/s), ` +
        `${perWrite.toFixed(3)} DO requests/write, ${((after.transactions - before.transactions) / writes).toFixed(3)} storage transactions/write`,
    );
    expect(perWrite).toBeLessThanOrEqual(0.5);
  });

  it("a slow follower does not slow commits: the leader waits for a quorum, not for everyone", async () => {
    const g = freshGroup(3);
    await ensureAll(g);
    const leader = await leaderOf(g);
    const slow = g.addrs[(leader + 1) % 3]!.self;
    await g.stubs[leader]!.setFaults({ delayMsByPeer: { [slow]: 1_000 } });
    const started = Date.now();
    for (let i = 0; i < 10; i++) {
      expect(
        (await g.stubs[leader]!.propose(g.addrs[leader]!, putCommand("ns/k", `v${i}`))).type,
      ).toBe("applied");
    }
    const ms = Date.now() - started;
    console.log(`10 writes with one follower 1 s away: ${ms} ms`);
    expect(ms).toBeLessThan(9_000); // waiting for the slow follower would take ≥ 10 s
    await g.stopAll();
  });
});
