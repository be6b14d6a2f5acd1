// Membership changes on real ReplicaDOs, one server at a time (Raft dissertation §4.1): a joiner
// created empty catches up as a learner (by the log, or by snapshot when the log is compacted),
// is promoted, and an old member is removed; a removed member serves nothing, arms no alarm and
// points at the current members.
import { describe, expect, it } from "vitest";
import { encodeAddress } from "../../src/replica/rpc.ts";
import {
  eventually,
  freshGroup,
  leaderOf,
  putCommand,
  replicaEnv,
  write,
  type TestGroup,
} from "./replica-harness.ts";

/** A replica id of the group's shard that no member has had, and its stub and join address. */
function joiner(g: TestGroup, n: number) {
  const id = g.group.members[0]!.id.replace(/-r0\//, `-r${n}/`);
  const group = { shard: g.group.shard, members: [...g.group.members, { id, location: "" }] };
  const stub = replicaEnv.REPLICA.get(replicaEnv.REPLICA.idFromName(id));
  return { id, stub, join: encodeAddress({ self: id, group, join: true }) };
}

async function change(g: TestGroup, type: string, nodeId: string) {
  return eventually(`${type} ${nodeId} proposed`, async () => {
    const l = await leaderOf(g);
    const a = await g.stubs[l]!.changeMembership(encodeAddress(g.addrs[l]!), {
      type: type as "addLearner",
      nodeId,
    });
    return a.type === "proposed" ? a : undefined;
  });
}

async function conf(g: TestGroup) {
  const s = (await g.stubs[await leaderOf(g)]!.status())!;
  return {
    voters: s.members.map((m) => m.id).filter((id) => !s.learners.includes(id)),
    learners: s.learners,
  };
}

async function fill(g: TestGroup, n: number, from = 0) {
  for (let i = from; i < from + n; i++)
    await write(g, putCommand(`ns/k${i}`, String(i), { idempotencyKey: `w${g.group.shard}-${i}` }));
}

describe("membership changes", { timeout: 30_000 }, () => {
  it("replace: a joiner catches up as a learner, is promoted, and the old member is removed", async () => {
    const g = freshGroup(3);
    await Promise.all(g.stubs.map((s, i) => s.ensure(encodeAddress(g.addrs[i]!))));
    await fill(g, 20);
    const j = joiner(g, 3);
    // Created empty: no configuration of its own until the leader's snapshot brings one.
    expect(await j.stub.ensure(j.join)).toMatchObject({ id: j.id, members: [], learners: [] });
    await change(g, "addLearner", j.id);
    const leaderRevision = (await g.stubs[await leaderOf(g)]!.status())!.revision;
    await eventually("the learner caught up", async () => {
      const s = await j.stub.status();
      return s !== null && s.revision >= leaderRevision ? s : undefined;
    });
    expect((await conf(g)).learners).toEqual([j.id]);
    await change(g, "promoteLearner", j.id);
    await eventually("promoted", async () =>
      (await conf(g)).voters.includes(j.id) ? true : undefined,
    );
    const old = (await leaderOf(g)) === 0 ? 1 : 0;
    const oldId = g.group.members[old]!.id;
    await change(g, "removeVoter", oldId);
    // A removed follower never hears of its removal: the leader stops writing to it on append.
    await eventually("the removal committed", async () => {
      const s = (await g.stubs[await leaderOf(g)]!.status())!;
      return s.appliedMembers.includes(oldId) ? undefined : s;
    });
    expect((await g.stubs[old]!.status())!.removed).toBe(false);
    const gone = await g.stubs[old]!.retire(encodeAddress(g.addrs[old]!));
    expect(gone).toMatchObject({ removed: true });
    const termBefore = (await g.stubs[await leaderOf(g)]!.status())!.term;
    expect((await g.stubs[old]!.stats()).alarmArmed).toBe(false);
    const answer = await g.stubs[old]!.read(
      encodeAddress(g.addrs[old]!),
      { type: "get", key: "ns/k1" },
      { consistency: "stale" },
    );
    expect(answer).toMatchObject({
      type: "unserved",
      removed: true,
      members: expect.arrayContaining([j.id]),
    });
    expect(answer).not.toMatchObject({
      members: expect.arrayContaining([g.group.members[old]!.id]),
    });
    // Woken (a call, an alarm), the removed member stays quiet: no alarm, no election.
    await g.stubs[old]!.ensure(encodeAddress(g.addrs[old]!));
    expect((await g.stubs[old]!.stats()).alarmArmed).toBe(false);
    expect((await g.stubs[await leaderOf(g)]!.status())!.term).toBe(termBefore);
    // Writes go on among the new members, and the joiner holds every acknowledged write.
    const survivors = {
      ...g,
      stubs: [...g.stubs.filter((_, i) => i !== old), j.stub],
      addrs: [...g.addrs.filter((_, i) => i !== old), { self: j.id, group: g.group }],
    } as TestGroup;
    await fill(survivors, 5, 20);
    const read = await j.stub.read(
      encodeAddress({ self: j.id, group: g.group }),
      { type: "get", key: "ns/k24" },
      { consistency: "linearizable" },
    );
    expect(read).toMatchObject({ type: "ok", result: { type: "found" } });
    for (let i = 0; i < 25; i += 6) {
      const r = await j.stub.read(
        encodeAddress({ self: j.id, group: g.group }),
        { type: "get", key: `ns/k${i}` },
        { consistency: "stale" },
      );
      expect(r).toMatchObject({ type: "ok", result: { type: "found" } });
    }
    await Promise.all([...g.stubs, j.stub].map((s) => s.setFaults({ stopped: true })));
  });

  it("a learner added after the log was compacted catches up by snapshot", async () => {
    const g = freshGroup(3);
    await Promise.all(g.stubs.map((s, i) => s.ensure(encodeAddress(g.addrs[i]!))));
    await Promise.all(g.stubs.map((s) => s.tune({ snapshotEntriesInterval: 8 })));
    await fill(g, 40);
    const first = await eventually("a compacted leader log", async () => {
      const s = (await g.stubs[await leaderOf(g)]!.status())!;
      return s.lastIndex > 30 ? s : undefined;
    });
    expect(first.lastIndex).toBeGreaterThan(30);
    const j = joiner(g, 3);
    await j.stub.ensure(j.join);
    await change(g, "addLearner", j.id);
    await eventually("the learner caught up", async () => {
      const s = await j.stub.status();
      return s !== null && s.revision >= 40 ? s : undefined;
    });
    expect((await j.stub.stats()).snapshotsRestored).toBeGreaterThan(0);
    await Promise.all([...g.stubs, j.stub].map((s) => s.setFaults({ stopped: true })));
  });

  it("the leader removes itself: it steps down, another leads, writes go on", async () => {
    const g = freshGroup(3);
    await Promise.all(g.stubs.map((s, i) => s.ensure(encodeAddress(g.addrs[i]!))));
    await fill(g, 5);
    const leader = await leaderOf(g);
    await change(g, "removeVoter", g.group.members[leader]!.id);
    await eventually("the old leader removed", async () =>
      (await g.stubs[leader]!.status())?.removed ? true : undefined,
    );
    const rest = [0, 1, 2].filter((i) => i !== leader);
    const next = await leaderOf(g, rest);
    expect(rest).toContain(next);
    await write(
      g,
      putCommand("ns/after", "1", { idempotencyKey: `after-${g.group.shard}` }),
      5_000,
      rest,
    );
    expect((await g.stubs[leader]!.stats()).alarmArmed).toBe(false);
    await Promise.all(g.stubs.map((s) => s.setFaults({ stopped: true })));
  });
});
