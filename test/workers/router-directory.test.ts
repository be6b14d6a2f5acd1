// The cluster directory through the RaftRouter over real ReplicaDOs (src/router/directory*.ts):
// seeded once, from the shards as they exist; probes that create nothing; racing seeds agree.
import { describe, expect, it } from "vitest";
import { RaftRouter, type RaftRouterEnv } from "../../src/router/raft-router.ts";
import { encodeAddress } from "../../src/replica/rpc.ts";
import { ShardUnavailableError } from "../../src/router/types.ts";
import type { Command } from "../../src/store/types.ts";
import { freshGeneration, putCommand, replicaEnv } from "./replica-harness.ts";

const vars = { SHARDS: "2", REPLICAS_PER_SHARD: "3" };
const routerOf = (prefix: string, extra: Partial<RaftRouterEnv> = {}) =>
  new RaftRouter({ ...replicaEnv, ...vars, ...extra }, { clusterPrefix: prefix });
const stub = (id: string) => replicaEnv.REPLICA.get(replicaEnv.REPLICA.idFromName(id));
const put = (key: string): Command => ({
  type: "put",
  atMs: Date.now(),
  key,
  value: new TextEncoder().encode("v"),
  contentType: "text/plain",
});

describe("the cluster directory", { timeout: 30_000 }, () => {
  it("a directory probe creates no replica: the anchor answers absent and stays absent", async () => {
    const id = `t${freshGeneration()}-s0-r0/g1`;
    const group = { shard: 0, members: [{ id, location: "" }] };
    const answer = await stub(id).read(
      encodeAddress({ self: id, group, create: false }),
      { type: "cluster" },
      { consistency: "linearizable" },
    );
    expect(answer).toMatchObject({ type: "unserved", absent: true });
    expect(await stub(id).status()).toBeNull();
  });

  it("a store from before the directory keeps its groups, though [vars] now say 5 replicas", async () => {
    const prefix = `t${freshGeneration()}-`;
    const ids = [0, 1, 2].map((r) => `${prefix}s0-r${r}/g1`);
    const group = { shard: 0, members: ids.map((id) => ({ id, location: "" })) };
    await Promise.all(ids.map((id) => stub(id).ensure(encodeAddress({ self: id, group }))));
    let written = false;
    for (let i = 0; !written && i < 100; i++) {
      for (const id of ids) {
        const a = await stub(id).propose(
          encodeAddress({ self: id, group }),
          putCommand("old/k", "1"),
        );
        if (a.type === "applied") written = true;
      }
    }
    expect(written).toBe(true);
    const router = routerOf(prefix, { REPLICAS_PER_SHARD: "5" });
    const cluster = await router.cluster();
    expect(cluster.shards[0]!.replicas.map((r) => r.id)).toEqual(ids);
    expect(cluster.pendingConfig).toEqual([
      expect.objectContaining({ variable: "REPLICAS_PER_SHARD", stored: 3, configured: 5 }),
    ]);
    expect(await stub(`${prefix}s0-r3/g1`).status()).toBeNull();
    const shard = await router.shardOf("old");
    if (shard === 0) {
      const got = await router.read(
        "old",
        { type: "get", key: "old/k" },
        { consistency: "linearizable" },
      );
      expect(got.result.type).toBe("found");
    }
  });

  it("with shard 0's anchor and a second member down, a guessed member is never created", async () => {
    const prefix = `t${freshGeneration()}-`;
    const ids = [0, 1, 2].map((r) => `${prefix}s0-r${r}/g1`);
    const group = { shard: 0, members: ids.map((id) => ({ id, location: "" })) };
    await Promise.all(ids.map((id) => stub(id).ensure(encodeAddress({ self: id, group }))));
    await stub(ids[0]!).setFaults({ stopped: true });
    await stub(ids[1]!).setFaults({ stopped: true });
    const router = routerOf(prefix, { REPLICAS_PER_SHARD: "5" });
    const error = await router.cluster().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ShardUnavailableError);
    expect((error as Error).message).toMatch(/cluster directory/);
    expect(await stub(`${prefix}s0-r3/g1`).status()).toBeNull();
    expect(await stub(`${prefix}s0-r4/g1`).status()).toBeNull();
    await Promise.all(ids.map((id) => stub(id).setFaults({ stopped: true })));
  });

  it("two routers seeding at once with different [vars] agree on one directory", async () => {
    const prefix = `t${freshGeneration()}-`;
    const a = routerOf(prefix);
    const b = routerOf(prefix, { SHARDS: "3" });
    const [ca, cb] = await Promise.all([a.cluster(), b.cluster()]);
    expect(ca.ring).toEqual(cb.ring);
    expect(ca.ring.epoch).toBe(1);
    const loser = ca.ring.shards === 2 ? cb : ca;
    expect(loser.pendingConfig).toEqual([expect.objectContaining({ variable: "SHARDS" })]);
    await a.write("app", put("app/x"));
    expect(
      (await b.read("app", { type: "get", key: "app/x" }, { consistency: "linearizable" })).result
        .type,
    ).toBe("found");
  });
});
