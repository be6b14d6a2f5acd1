// A namespace moved between two Raft shards of real ReplicaDOs by the reshard driver
// (src/router/reshard-steps.ts) while writers compare-and-set through the RaftRouter, which must
// follow the source's `moved` answers (writes and reads) and wait out the `moving` pause.
import { describe, expect, it } from "vitest";
import { RaftRouter } from "../../src/router/raft-router.ts";
import { advanceMove, newMove, type MoveIo } from "../../src/router/reshard-steps.ts";
import { shardIndexFor } from "../../src/ring/index.ts";
import { namespaceRoutes } from "../../src/router/namespace-routes.ts";
import { ShardUnavailableError } from "../../src/router/types.ts";
import { freshGeneration, putOf, replicaEnv, sleep } from "./replica-harness.ts";

const vars = { SHARDS: "2", REPLICAS_PER_SHARD: "3" };
const untext = new TextDecoder();
const linearizable = { consistency: "linearizable" } as const;

/** Namespaces the ring puts on shard 0 of 2. */
const onShard0 = Array.from({ length: 40 }, (_, i) => `mv${i}`).filter(
  (ns) => shardIndexFor(ns, 2) === 0,
);

function routerIo(r: RaftRouter): MoveIo {
  return {
    exportChunk: (shard, query) => r.readOnShard(shard, { type: "namespaceExport", ...query }),
    propose: async (shard, command) => {
      // Room between the steps (a driver in another isolate, a slower network), so that the
      // writers meet the fence and the pause.
      await sleep(15);
      return (await r.writeOnShard(shard, command)).outcome;
    },
    nowMs: () => Date.now(),
    // These tests run no cross-shard txns (test/store/moves-txn.test.ts has the fence's wait).
    txnInTheWay: async () => void (await sleep(15)),
  };
}

/** CAS increments of `{ns}/w{i}` until stopped; the last acknowledged value per key. */
function casWriters(r: RaftRouter, ns: string, n: number) {
  let stopped = false;
  const acked = new Map<string, number>();
  /** Writes that came back refused by the move: the router should have waited them out. */
  const paused: string[] = [];
  const one = async (w: number) => {
    const key = `${ns}/w${w}`;
    for (let i = 0; !stopped; i++) {
      try {
        const got = await r.read(ns, { type: "get", key }, linearizable);
        const found = got.result.type === "found" ? got.result : null;
        const value = found === null ? 0 : Number(untext.decode(found.value));
        const pre =
          found === null ? { ifNoneMatch: "*" as const } : { ifMatch: found.entry.modRevision };
        const w1 = await r.write(
          ns,
          putOf(key, String(value + 1), { idempotencyKey: `${key}-${i}`, ...pre }),
        );
        if (w1.outcome.type === "ok") acked.set(key, value + 1);
        if (w1.outcome.type === "moved" || w1.outcome.type === "moving")
          paused.push(w1.outcome.type);
        await sleep(1);
      } catch (error) {
        if (!(error instanceof ShardUnavailableError)) throw error;
        await sleep(20);
      }
    }
  };
  const running = Promise.all(Array.from({ length: n }, (_, w) => one(w)));
  return { acked, paused, stop: async () => ((stopped = true), await running) };
}

