// RaftRouter over real ReplicaDOs: namespace → shard → leader, reads at both consistencies,
// read-your-writes tokens, long polls, /v1/cluster, and 503 when a shard has no quorum.
import { describe, expect, it } from "vitest";
import { RaftRouter, type RaftRouterEnv } from "../../src/router/raft-router.ts";
import { BadTokenError, ShardUnavailableError } from "../../src/router/types.ts";
import { decodeCommand, type Command } from "../../src/store/index.ts";
import { freshGeneration, putOf, replicaEnv } from "./replica-harness.ts";

/** A router over a cluster no other test uses (a fresh prefix means fresh replica ids). */
function freshRouter(vars: Partial<RaftRouterEnv> = {}): RaftRouter {
  const env = { ...replicaEnv, SHARDS: "2", REPLICAS_PER_SHARD: "3", ...vars };
  return new RaftRouter(env, { clusterPrefix: `t${freshGeneration()}-` });
}

const put = putOf;

describe("RaftRouter", { timeout: 30_000 }, () => {
  it("writes through the leader and reads back at every consistency", async () => {
    const router = freshRouter();
    const w = await router.write("app", put("app/a", "1"));
    expect(w.outcome.type).toBe("ok");
    const shard = await router.shardOf("app");
    // Shard 0 keeps the cluster directory: its first revision is the directory's seed.
    const first = shard === 0 ? 2 : 1;
    expect(w.token).toBe(`s${shard}.${first}`);

    const lin = await router.read(
      "app",
      { type: "get", key: "app/a" },
      { consistency: "linearizable" },
    );
    expect(lin.result.type).toBe("found");
    expect(lin.token).toBe(`s${shard}.${first}`);

    const stale = await router.read(
      "app",
      { type: "get", key: "app/a" },
      { consistency: "stale", minToken: w.token },
    );
    expect(stale.result.type).toBe("found");
    expect(stale.appliedRevision).toBeGreaterThanOrEqual(1);

    await expect(
      router.read(
        "app",
        { type: "get", key: "app/a" },
        { consistency: "linearizable", minToken: `s${shard}.99` },
      ),
    ).rejects.toBeInstanceOf(BadTokenError);
    await expect(
      router.read(
        "app",
        { type: "get", key: "app/a" },
        { consistency: "stale", minToken: "garbage" },
      ),
    ).rejects.toBeInstanceOf(BadTokenError);
  });

  it("deduplicates a retried write by its idempotency key", async () => {
    const router = freshRouter();
    const first = await router.write("app", put("app/k", "v", { idempotencyKey: "same" }));
    const again = await router.write("app", put("app/k", "v", { idempotencyKey: "same" }));
    expect(again.outcome).toEqual({ ...first.outcome, deduplicated: true });
  });

  it("keys every write it proposes but the txn protocol's, which a repeat cannot apply twice", async () => {
    // The commands as they reach a replica: the router's env with every stub's propose watched.
    const proposed: Command[] = [];
    const watched = (stub: Record<string | symbol, unknown>) =>
      new Proxy(stub, {
        get(target, name) {
          // A stub's members are RPC methods: called as they are (even `bind` would be remote).
          const value = Reflect.get(target, name) as unknown;
          if (name !== "propose" || typeof value !== "function") return value;
          return (to: unknown, bytes: Uint8Array) => {
            proposed.push(decodeCommand(bytes));
            return Reflect.apply(value, target, [to, bytes]) as unknown;
          };
        },
      });
    const replicas = new Proxy(replicaEnv.REPLICA, {
      get(target, name) {
        const value = Reflect.get(target, name) as unknown;
        if (typeof value !== "function") return value;
        if (name !== "get") return value.bind(target);
        return (...args: unknown[]) => watched(Reflect.apply(value, target, args) as never);
      },
    });
    const env = { ...replicaEnv, REPLICA: replicas, SHARDS: "2", REPLICAS_PER_SHARD: "3" };
    const router = new RaftRouter(env, { clusterPrefix: `t${freshGeneration()}-` });
    await router.write("app", put("app/k", "v"));
    const atMs = Date.now();
    await router.write("app", { type: "txnProbe", atMs, txnId: "t1", deadlineMs: atMs + 3_000 });
    await router.write("app", { type: "txnForget", atMs, txnId: "t1" });
    const keys = proposed
      .filter((c) => c.type === "put" || c.type.startsWith("txn"))
      .map((c) => [c.type, c.idempotencyKey?.startsWith("router:") ?? false]);
    expect(keys).toEqual([
      ["put", true],
      ["txnProbe", false],
      ["txnForget", false],
    ]);
  });

  it("long-polls until a write lands, or times out unchanged", async () => {
    const router = freshRouter();
    const w = await router.write("app", put("app/w", "1"));
    const revision = Number(w.token.split(".")[1]);
    const timedOut = await router.waitForChange("app", {
      key: "app/w",
      afterRevision: revision,
      timeoutMs: 200,
    });
    expect(timedOut.changed).toBe(false);
    const waiting = router.waitForChange("app", {
      key: "app/w",
      afterRevision: revision,
      timeoutMs: 5_000,
    });
    await new Promise((r) => setTimeout(r, 100));
    await router.write("app", put("app/w", "2"));
    expect((await waiting).changed).toBe(true);
  });

  it("reports the cluster: every replica of a used shard, one leader", async () => {
    const router = freshRouter();
    await router.write("app", put("app/a", "1"));
    const cluster = await router.cluster();
    expect(cluster.backend).toBe("raft");
    const appShard = await router.shardOf("app");
    const shard = cluster.shards.find((s) => s.shard === appShard)!;
    expect(shard.replicas).toHaveLength(3);
    expect(shard.replicas.filter((r) => r.role === "leader")).toHaveLength(1);
    expect(shard.revision).toBe(appShard === 0 ? 2 : 1); // shard 0: the directory's seed first
  });

  it("answers 503 (ShardUnavailableError with retryAfter) when a shard has no quorum", async () => {
    const router = freshRouter();
    await router.write("app", put("app/a", "1"));
    const cluster = await router.cluster();
    const appShard = await router.shardOf("app");
    const shard = cluster.shards.find((s) => s.shard === appShard)!;
    const ids = shard.replicas.map((r) => r.id);
    const stubs = ids.map((id) => replicaEnv.REPLICA.get(replicaEnv.REPLICA.idFromName(id)));
    await stubs[0]!.setFaults({ stopped: true });
    await stubs[1]!.setFaults({ stopped: true });
    const started = Date.now();
    const error = await router.write("app", put("app/a", "2")).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ShardUnavailableError);
    expect((error as ShardUnavailableError).retryAfterMs).toBeGreaterThan(0);
    console.log(`no quorum: 503 after ${Date.now() - started} ms: ${(error as Error).message}`);
    expect(Date.now() - started).toBeLessThan(10_000);
    await Promise.all(stubs.map((s) => s.setFaults({ stopped: true })));
  });
});
