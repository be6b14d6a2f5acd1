// A replicated write through three ReplicaDOs: election on first contact, one command proposed on
// the leader, applied on every member; followers answer notLeader; reads at both consistencies.
import { describe, expect, it } from "vitest";
import { encodeAddress, rpcVersion } from "../../src/replica/rpc.ts";
import { wireVersion } from "../../src/replica/wire.ts";
import {
  eventually,
  freshGroup,
  leaderOf,
  putCommand,
  write,
  ensureAll,
} from "./replica-harness.ts";

describe("a three-replica group", () => {
  it("elects a leader on first contact and replicates a write to every member", async () => {
    const g = freshGroup(3);
    await ensureAll(g);
    const leader = await leaderOf(g);
    const outcome = await write(g, putCommand(`ns/a`, "hello"));
    expect(outcome.type).toBe("ok");
    if (outcome.type !== "ok") return;
    expect(outcome.change).toBe("created");
    expect(outcome.revision).toBe(1);

    // Followers refuse writes with a hint instead of forwarding them.
    const follower = (leader + 1) % 3;
    const refused = await g.stubs[follower]!.propose(g.addrs[follower]!, putCommand("ns/b", "x"));
    expect(refused).toEqual({ type: "notLeader", leaderHint: g.addrs[leader]!.self });

    // Every member applies it (the commit index reaches followers on the next message or tick).
    await eventually("every member applied revision 1", async () => {
      const statuses = await Promise.all(g.stubs.map((s) => s.status()));
      return statuses.every((s) => s?.revision === 1) ? true : undefined;
    });

    for (const [i, stub] of g.stubs.entries()) {
      // Linearizable on every member, followers included (ReadIndex).
      const read = await stub.read(
        g.addrs[i]!,
        { type: "get", key: "ns/a" },
        { consistency: "linearizable" },
      );
      expect(read.type).toBe("ok");
      if (read.type !== "ok") continue;
      const result = read.result as { type: string; value: Uint8Array };
      expect(result.type).toBe("found");
      expect(new TextDecoder().decode(result.value)).toBe("hello");
    }
  });

  it("refuses a wire envelope of an unknown format version with an error that says what to do", async () => {
    const g = freshGroup(3);
    await g.stubs[0]!.ensure(g.addrs[0]!);
    const envelope = {
      v: 99,
      from: g.addrs[1]!.self,
      to: g.addrs[0]!.self,
      group: g.group,
      messages: [],
    };
    const refused = await g.stubs[0]!.deliver(envelope);
    expect(refused.refused).toMatch(/wire format v99 .* not supported .* finish the deploy/);
    const ok = await g.stubs[0]!.deliver({ ...envelope, v: wireVersion });
    expect(ok).toMatchObject({ v: wireVersion, from: g.addrs[0]!.self, to: g.addrs[1]!.self });
    await g.stopAll();
  });

  it("refuses to serve under a different identity: replica ids are never reused", async () => {
    const g = freshGroup(3);
    await g.stubs[0]!.ensure(g.addrs[0]!);
    const other = freshGroup(3);
    const answer = await g.stubs[0]!.ensure({ self: g.addrs[0]!.self, group: other.group });
    expect(answer).toMatchObject({
      type: "unserved",
      reason: expect.stringMatching(/never reused/),
    });
    await g.stopAll();
  });

  it("serves router calls of its own contract version and refuses others, naming the older side", async () => {
    const g = freshGroup(3);
    const wire = g.addrs.map((a) => encodeAddress(a));
    await Promise.all(g.stubs.map((s, i) => s.ensure(wire[i]!)));
    const get = { type: "get", key: "ns/v" } as const;
    const at = (v: number) => JSON.stringify({ ...JSON.parse(wire[0]!), v });
    expect(JSON.parse(wire[0]!).v).toBe(rpcVersion);
    expect(await g.stubs[0]!.read(at(rpcVersion + 1), get, { consistency: "stale" })).toMatchObject(
      {
        type: "unserved",
        reason: expect.stringMatching(/this replica is older/),
      },
    );
    expect(await g.stubs[0]!.read(at(0), get, { consistency: "stale" })).toMatchObject({
      type: "unserved",
      reason: expect.stringMatching(/the router is older/),
    });
    expect(await g.stubs[0]!.read(at(rpcVersion), get, { consistency: "stale" })).toMatchObject({
      type: "ok",
    });
    await g.stopAll();
  });

  it("takes the address as the router sends it (one string), and still checks it on every call", async () => {
    const g = freshGroup(3);
    const wire = g.addrs.map((a) => encodeAddress(a));
    await Promise.all(g.stubs.map((s, i) => s.ensure(wire[i]!)));
    const leader = await leaderOf(g);
    const outcome = await g.stubs[leader]!.propose(wire[leader]!, putCommand("ns/w", "v"));
    expect(outcome).toMatchObject({ type: "applied" });
    const read = await g.stubs[leader]!.read(
      wire[leader]!,
      { type: "get", key: "ns/w" },
      { consistency: "linearizable" },
    );
    expect(read).toMatchObject({ type: "ok", result: { type: "found" } });
    // Another text is checked in full: a foreign group, another member's name, garbage.
    const other = freshGroup(3);
    expect(
      await g.stubs[0]!.read(
        encodeAddress({ self: g.addrs[0]!.self, group: other.group }),
        { type: "get", key: "ns/w" },
        { consistency: "stale" },
      ),
    ).toMatchObject({ type: "unserved", reason: expect.stringMatching(/never reused/) });
    expect(
      await g.stubs[0]!.read(wire[1]!, { type: "get", key: "ns/w" }, { consistency: "stale" }),
    ).toMatchObject({ type: "unserved", reason: expect.stringMatching(/but was addressed as/) });
    expect(
      await g.stubs[0]!.read("{not json", { type: "get", key: "ns/w" }, { consistency: "stale" }),
    ).toMatchObject({ type: "unserved", reason: expect.stringMatching(/not JSON/) });
    expect(
      await g.stubs[0]!.read(
        JSON.stringify({ self: 1 }),
        { type: "get", key: "ns/w" },
        { consistency: "stale" },
      ),
    ).toMatchObject({ type: "unserved", reason: expect.stringMatching(/malformed/) });
    // And the accepted text still works after the refusals.
    expect(
      await g.stubs[0]!.read(wire[0]!, { type: "get", key: "ns/w" }, { consistency: "stale" }),
    ).toMatchObject({ type: "ok" });
    await g.stopAll();
  });
});