describe("moving a namespace between Raft shards under writes", { timeout: 90_000 }, () => {
  it("loses no acknowledged CAS, keeps pre-move ETags and tokens meaningful, and the router follows", async () => {
    const prefix = `t${freshGeneration()}-`;
    const r = new RaftRouter({ ...replicaEnv, ...vars }, { clusterPrefix: prefix });
    const [ns, ...others] = onShard0;
    const kept = await r.write(ns!, putOf(`${ns}/kept`, "before"));
    const keptETag = kept.outcome.type === "ok" ? kept.outcome.entry.modRevision : -1;
    await r.write(others[0]!, putOf(`${others[0]}/x`, "stays"));
    expect(await r.shardOf(ns!)).toBe(0);
    const writers = casWriters(r, ns!, 8);
    await sleep(300);
    // A long poll on a key nobody writes, begun before the move, on the source.
    const waitStartedAt = Date.now();
    const waited = r
      .waitForChange(ns!, { key: `${ns}/quiet`, afterRevision: 0, timeoutMs: 20_000 })
      .then((w) => ({ ...w, atMs: Date.now() }));
    let move = newMove(ns!, 0, 1, 2);
    const io = routerIo(r);
    let fencedAtMs = 0;
    let pauseMs = 0;
    while (move.step !== "done") {
      if (move.step === "fence") fencedAtMs = Date.now();
      move = await advanceMove(io, move);
      if (move.step === "drop") pauseMs = Date.now() - fencedAtMs;
    }
    const movedAtMs = Date.now();
    // It ends with the flip (a change: the caller reads again, and follows), not at its timeout.
    const wait = await waited;
    expect(wait.changed).toBe(true);
    expect(wait.atMs - waitStartedAt).toBeLessThan(15_000);
    expect(wait.atMs).toBeLessThanOrEqual(movedAtMs + 1_000);
    await sleep(300);
    await writers.stop();
    // The write pause of the namespace (fence to activation), as measured here.
    console.log(
      `router-reshard: moved ${move.keys} keys, ${move.bytes} bytes, write pause ${pauseMs} ms`,
    );
    expect(pauseMs).toBeLessThan(2_000);
    expect(await r.shardOf(ns!)).toBe(1);
    for (const [key, value] of writers.acked) {
      const got = await r.read(ns!, { type: "get", key }, linearizable);
      expect(got.token.startsWith("s1."), key).toBe(true);
      const now = got.result.type === "found" ? Number(untext.decode(got.result.value)) : 0;
      expect(now, key).toBeGreaterThanOrEqual(value);
      const history = await r.read(ns!, { type: "history", key }, linearizable);
      const versions =
        history.result.type === "history" ? history.result.items.map((i) => i.version) : [];
      expect(new Set(versions).size, `${key}: a CAS applied twice`).toBe(versions.length);
    }
    expect(writers.acked.size).toBeGreaterThan(0);
    expect(writers.paused).toEqual([]);
    // A read-your-writes token from the source, a stale read: it sees the write.
    const stale = await r.read(
      ns!,
      { type: "get", key: `${ns}/kept` },
      { consistency: "stale", minToken: kept.token },
    );
    expect(stale.result.type === "found" && untext.decode(stale.result.value)).toBe("before");
    // A new isolate knows nothing of the move: its write meets the fence and follows it.
    namespaceRoutes.forget(prefix);
    expect(await r.shardOf(ns!)).toBe(0);
    // A CAS with the pre-move ETag of an unchanged key succeeds on the new shard.
    const cas = await r.write(ns!, putOf(`${ns}/kept`, "after", { ifMatch: keptETag }));
    expect(cas.outcome).toMatchObject({ type: "ok", change: "updated" });
    expect((cas.outcome as { entry: { modRevision: number } }).entry.modRevision).toBeGreaterThan(
      keptETag,
    );
    expect(await r.shardOf(ns!)).toBe(1);
    // The source redirects the namespace's reads (also for a new isolate), and serves the others.
    namespaceRoutes.forget(prefix);
    const redirected = await r.read(ns!, { type: "get", key: `${ns}/kept` }, linearizable);
    expect(redirected.result.type === "found" && untext.decode(redirected.result.value)).toBe(
      "after",
    );
    await expect(r.readOnShard(0, { type: "get", key: `${ns}/kept` })).rejects.toThrow(
      /moved to shard 1/,
    );
    const other = await r.read(others[0]!, { type: "get", key: `${others[0]}/x` }, linearizable);
    expect(other.result.type).toBe("found");
  });

  it("reshards 2 -> 3 as one operation under writers: only the namespaces whose shard changes move", async () => {
    const prefix = `t${freshGeneration()}-`;
    const r = new RaftRouter({ ...replicaEnv, ...vars }, { clusterPrefix: prefix });
    const all = Array.from({ length: 12 }, (_, i) => `rs${i}`);
    const moving = all.filter((ns) => shardIndexFor(ns, 3) !== shardIndexFor(ns, 2));
    for (const ns of all) await r.write(ns, putOf(`${ns}/seed`, ns));
    const writers = all.slice(0, 4).map((ns) => casWriters(r, ns, 2));
    await sleep(200);
    const started = Date.now();
    const progressed = () =>
      writers.reduce((n, w) => n + [...w.acked.values()].reduce((a, b) => a + b, 0), 0);
    const ackedBefore = progressed();
    const { operation } = await r.startOperation({ kind: "reshard", shards: 3 }, "reshard-1");
    expect(operation).toMatchObject({ kind: "reshard", state: "running" });
    const again = await r.startOperation({ kind: "reshard", shards: 3 }, "reshard-1");
    expect(again.operation.id).toBe(operation.id); // a retry of the POST: the same operation
    const done = await r.operation(operation.id, 60_000);
    const tookMs = Date.now() - started;
    // The writers got turns while the driver ran (it yields between steps).
    expect(progressed()).toBeGreaterThan(ackedBefore);
    expect(done?.reshard?.pausesMs).toHaveLength(moving.length);
    expect(done?.reshard?.pauseMsMax).toBeGreaterThan(0);
    for (const w of writers) await w.stop();
    console.log(
      `router-reshard: 2 -> 3, ${moving.length} of ${all.length} namespaces moved, ` +
        `${done?.reshard?.bytes} bytes, ${tookMs} ms`,
    );
    expect(done).toMatchObject({
      state: "done",
      progress: { done: moving.length, total: moving.length, unit: "namespaces" },
      reshard: { fromShards: 2, toShards: 3, moved: moving.length },
    });
    const cluster = await r.cluster();
    expect(cluster.ring.shards).toBe(3);
    // wrangler.toml still says 2: pending, with the way back; saying 3 is what the store has.
    expect(cluster.pendingConfig).toEqual([
      expect.objectContaining({ variable: "SHARDS", stored: 3, configured: 2 }),
    ]);
    const three = new RaftRouter(
      { ...replicaEnv, ...vars, SHARDS: "3" },
      { clusterPrefix: prefix },
    );
    expect((await three.cluster()).pendingConfig).toBeNull();
    namespaceRoutes.forget(prefix); // a new isolate routes by the new ring alone
    for (const ns of all) {
      expect(await r.shardOf(ns), ns).toBe(shardIndexFor(ns, 3));
      const got = await r.read(ns, { type: "get", key: `${ns}/seed` }, linearizable);
      expect(got.result.type === "found" && untext.decode(got.result.value), ns).toBe(ns);
    }
    for (const w of writers) {
      expect(w.paused).toEqual([]);
      for (const [key, value] of w.acked) {
        const ns = key.split("/")[0]!;
        const got = await r.read(ns, { type: "get", key }, linearizable);
        const now = got.result.type === "found" ? Number(untext.decode(got.result.value)) : 0;
        expect(now, key).toBeGreaterThanOrEqual(value);
      }
    }
    // An isolate whose directory still has the old ring sends a namespace nobody wrote before
    // to its old shard: the ring fence sends it on (writes and reads), so it cannot stay behind.
    const fresh = Array.from({ length: 40 }, (_, i) => `late${i}`).find(
      (ns) => shardIndexFor(ns, 3) === 2,
    )!;
    const old = shardIndexFor(fresh, 2);
    const stale = await r.writeOnShard(old, putOf(`${fresh}/a`, "new"));
    expect(stale.outcome).toMatchObject({ type: "moved", shard: 2, flipped: true });
    await expect(r.readOnShard(old, { type: "get", key: `${fresh}/a` })).rejects.toThrow(
      /moved to shard 2/,
    );
    expect((await r.write(fresh, putOf(`${fresh}/a`, "new"))).outcome.type).toBe("ok");
    const got = await r.readOnShard(2, { type: "get", key: `${fresh}/a` });
    expect(got.type === "found" && untext.decode(got.value)).toBe("new");
  });

  it("finishes a reshard through stopped leaders of source and target, a stopped target replica and Worker restarts", async () => {
    const prefix = `t${freshGeneration()}-`;
    const isolate = () => new RaftRouter({ ...replicaEnv, ...vars }, { clusterPrefix: prefix });
    let r = isolate();
    const all = Array.from({ length: 12 }, (_, i) => `rf${i}`);
    const moving = all.filter((ns) => shardIndexFor(ns, 3) !== shardIndexFor(ns, 2));
    for (const ns of all) {
      await r.write(ns, putOf(`${ns}/seed`, ns));
      // Some bulk, so that each move takes several steps and the faults land in the middle.
      const entries = Array.from({ length: 40 }, (_, i) => ({
        name: `bulk/${i}`,
        value: new TextEncoder().encode("x".repeat(2_000)),
        contentType: "text/plain",
      }));
      await r.write(ns, {
        type: "namespaceApply",
        atMs: Date.now(),
        namespace: ns,
        entries,
        prune: false,
      });
    }
    const writers = all.slice(0, 3).map((ns) => casWriters(r, ns, 2));
    const { operation } = await r.startOperation({ kind: "reshard", shards: 3 }, "reshard-faults");
    const leaderOf = async (shard: number) =>
      (await r.cluster()).shards
        .find((s) => s.shard === shard)!
        .replicas.find((m) => m.role === "leader")?.id;
    const followerOf = async (shard: number) =>
      (await r.cluster()).shards
        .find((s) => s.shard === shard)!
        .replicas.find((m) => m.role !== "leader")?.id;
    const stopped: string[] = [];
    const faults = [
      async () => stopped.push((await followerOf(2))!), // a replica of the new shard, for good
      async () => stopped.push((await leaderOf(0))!), // the source's leader
      async () => stopped.push((await leaderOf(2))!), // the target's leader
    ];
    let op = await r.operation(operation.id, 20);
    for (let burst = 0; op?.state === "running" && burst < 60; burst++) {
      const fault = faults[burst];
      if (fault !== undefined) {
        await fault();
        await replicaStub(stopped[stopped.length - 1]!).setFaults({ stopped: true });
      }
      if (burst === 2) await replicaStub(stopped[1]!).setFaults({ stopped: false }); // source back
      if (burst === 4) await replicaStub(stopped[2]!).setFaults({ stopped: false }); // target back
      r = isolate(); // a restarted Worker: the driver's memory and the isolate's routes are gone
      namespaceRoutes.forget(prefix);
      // Shard 0 keeps the directory too: while its leader is away a look may answer 503.
      op = await r.operation(operation.id, 150).catch((error: unknown) => {
        if (!(error instanceof ShardUnavailableError)) throw error;
        return op;
      });
    }
    expect(stopped.length, "every fault landed while the reshard ran").toBe(3);
    for (const w of writers) await w.stop();
    await replicaStub(stopped[0]!).setFaults({ stopped: false });
    expect(op).toMatchObject({
      state: "done",
      progress: { done: moving.length, total: moving.length },
    });
    expect((await r.cluster()).ring.shards).toBe(3);
    for (const ns of all) {
      const got = await r.read(ns, { type: "get", key: `${ns}/seed` }, linearizable);
      expect(got.result.type === "found" && untext.decode(got.result.value), ns).toBe(ns);
    }
    for (const w of writers)
      for (const [key, value] of w.acked) {
        const got = await r.read(key.split("/")[0]!, { type: "get", key }, linearizable);
        const now = got.result.type === "found" ? Number(untext.decode(got.result.value)) : 0;
        expect(now, key).toBeGreaterThanOrEqual(value);
      }
  });
});

const replicaStub = (id: string) => replicaEnv.REPLICA.get(replicaEnv.REPLICA.idFromName(id));
