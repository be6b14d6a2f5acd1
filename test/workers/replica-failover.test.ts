// Failover in workerd: replicas evicted and restarted, a leader lost, a replica partitioned. No
// acknowledged write is lost, a new leader serves writes, and a lagging replica catches up from
// the log or, once the log was compacted, from a snapshot.
import { evictDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { replicaDefaults } from "../../src/replica/config.ts";
import type { ReplicaStats } from "../../src/replica/stats.ts";
import {
  appliedEverywhere,
  freshGroup,
  leaderOf,
  putCommand,
  readText,
  write,
  type TestGroup,
  ensureAll,
  others,
  replicaEnv,
} from "./replica-harness.ts";

/** Writes keys ns/k{from}..ns/k{to-1} with value = index; returns the acknowledged indexes. */
async function writeKeys(
  g: TestGroup,
  from: number,
  to: number,
  among?: number[],
): Promise<number[]> {
  const acked: number[] = [];
  for (let i = from; i < to; i++) {
    const outcome = await write(
      g,
      putCommand(`ns/k${i}`, String(i), { idempotencyKey: `k${i}` }),
      5_000,
      among,
    );
    expect(outcome.type).toBe("ok");
    acked.push(i);
  }
  return acked;
}

async function expectAllPresent(g: TestGroup, reader: number, acked: number[]): Promise<void> {
  for (const i of acked) expect(await readText(g, reader, `ns/k${i}`)).toBe(String(i));
}

describe("failover", { timeout: 30_000 }, () => {
  it("replicas evicted one by one, then all at once, restart from their logs; nothing acknowledged is lost", async () => {
    const g = freshGroup(3);
    await ensureAll(g);
    const acked = await writeKeys(g, 0, 10);
    for (const stub of g.stubs) {
      await evictDurableObject(stub).catch(() => undefined); // "not running" is fine: already gone
      acked.push(...(await writeKeys(g, acked.length, acked.length + 2)));
    }
    await Promise.all(g.stubs.map((s) => evictDurableObject(s).catch(() => undefined)));
    acked.push(...(await writeKeys(g, acked.length, acked.length + 2)));
    await appliedEverywhere(g, acked.length);
    for (const reader of [0, 1, 2]) await expectAllPresent(g, reader, acked);
    await g.stopAll();
  });

  it("losing the leader: a new leader serves writes, acknowledged writes survive (time to recover is logged)", async () => {
    const g = freshGroup(3);
    await ensureAll(g);
    const acked = await writeKeys(g, 0, 10);
    const oldLeader = await leaderOf(g);
    const survivors = others(oldLeader);
    const ticksBefore = await Promise.all(survivors.map((i) => g.stubs[i]!.stats()));

    await g.stubs[oldLeader]!.setFaults({ stopped: true });
    const lostAt = Date.now();
    acked.push(...(await writeKeys(g, 10, 11, survivors)));
    const recoveredMs = Date.now() - lostAt;
    const ticksAfter = await Promise.all(survivors.map((i) => g.stubs[i]!.stats()));
    const ticks = Math.max(
      ...survivors.map((_, j) => ticksAfter[j]!.alarmsFired - ticksBefore[j]!.alarmsFired),
    );
    console.log(
      `leader lost → next committed write: ${recoveredMs} ms, ${ticks} ticks on the busiest survivor ` +
        `(tick ${replicaDefaults.tickMs} ms, election timeout ${replicaDefaults.electionTimeoutTicks}–${2 * replicaDefaults.electionTimeoutTicks} ticks)`,
    );

    const newLeader = await leaderOf(g, survivors);
    expect(newLeader).not.toBe(oldLeader);
    acked.push(...(await writeKeys(g, 11, 15, survivors)));
    await expectAllPresent(g, newLeader, acked);

    // The old leader comes back as a follower and catches up.
    await g.stubs[oldLeader]!.setFaults({ stopped: false });
    await appliedEverywhere(g, acked.length);
    expect(await readText(g, oldLeader, "ns/k14", "stale")).toBe("14");
    await g.stopAll();
  });

  it("a partitioned replica catches up from the log when the partition heals", async () => {
    const g = freshGroup(3);
    await ensureAll(g);
    await writeKeys(g, 0, 3);
    const leader = await leaderOf(g);
    const cut = (leader + 1) % 3;
    await g.stubs[cut]!.setFaults({ dropInbound: true, dropOutbound: true });
    const acked = await writeKeys(g, 3, 20, others(cut));
    expect((await g.stubs[cut]!.status())!.revision).toBeLessThan(20);
    await g.stubs[cut]!.setFaults({ dropInbound: false, dropOutbound: false });
    await appliedEverywhere(g, 20);
    expect((await g.stubs[cut]!.stats()).snapshotsRestored).toBe(0);
    expect(await readText(g, cut, "ns/k19", "stale")).toBe("19");
    expect(acked).toHaveLength(17);
    await g.stopAll();
  });

  it("members snapshot at staggered points, so that they never all stall at the same index", async () => {
    const g = freshGroup(3);
    await ensureAll(g);
    // Interval 30 over 3 members: phases 0, 10 and 20. By index ~15 exactly one has snapshotted.
    await Promise.all(g.stubs.map((s) => s.tune({ snapshotEntriesInterval: 30 })));
    await writeKeys(g, 0, 12);
    const revision = (await g.stubs[await leaderOf(g)]!.status())!.revision!;
    await appliedEverywhere(g, revision);
    const taken = await Promise.all(g.stubs.map(async (s) => (await s.stats()).snapshotsTaken));
    expect(taken.filter((n) => n > 0)).toHaveLength(1);
    await g.stopAll();
  });

  it("a replica that missed compacted entries catches up from a snapshot, also after eviction", async () => {
    const g = freshGroup(3);
    await ensureAll(g);
    await Promise.all(g.stubs.map((s) => s.tune({ snapshotEntriesInterval: 8 })));
    const acked = await writeKeys(g, 0, 2);
    const leader = await leaderOf(g);
    const cut = (leader + 1) % 3;
    await g.stubs[cut]!.setFaults({ dropInbound: true, dropOutbound: true });
    acked.push(...(await writeKeys(g, 2, 30, others(cut))));
    const leaderStats: ReplicaStats = await g.stubs[leader]!.stats();
    expect(leaderStats.snapshotsTaken).toBeGreaterThan(0);

    // Eviction heals the partition (faults live in memory) and restarts the replica from disk.
    await evictDurableObject(g.stubs[cut]!);
    await appliedEverywhere(g, 30);
    expect((await g.stubs[cut]!.stats()).snapshotsRestored).toBeGreaterThan(0);
    await expectAllPresent(g, cut, acked);

    // A snapshot-restored replica restarts from its own snapshot and log.
    await evictDurableObject(g.stubs[cut]!);
    expect(await readText(g, cut, "ns/k29", "stale")).toBe("29");
    await g.stopAll();
  });

  it("leadership transfer hands the group to the chosen member, which then serves writes", async () => {
    const g = freshGroup(3);
    await ensureAll(g);
    const acked = await writeKeys(g, 0, 3);
    const leader = await leaderOf(g);
    const target = (leader + 1) % 3;
    await g.stubs[leader]!.transferLeadership(g.addrs[target]!.self);
    expect(await leaderOf(g, [target])).toBe(target);
    acked.push(...(await writeKeys(g, 3, 5)));
    await expectAllPresent(g, target, acked);
    await g.stopAll();
  });

  it("an error inside a Ready that no request awaits (a deferred drive) resets the replica at once, before it serves again", async () => {
    const g = freshGroup();
    await ensureAll(g);
    const l = await leaderOf(g);
    await write(g, putCommand("ns/a", "acknowledged"));
    const leader = g.stubs[l]!;
    await leader.setFaults({ failWrites: true });
    // The proposal's drive runs after propose has returned to its wait (a microtask, or a
    // peer's reply): its error reaches no caller. The disk then works again at once, as after
    // a transient failure, so no later drive fails to tell that the core and disk disagree.
    const proposal = leader.propose(g.addrs[l]!, putCommand("ns/b", "unacknowledged")).then(
      () => "answered",
      () => "failed with the reset",
    );
    const next = leader.setFaults({ failWrites: false }).then(
      () => "served by the broken member",
      () => "reset",
    );
    expect(await next).toBe("reset");
    expect(await proposal).toBe("failed with the reset");
    // Reloaded from storage, it rejoins: what was acknowledged is there.
    const fresh = replicaEnv.REPLICA.get(replicaEnv.REPLICA.idFromName(g.group.members[l]!.id));
    const g2 = { ...g, stubs: g.stubs.map((s, i) => (i === l ? fresh : s)) };
    await write(g2, putCommand("ns/c", "after"));
    await ensureAll(g2);
    expect(await readText(g2, l, "ns/a", "stale")).toBe("acknowledged");
    await Promise.all(g2.stubs.map((s) => s.setFaults({ stopped: true })));
  });
});
