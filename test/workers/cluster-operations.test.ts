// Cluster operations through the RaftRouter over real ReplicaDOs (src/router/operations.ts,
// operation-steps.ts): replace a stopped replica under CAS writers, add a replica to a shard with
// a compacted log, remove the leader, move the leader under load, resume after a restart.
import { describe, expect, it } from "vitest";
import { RaftRouter } from "../../src/router/raft-router.ts";
import { ClusterOperationError } from "../../src/router/operation-types.ts";
import { ShardUnavailableError } from "../../src/router/types.ts";
import type { ClusterOperation } from "../../src/store/types.ts";
import { freshGeneration, putOf, replicaEnv, sleep } from "./replica-harness.ts";

const vars = { SHARDS: "1", REPLICAS_PER_SHARD: "3" };
const untext = new TextDecoder();
const stub = (id: string) => replicaEnv.REPLICA.get(replicaEnv.REPLICA.idFromName(id));

function fresh() {
  const prefix = `t${freshGeneration()}-`;
  // A new RaftRouter per "isolate"; the directory cache is per isolate (module) and per prefix.
  return {
    prefix,
    router: () => new RaftRouter({ ...replicaEnv, ...vars }, { clusterPrefix: prefix }),
  };
}

async function finish(r: RaftRouter, op: ClusterOperation): Promise<ClusterOperation> {
  const done = await r.operation(op.id, 20_000);
  expect(done, JSON.stringify(done)).toMatchObject({ state: "done" });
  return done!;
}

const put = putOf;

async function members(r: RaftRouter) {
  const c = await r.cluster();
  return c.shards[0]!.replicas;
}

/** CAS increments of one key per writer until `stop()`; the last acknowledged value per key. */
function casWriters(r: RaftRouter, n: number) {
  let stopped = false;
  const acked = new Map<string, number>();
  const one = async (w: number) => {
    const key = `app/w${w}`;
    for (let i = 0; !stopped; i++) {
      try {
        const got = await r.read("app", { type: "get", key }, { consistency: "linearizable" });
        const value = got.result.type === "found" ? Number(untext.decode(got.result.value)) : 0;
        const pre =
          got.result.type === "found"
            ? { ifMatch: got.result.entry.modRevision }
            : { ifNoneMatch: "*" as const };
        const w1 = await r.write(
          "app",
          put(key, String(value + 1), { idempotencyKey: `${key}-${i}`, ...pre }),
        );
        if (w1.outcome.type === "ok") acked.set(key, value + 1);
        // In the test isolate a DO call can resolve without a turn of the event loop: yield,
        // or the driver's timers (and the test's) would starve behind the writers.
        await sleep(1);
      } catch (error) {
        if (!(error instanceof ShardUnavailableError)) throw error;
        await sleep(50);
      }
    }
  };
  const running = Promise.all(Array.from({ length: n }, (_, w) => one(w)));
  return { acked, stop: async () => ((stopped = true), await running) };
}

