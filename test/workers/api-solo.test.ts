// The solo backend: every acknowledged write survives eviction (log replay) and snapshots.
// Runs the API over a SoloRouter explicitly, whatever BACKEND wrangler.toml selects.
import { createExecutionContext, evictDurableObject, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { createApp } from "../../src/api/app.ts";
import { SoloRouter } from "../../src/router/solo-router.ts";
import { soloLimits } from "../../src/solo/durable-log.ts";
import type { SoloShardDO } from "../../src/solo/shard-do.ts";
import { adminToken, base, freshNs, workerEnv as env } from "./api/helpers.ts";

const app = createApp({ router: (e) => new SoloRouter(e as typeof env) });
const router = new SoloRouter(env);

function solo(path: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  headers.set("Authorization", `Bearer ${adminToken}`);
  return Promise.resolve(
    app.fetch(new Request(base + path, { ...init, headers }), env, createExecutionContext()),
  );
}

const listing = async (ns: string) => (await solo(`/v1/kv?prefix=${ns}/&values=true`)).json();

async function stubFor(namespace: string) {
  const shard = await router.shardOf(namespace);
  return env.SOLO_SHARD.get(env.SOLO_SHARD.idFromName(`shard-${shard}`));
}

describe("SoloShardDO durability", () => {
  it("acknowledged writes survive eviction (replayed from the log)", async () => {
    const ns = freshNs();
    const json = { "Content-Type": "application/json" };
    await solo(`/v1/kv/${ns}/a`, { method: "PUT", headers: json, body: '{"v":1}' });
    await solo(`/v1/kv/${ns}/a`, { method: "PUT", headers: json, body: '{"v":2}' });
    await solo(`/v1/kv/${ns}/b`, {
      method: "PUT",
      headers: { "Content-Type": "text/plain" },
      body: "bee",
    });
    await solo(`/v1/kv/${ns}/b`, { method: "DELETE" });
    const before = await listing(ns);
    expect((before as { items: unknown[] }).items).toHaveLength(1);
    await evictDurableObject(await stubFor(ns));
    expect(await listing(ns)).toEqual(before);
    expect(
      ((await (await solo(`/v1/kv/${ns}/a?meta`)).json()) as { version: number }).version,
    ).toBe(2);
  });

  it("snapshots every N commands, deletes the log before it, and restores from snapshot + log", async () => {
    const ns = freshNs();
    const stub = await stubFor(ns);
    await runInDurableObject(stub, async (instance: SoloShardDO) => {
      for (let i = 0; i < soloLimits.snapshotEveryCommands + 5; i++) {
        await instance.write({
          type: "put",
          key: `${ns}/k${i % 10}`,
          value: new TextEncoder().encode(String(i)),
          contentType: "text/plain",
          atMs: Date.now(),
        });
      }
    });
    const counts = await runInDurableObject(stub, (_: SoloShardDO, state) => ({
      log: state.storage.sql.exec<{ n: number }>("SELECT count(*) AS n FROM log").one().n,
      chunks: state.storage.sql
        .exec<{ n: number }>("SELECT count(*) AS n FROM snapshot_chunk")
        .one().n,
    }));
    expect(counts.chunks).toBeGreaterThan(0);
    expect(counts.log).toBeLessThan(soloLimits.snapshotEveryCommands);
    const before = await listing(ns);
    expect((before as { items: unknown[] }).items).toHaveLength(10);
    await evictDurableObject(stub);
    expect(await listing(ns)).toEqual(before);
  });

  it("long-poll waiters resolve on apply, or at their timeout", async () => {
    const ns = freshNs();
    const waiting = router.waitForChange(ns, { afterRevision: 0, timeoutMs: 10_000 });
    await solo(`/v1/kv/${ns}/k`, { method: "PUT", body: "x" });
    expect((await waiting).changed).toBe(true);
    const timedOut = await router.waitForChange(ns, {
      key: `${ns}/other`,
      afterRevision: 1e9,
      timeoutMs: 50,
    });
    expect(timedOut.changed).toBe(false);
  });

  it("a lock's waiter wakes on its turn, not at the end of its wait", async () => {
    const ns = freshNs();
    const json = { "Content-Type": "application/json" };
    const grant = async () => {
      const body = JSON.stringify({ namespace: ns, ttlSeconds: 60 });
      const res = await solo("/v1/leases", { method: "POST", headers: json, body });
      return ((await res.json()) as { id: string }).id;
    };
    const acquire = (lease: string, wait: number) =>
      solo(`/v1/locks/${ns}/L`, {
        method: "POST",
        headers: json,
        body: JSON.stringify({ lease, wait }),
      });
    const [a, b] = [await grant(), await grant()];
    const held = (await (await acquire(a, 0)).json()) as { fencingToken: number };
    const startedAt = Date.now();
    const waiting = acquire(b, 30);
    await new Promise((resolve) => setTimeout(resolve, 300)); // b is in line
    const release = { "X-Edgecfg-Fencing-Token": String(held.fencingToken) };
    expect((await solo(`/v1/locks/${ns}/L`, { method: "DELETE", headers: release })).status).toBe(
      204,
    );
    const got = await waiting;
    expect(got.status).toBe(200);
    expect(((await got.json()) as { lease: string }).lease).toBe(b);
    expect(Date.now() - startedAt).toBeLessThan(15_000); // woken, not ended by its 30 s wait
  }, 40_000);
});
