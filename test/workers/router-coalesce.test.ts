// Coalescing in workerd (src/router/coalesce.ts): concurrent proposals and linearizable reads to
// one replica share RPCs (proposeBatch, readBatch), each request still gets its own answer, also
// across separate HTTP requests (each batch is sent from a request of its own, in its own context).
import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { RaftRouter, type RaftRouterEnv } from "../../src/router/raft-router.ts";
import type { Command } from "../../src/store/types.ts";
import { ensureAll, freshGeneration, freshGroup, leaderOf, others, putCommand, replicaEnv, write } from "./replica-harness.ts";

const text = new TextEncoder();
const put = (key: string, value: string): Command =>
  ({ type: "put", atMs: Date.now(), key, value: text.encode(value), contentType: "text/plain" }) as Command;

/** A router over one fresh shard, and the stubs of that shard's replicas. */
function freshCluster(vars: Partial<RaftRouterEnv> = {}) {
  const generation = freshGeneration();
  const router = new RaftRouter({ ...replicaEnv, SHARDS: "1", SHARD_COUNT: "1", REPLICAS_PER_SHARD: "3", RAFT_GENERATION: String(generation), ...vars });
  const stubs = [0, 1, 2].map((r) => replicaEnv.REPLICA.get(replicaEnv.REPLICA.idFromName(`s0-r${r}/g${generation}`)));
  const clientRequests = async () => (await Promise.all(stubs.map((s) => s.stats()))).reduce((n, s) => n + s.clientRequests, 0);
  return { router, stubs, clientRequests };
}

describe("coalesced requests to a replica", { timeout: 30_000 }, () => {
  it("64 concurrent writes: fewer RPCs than writes, each write its own outcome", async () => {
    const { router, clientRequests } = freshCluster();
    await router.write("app", put("app/warm", "up")); // elects a leader, learns who it is
    const before = await clientRequests();
    const written = await Promise.all(Array.from({ length: 64 }, (_, i) => router.write("app", put(`app/k${i}`, `v${i}`))));
    const rpcs = (await clientRequests()) - before;
    expect(written.every((w) => w.outcome.type === "ok")).toBe(true);
    const revisions = written.map((w) => w.outcome.revision);
    expect(new Set(revisions).size).toBe(64); // one revision each: no answer was handed to two writes
    for (let i = 0; i < 64; i++) {
      const read = await router.read("app", { type: "get", key: `app/k${i}` }, { consistency: "linearizable" });
      expect(read.result).toMatchObject({ type: "found", entry: { modRevision: revisions[i] } });
    }
    console.log(`64 concurrent writes: ${rpcs} router RPCs`);
    expect(rpcs).toBeLessThan(32);
  });

  it("64 concurrent linearizable reads: fewer RPCs than reads, each read its own key", async () => {
    const { router, clientRequests } = freshCluster();
    for (let i = 0; i < 8; i++) await router.write("app", put(`app/k${i}`, `v${i}`));
    const before = await clientRequests();
    const reads = await Promise.all(Array.from({ length: 64 }, (_, i) =>
      router.read("app", { type: "get", key: `app/k${i % 8}` }, { consistency: "linearizable" })));
    const rpcs = (await clientRequests()) - before;
    reads.forEach((r, i) => expect(r.result).toMatchObject({ type: "found", value: text.encode(`v${i % 8}`) }));
    console.log(`64 concurrent reads: ${rpcs} router RPCs`);
    expect(rpcs).toBeLessThan(32);
  });

  it("across separate HTTP requests: every PUT and GET gets its own answer", async () => {
    const ns = `coalesce${freshGeneration()}`;
    const auth = { authorization: "Bearer dev-admin-token" };
    const n = 48;
    const puts = await Promise.all(Array.from({ length: n }, (_, i) =>
      SELF.fetch(`https://edgecfg.test/v1/kv/${ns}/k${i}`, { method: "PUT", headers: { ...auth, "content-type": "text/plain" }, body: `value ${i}` })));
    expect(puts.map((r) => r.status).every((s) => s === 200 || s === 201)).toBe(true);
    const etags = puts.map((r) => r.headers.get("etag"));
    expect(new Set(etags).size).toBe(n);
    const gets = await Promise.all(Array.from({ length: n }, (_, i) => SELF.fetch(`https://edgecfg.test/v1/kv/${ns}/k${i}`, { headers: auth })));
    const bodies = await Promise.all(gets.map((r) => r.text()));
    gets.forEach((r, i) => {
      expect(r.status).toBe(200);
      expect(r.headers.get("etag")).toBe(etags[i]);
      expect(bodies[i]).toBe(`value ${i}`);
    });
  });
});

describe("proposeBatch and readBatch on a replica", { timeout: 30_000 }, () => {
  it("a follower answers a batch of proposals notLeader, each naming the leader", async () => {
    const g = freshGroup(3);
    await ensureAll(g);
    const leader = await leaderOf(g);
    const follower = others(leader)[0]!;
    const answers = await g.stubs[follower]!.proposeBatch(g.addrs[follower]!, [putCommand("ns/a", "1"), putCommand("ns/b", "2")]);
    expect(answers).toEqual([
      { type: "notLeader", leaderHint: g.addrs[leader]!.self },
      { type: "notLeader", leaderHint: g.addrs[leader]!.self },
    ]);
    const applied = await g.stubs[leader]!.proposeBatch(g.addrs[leader]!, [putCommand("ns/a", "1"), putCommand("ns/b", "2")]);
    expect((applied as { type: string }[]).map((a) => a.type)).toEqual(["applied", "applied"]);
    await g.stopAll();
  });

  it("a batch of reads off the lease (a follower, or leases off) takes one ReadIndex barrier and answers each", async () => {
    const g = freshGroup(3);
    await ensureAll(g);
    const leader = await leaderOf(g);
    await write(g, putCommand("ns/a", "A"));
    await write(g, putCommand("ns/b", "B"));
    await g.stubs[leader]!.setFaults({ noLeaseReads: true });
    for (const i of [leader, others(leader)[0]!]) {
      const answers = await g.stubs[i]!.readBatch(g.addrs[i]!, [{ type: "get", key: "ns/a" }, { type: "get", key: "ns/b" }, { type: "get", key: "ns/c" }]);
      expect(Array.isArray(answers)).toBe(true);
      expect((answers as { type: string; result: unknown }[]).map((a) => [a.type, a.result])).toEqual([
        ["ok", expect.objectContaining({ type: "found", value: text.encode("A") })],
        ["ok", expect.objectContaining({ type: "found", value: text.encode("B") })],
        ["ok", { type: "notFound", revision: 2 }],
      ]);
    }
    await g.stubs[others(leader)[1]!]!.setFaults({ stopped: true });
    const stopped = others(leader)[1]!;
    expect(await g.stubs[stopped]!.readBatch(g.addrs[stopped]!, [{ type: "get", key: "ns/a" }])).toMatchObject({ type: "unserved" });
    await g.stopAll();
  });
});
