// Quiescence made real: an idle group clears every alarm and makes no request at all, and the next
// client wakes it. A leader that died while the group slept is replaced on demand.
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { ReplicaDO } from "../../src/replica/replica-do.ts";
import {
  eventually,
  freshGroup,
  leaderOf,
  putCommand,
  sleep,
  write,
  type TestGroup,
  ensureAll,
} from "./replica-harness.ts";

async function alarms(g: TestGroup): Promise<(number | null)[]> {
  return Promise.all(
    g.stubs.map((stub) =>
      runInDurableObject(stub, (_: ReplicaDO, state) => state.storage.getAlarm()),
    ),
  );
}

async function activity(g: TestGroup) {
  const stats = await Promise.all(g.stubs.map((s) => s.stats()));
  return stats.map((s) => ({ sent: s.rpcsSent, received: s.rpcsReceived, alarms: s.alarmsFired }));
}

async function quiesced(g: TestGroup): Promise<void> {
  await eventually(
    "every replica to sleep",
    async () => ((await alarms(g)).every((a) => a === null) ? true : undefined),
    10_000,
    50,
  );
}

describe("quiescence", { timeout: 30_000 }, () => {
  it("an idle group sets no alarm and makes no request; the next read and write wake it", async () => {
    const g = freshGroup(3);
    await ensureAll(g);
    expect((await write(g, putCommand("ns/a", "1"))).type).toBe("ok");
    await quiesced(g);

    const before = await activity(g);
    await sleep(1_000); // 20 ticks of 50 ms: anything that still ticked would show
    expect(await activity(g)).toEqual(before);
    expect(await alarms(g)).toEqual([null, null, null]);
    const statuses = await Promise.all(g.stubs.map((s) => s.status()));
    expect(statuses.every((s) => s?.quiesced === true)).toBe(true);
    console.log(`asleep: ${JSON.stringify(before)}`);

    // A linearizable read on a follower wakes the group and is answered.
    const leader = await leaderOf(g);
    const follower = (leader + 1) % 3;
    const read = await g.stubs[follower]!.read(
      g.addrs[follower]!,
      { type: "get", key: "ns/a" },
      { consistency: "linearizable" },
    );
    expect(read.type).toBe("ok");
    // So is the next write, and the group goes back to sleep afterwards.
    expect((await write(g, putCommand("ns/a", "2"))).type).toBe("ok");
    await quiesced(g);
    await g.stopAll();
  });

  it("a leader that died while the group slept is replaced when a client arrives", async () => {
    const g = freshGroup(3);
    await ensureAll(g);
    expect((await write(g, putCommand("ns/a", "1"))).type).toBe("ok");
    await quiesced(g);
    const oldLeader = await leaderOf(g);
    await g.stubs[oldLeader]!.setFaults({ stopped: true });

    // A client reaches a follower: it answers notLeader (pointing at the dead leader) and wakes.
    const follower = (oldLeader + 1) % 3;
    const started = Date.now();
    const answer = await g.stubs[follower]!.propose(g.addrs[follower]!, putCommand("ns/a", "2"));
    expect(answer).toEqual({ type: "notLeader", leaderHint: g.addrs[oldLeader]!.self });

    const survivors = [0, 1, 2].filter((i) => i !== oldLeader);
    const newLeader = await leaderOf(g, survivors, 5_000);
    const outcome = await eventually("the write on the new leader", async () => {
      const a = await g.stubs[newLeader]!.propose(
        g.addrs[newLeader]!,
        putCommand("ns/a", "2", { idempotencyKey: "k-2" }),
      );
      return a.type === "applied" ? a.outcome : undefined;
    });
    expect(outcome.type).toBe("ok");
    if (outcome.type === "ok") expect(outcome.revision).toBe(2);
    console.log(`dead sleeping leader replaced and write committed in ${Date.now() - started} ms`);
    await g.stopAll();
  });
});