describe("cluster operations", { timeout: 60_000 }, () => {
  it("replaces a stopped replica while 16 writers CAS; the new one holds every acknowledged write", async () => {
    const { router } = fresh();
    const r = router();
    await r.write("app", put("app/seed", "1"));
    const before = await members(r);
    const victim = before.find((m) => m.role !== "leader")!.id;
    await stub(victim).setFaults({ stopped: true });
    const writers = casWriters(r, 16);
    await sleep(300);
    const { operation } = await r.startOperation(
      { kind: "replaceReplica", shard: 0, replica: victim },
      undefined,
    );
    const done = await finish(r, operation);
    await sleep(300);
    await writers.stop();
    const after = await members(r);
    expect(after.map((m) => m.id)).not.toContain(victim);
    expect(after.map((m) => m.id)).toContain(done.added);
    expect(after.every((m) => m.voter)).toBe(true);
    // Every acknowledged value is on the new replica (a stale read of it alone).
    const added = stub(done.added!);
    await sleep(200);
    for (const [key, value] of writers.acked) {
      const got = await added.read(
        JSON.stringify({
          v: 1,
          self: done.added,
          group: { shard: 0, members: [{ id: done.added, location: "" }] },
        }),
        { type: "get", key },
        { consistency: "linearizable" },
      );
      const result =
        got.type === "ok" ? (got.result as { type: string; value?: Uint8Array }) : null;
      expect(result?.type === "found" ? Number(untext.decode(result.value)) : -1).toBe(value);
    }
    expect(writers.acked.size).toBe(16);
  });

  it("adds a replica to a shard whose log is compacted: it catches up by snapshot", async () => {
    const { router } = fresh();
    const r = router();
    await r.write("app", put("app/seed", "1"));
    for (const m of await members(r)) await stub(m.id).tune({ snapshotEntriesInterval: 8 });
    for (let i = 0; i < 40; i++) await r.write("app", put(`app/k${i}`, String(i)));
    const { operation } = await r.startOperation(
      { kind: "addReplica", shard: 0, location: "" },
      undefined,
    );
    const done = await finish(r, operation);
    expect((await stub(done.added!).stats()).snapshotsRestored).toBeGreaterThan(0);
    expect((await members(r)).map((m) => m.id)).toContain(done.added);
  });

  it("removes the leader itself (after an add keeps three voters); another leads and writes go on", async () => {
    const { router } = fresh();
    const r = router();
    await r.write("app", put("app/seed", "1"));
    const leader = (await members(r)).find((m) => m.role === "leader")!.id;
    await expect(
      r.startOperation(
        { kind: "removeReplica", shard: 0, replica: leader, force: false },
        undefined,
      ),
    ).rejects.toThrow(/fewer than three/);
    await finish(
      r,
      (await r.startOperation({ kind: "addReplica", shard: 0, location: "" }, undefined)).operation,
    );
    const removal = await r.startOperation(
      { kind: "removeReplica", shard: 0, replica: leader, force: false },
      undefined,
    );
    await finish(r, removal.operation);
    const after = await members(r);
    expect(after.map((m) => m.id)).not.toContain(leader);
    await r.write("app", put("app/after", "1"));
    expect((await stub(leader).stats()).alarmArmed).toBe(false);
  });

  it("moves the leader under load, answers 200-style (not started) when it already leads", async () => {
    const { router } = fresh();
    const r = router();
    await r.write("app", put("app/seed", "1"));
    const writers = casWriters(r, 8);
    const to = (await members(r)).find((m) => m.role !== "leader")!.id;
    const { operation, started } = await r.startOperation(
      { kind: "transferLeader", shard: 0, to },
      undefined,
    );
    expect(started).toBe(true);
    await finish(r, operation);
    await writers.stop();
    expect((await members(r)).find((m) => m.role === "leader")!.id).toBe(to);
    const again = await r.startOperation({ kind: "transferLeader", shard: 0, to }, undefined);
    expect(again).toMatchObject({ started: false, operation: { state: "done" } });
  });

  it("resumes after the driver is gone: a new router (a restarted Worker) finishes the operation", async () => {
    const { router } = fresh();
    const first = router();
    await first.write("app", put("app/seed", "1"));
    const { operation } = await first.startOperation(
      { kind: "addReplica", shard: 0, location: "" },
      "add-once",
    );
    // The first driver gives up almost at once: the operation is left running mid-way.
    const paused = await first.operation(operation.id, 1);
    expect(paused?.state).toBe("running");
    const second = router();
    const retried = await second.startOperation(
      { kind: "addReplica", shard: 0, location: "" },
      "add-once",
    );
    expect(retried).toMatchObject({ started: false, operation: { id: operation.id } });
    await finish(second, operation);
    expect((await members(second)).map((m) => m.id)).toContain(operation.added);
  });

  it.each(["replaceReplica", "removeReplica", "transferLeader"] as const)(
    "resumes %s after its driver is gone",
    async (kind) => {
      const { router } = fresh();
      const first = router();
      await first.write("app", put("app/seed", "1"));
      if (kind === "removeReplica") {
        const add = await first.startOperation({ kind: "addReplica", shard: 0, location: "" });
        await finish(first, add.operation);
      }
      const replicas = await members(first);
      const follower = replicas.find((m) => m.role !== "leader")!.id;
      const request =
        kind === "transferLeader"
          ? { kind, shard: 0, to: follower }
          : kind === "removeReplica"
            ? { kind, shard: 0, replica: follower, force: false }
            : { kind, shard: 0, replica: follower };
      const { operation } = await first.startOperation(request, `${kind}-once`);
      expect((await first.operation(operation.id, 1))?.state).toBe("running");
      const second = router();
      const done = await finish(second, operation);
      const after = await members(second);
      if (kind === "transferLeader")
        expect(after.find((m) => m.role === "leader")!.id).toBe(follower);
      else expect(after.map((m) => m.id)).not.toContain(follower);
      if (kind === "replaceReplica") expect(after.map((m) => m.id)).toContain(done.added);
    },
  );

  it("refuses a second operation on a shard, an unknown replica, an unknown location", async () => {
    const { router } = fresh();
    const r = router();
    await r.write("app", put("app/seed", "1"));
    const { operation } = await r.startOperation(
      { kind: "addReplica", shard: 0, location: "" },
      undefined,
    );
    const second = await r
      .startOperation({ kind: "addReplica", shard: 0, location: "" }, undefined)
      .catch((e: unknown) => e);
    expect(second).toBeInstanceOf(ClusterOperationError);
    expect((second as ClusterOperationError).status).toBe(409);
    expect((second as Error).message).toContain(operation.id);
    await finish(r, operation);
    await expect(
      r.startOperation(
        { kind: "removeReplica", shard: 0, replica: "nope", force: false },
        undefined,
      ),
    ).rejects.toMatchObject({ status: 404 });
    await expect(
      r.startOperation({ kind: "addReplica", shard: 0, location: "mars" }, undefined),
    ).rejects.toMatchObject({ status: 400 });
    await expect(
      r.startOperation({ kind: "addReplica", shard: 7, location: "" }, undefined),
    ).rejects.toMatchObject({ status: 404 });
  });
});
