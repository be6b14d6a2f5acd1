// What a follower may answer, and when (src/replica/reads.ts, replica-do.ts): a linearizable
// read on a follower that has not applied the newest write yet waits for it (ReadIndex) and
// never returns the older value; a stale read answers at once from what it applied; a minimum
// revision it cannot reach in time is `behind` (stale) or `futureRevision` (linearizable); cut
// off from the leader, it answers linearizable reads `unavailable` with the leader it knew.
import { describe, expect, it } from "vitest";
import {
  ensureAll,
  freshGroup,
  leaderOf,
  putCommand,
  readText,
  type TestGroup,
  write,
} from "./replica-harness.ts";

const text = (answer: { type: string; result?: unknown }): string | null => {
  if (answer.type !== "ok") throw new Error(`expected ok, got ${JSON.stringify(answer)}`);
  const result = answer.result as { type: string; value?: Uint8Array };
  return result.type === "found" && result.value ? new TextDecoder().decode(result.value) : null;
};

/** A group with ns/k = "v1" applied everywhere; the leader and one follower. */
async function settled(): Promise<{ g: TestGroup; leader: number; follower: number }> {
  const g = freshGroup(3);
  await ensureAll(g);
  const leader = await leaderOf(g);
  const first = await write(g, putCommand("ns/k", "v1"));
  expect(first.type).toBe("ok");
  const follower = (leader + 1) % 3;
  for (const i of [0, 1, 2]) expect(await readText(g, i, "ns/k")).toBe("v1");
  return { g, leader, follower };
}

describe("what a follower answers", { timeout: 30_000 }, () => {
  it("a linearizable read on a follower behind the leader waits for the newest write; a stale read does not", async () => {
    const { g, leader, follower } = await settled();
    // The leader's messages reach this follower 800 ms late: the write commits with the other.
    await g.stubs[leader]!.setFaults({ delayMsByPeer: { [g.addrs[follower]!.self]: 800 } });
    const outcome = await write(g, putCommand("ns/k", "v2"), 5_000, [leader]);
    expect(outcome.type).toBe("ok");
    const get = { type: "get", key: "ns/k" } as const;
    const [stale, linearizable] = await Promise.all([
      g.stubs[follower]!.read(g.addrs[follower]!, get, { consistency: "stale" }),
      g.stubs[follower]!.read(g.addrs[follower]!, get, { consistency: "linearizable" }),
    ]);
    // The stale read shows the follower had not applied v2 yet: the linearizable one waited.
    expect(text(stale)).toBe("v1");
    expect(text(linearizable)).toBe("v2");
    expect(linearizable.type === "ok" && linearizable.appliedRevision).toBe(2);
    await g.stopAll();
  });

  it("a minimum revision a follower has not reached: stale is behind, linearizable waits or is a future revision", async () => {
    const { g, leader, follower } = await settled();
    await g.stubs[follower]!.setFaults({ dropInbound: true });
    expect((await write(g, putCommand("ns/k", "v2"), 5_000, [leader])).type).toBe("ok");
    const get = { type: "get", key: "ns/k" } as const;
    const behind = await g.stubs[follower]!.read(g.addrs[follower]!, get, {
      consistency: "stale",
      minRevision: 2,
      minRevisionWaitMs: 100,
    });
    expect(behind).toEqual({ type: "behind", appliedRevision: 1 });
    // What the follower applied is still served to a stale read without a minimum.
    const plain = await g.stubs[follower]!.read(g.addrs[follower]!, get, { consistency: "stale" });
    expect(text(plain)).toBe("v1");
    expect(plain.type === "ok" && plain.appliedRevision).toBe(1);
    // On the leader, a revision no write made yet is not a token of this shard's past.
    const future = await g.stubs[leader]!.read(g.addrs[leader]!, get, {
      consistency: "linearizable",
      minRevision: 50,
      minRevisionWaitMs: 100,
    });
    expect(future).toEqual({ type: "futureRevision", revision: 2 });
    // Reached in time, the minimum is met and the answer is as of at least that revision.
    const reached = await g.stubs[leader]!.read(g.addrs[leader]!, get, {
      consistency: "stale",
      minRevision: 2,
      minRevisionWaitMs: 1_000,
    });
    expect(text(reached)).toBe("v2");
    await g.stopAll();
  });

  it("a follower cut off from the leader answers linearizable reads unavailable, naming at most the leader it knew; stale reads still ok", async () => {
    const { g, leader, follower } = await settled();
    await g.stubs[follower]!.setFaults({ dropInbound: true, dropOutbound: true });
    const get = { type: "get", key: "ns/k" } as const;
    const answer = await g.stubs[follower]!.read(g.addrs[follower]!, get, {
      consistency: "linearizable",
    });
    expect(answer).toMatchObject({
      type: "unavailable",
      reason: expect.stringContaining(g.addrs[follower]!.self),
    });
    // Its hint is the leader it last knew, or none once it gave up on it and campaigned: never
    // a member that was not elected.
    const hint = answer.type === "unavailable" ? answer.leaderHint : "not unavailable";
    expect([null, g.addrs[leader]!.self]).toContain(hint);
    const stale = await g.stubs[follower]!.read(g.addrs[follower]!, get, { consistency: "stale" });
    expect(text(stale)).toBe("v1");
    // A follower never takes a write, cut off or not: it points at the leader.
    const refused = await g.stubs[follower]!.propose(g.addrs[follower]!, putCommand("ns/k", "x"));
    expect(refused.type).toBe("notLeader");
    const refusedHint = refused.type === "notLeader" ? refused.leaderHint : "not notLeader";
    expect([null, g.addrs[leader]!.self]).toContain(refusedHint);
    await g.stopAll();
  });
});
