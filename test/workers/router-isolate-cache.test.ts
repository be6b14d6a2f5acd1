// The isolate cache of stale reads (src/router/isolate-cache.ts): unit-style over a fake Router
// and an injected clock (counting inner reads), then through the real Worker (counting the
// replicas' client requests).
import { describe, expect, it } from "vitest";
import {
  isolateCacheOptionsFrom,
  staleMsMaxFrom,
  withIsolateCache,
  type IsolateCacheOptions,
} from "../../src/router/isolate-cache.ts";
import { RaftRouter, type RaftRouterEnv } from "../../src/router/raft-router.ts";
import { parseToken, type ReadOptions, type Router } from "../../src/router/types.ts";
import type { Command, Query } from "../../src/store/index.ts";
import { call, clientRequestsOf, freshNs, put, workerEnv } from "./api/helpers.ts";

const stale: ReadOptions = { consistency: "stale" };

/** A fake shard 0: every read answers the current revision; `hold` parks reads until released. */
function fakeInner(valueBytes = 3) {
  const state = {
    revision: 1,
    reads: [] as { namespace: string; query: Query; options: ReadOptions }[],
    held: [] as (() => void)[],
    hold: false,
  };
  const answer = (query: Query) => {
    const revision = state.revision;
    const value = new Uint8Array(valueBytes).fill(revision % 256);
    const entry = {
      key: "k",
      contentType: "application/octet-stream",
      size: valueBytes,
      version: revision,
      createRevision: 1,
      modRevision: revision,
      updatedAtMs: 0,
    };
    const result =
      query.type === "bundle"
        ? {
            type: "bundle",
            revision,
            namespace: query.namespace,
            namespaceRevision: revision,
            items: [{ name: "k", entry, value }],
          }
        : { type: "found", revision, entry, value };
    return { result, token: `s0.${revision}`, appliedRevision: revision };
  };
  const router: Router = {
    shardOf: async () => 0,
    write: async (_namespace: string, _command: Command) => {
      state.revision += 1;
      return {
        outcome: { type: "ok", revision: state.revision } as never,
        token: `s0.${state.revision}`,
      };
    },
    read: (async (namespace: string, query: Query, options: ReadOptions) => {
      state.reads.push({ namespace, query, options });
      if (state.hold) await new Promise<void>((resolve) => state.held.push(resolve));
      return answer(query);
    }) as Router["read"],
    waitForChange: async () => ({ changed: true, token: "s0.77" }),
    cluster: async () => ({
      backend: "fake",
      ring: { shards: 1 },
      shards: [],
      pendingConfig: null,
    }),
  };
  const release = () => {
    state.hold = false;
    for (const r of state.held.splice(0)) r();
  };
  return { state, router, release };
}

let scopes = 0;
/** A decorator with its own cache (a fresh scope) and a clock the test moves. */
function cached(inner: Router, options: Partial<IsolateCacheOptions> = {}) {
  const clock = { ms: 1_000_000 };
  scopes += 1;
  const router = withIsolateCache(inner, {
    staleMsMax: 1_000,
    entriesMax: 100,
    bytesMax: 1 << 20,
    nowMs: () => clock.ms,
    scope: `test-${scopes}-${Math.random()}`,
    ...options,
  });
  return { router, clock };
}

const get = (key: string): Query => ({ type: "get", key });
const put1: Command = {
  type: "put",
  atMs: 0,
  key: "a/k",
  value: new Uint8Array([1]),
  contentType: "application/octet-stream",
};

describe("isolate cache (fake inner Router, injected clock)", () => {
  it("serves a stale get, meta and bundle from the cache within staleMsMax, with the cached token and applied revision", async () => {
    const f = fakeInner();
    const { router, clock } = cached(f.router);
    for (const q of [
      get("a/k"),
      { type: "meta", key: "a/k" } as Query,
      { type: "bundle", namespace: "a" } as Query,
    ]) {
      const first = await router.read("a", q, stale);
      f.state.revision = first.appliedRevision + 5; // written elsewhere (another isolate)
      clock.ms += 999;
      const second = await router.read("a", q, stale);
      expect(second).toBe(first);
      expect(second.appliedRevision).toBe(first.appliedRevision);
    }
    expect(f.state.reads).toHaveLength(3);
  });

  it("readNow answers what a read would answer from the cache, without I/O, and nothing else", async () => {
    const f = fakeInner();
    const { router, clock } = cached(f.router);
    const bundle: Query = { type: "bundle", namespace: "a" };
    expect(router.readNow!("a", get("a/k"), stale)).toBeUndefined(); // nothing cached yet
    const first = await router.read("a", get("a/k"), stale);
    await router.read("a", bundle, stale);
    expect(router.readNow!("a", get("a/k"), stale)).toBe(first);
    expect(router.readNow!("a", bundle, stale)?.token).toBe("s0.1");
    expect(router.readNow!("a", get("a/k"), { consistency: "stale", minToken: "s0.1" })).toBe(
      first,
    );
    // Never for a linearizable read, a minToken past the cache, another key, or an expired entry.
    expect(router.readNow!("a", get("a/k"), { consistency: "linearizable" })).toBeUndefined();
    expect(
      router.readNow!("a", get("a/k"), { consistency: "stale", minToken: "s0.2" }),
    ).toBeUndefined();
    expect(router.readNow!("a", get("a/other"), stale)).toBeUndefined();
    clock.ms += 1_000;
    expect(router.readNow!("a", get("a/k"), stale)).toBeUndefined();
    expect(f.state.reads).toHaveLength(2); // readNow never reads through
    // A write through the isolate drops what readNow would answer.
    await router.read("a", get("a/k"), stale);
    await router.write("a", put1);
    expect(router.readNow!("a", get("a/k"), stale)).toBeUndefined();
  });

  it("expires an entry after staleMsMax and reads through again", async () => {
    const f = fakeInner();
    const { router, clock } = cached(f.router, { staleMsMax: 500 });
    const first = await router.read("a", get("a/k"), stale);
    f.state.revision = 9;
    clock.ms += 500;
    const second = await router.read("a", get("a/k"), stale);
    expect(f.state.reads).toHaveLength(2);
    expect(second.appliedRevision).toBe(9);
    expect(second.token).toBe("s0.9");
    expect(first.token).toBe("s0.1");
  });

  it("a minToken ahead of the cached token bypasses the cache; one at or behind it, or of another shard, does not", async () => {
    const f = fakeInner();
    const { router } = cached(f.router);
    await router.read("a", get("a/k"), stale); // caches s0.1
    f.state.revision = 4;
    expect(
      (await router.read("a", get("a/k"), { consistency: "stale", minToken: "s0.1" })).token,
    ).toBe("s0.1");
    expect(
      (await router.read("a", get("a/k"), { consistency: "stale", minToken: "s7.99" })).token,
    ).toBe("s0.1");
    expect(f.state.reads).toHaveLength(1);
    const ahead = await router.read("a", get("a/k"), { consistency: "stale", minToken: "s0.3" });
    expect(ahead.token).toBe("s0.4");
    expect(f.state.reads).toHaveLength(2);
    expect(f.state.reads[1]!.options.minToken).toBe("s0.3");
    // The newer answer replaced the cached one.
    expect((await router.read("a", get("a/k"), stale)).token).toBe("s0.4");
    expect(f.state.reads).toHaveLength(2);
    // A malformed token goes to the inner Router, which decides.
    await router.read("a", get("a/k"), { consistency: "stale", minToken: "garbage" });
    expect(f.state.reads).toHaveLength(3);
  });

  it("a write through the isolate invalidates its namespace only", async () => {
    const f = fakeInner();
    const { router } = cached(f.router);
    await router.read("a", get("a/k"), stale);
    await router.read("a", { type: "bundle", namespace: "a" }, stale);
    await router.read("b", get("b/k"), stale);
    expect(f.state.reads).toHaveLength(3);
    const w = await router.write("a", put1);
    const afterKey = await router.read("a", get("a/k"), stale);
    const afterBundle = await router.read("a", { type: "bundle", namespace: "a" }, stale);
    expect(parseToken(afterKey.token)!.revision).toBeGreaterThanOrEqual(
      parseToken(w.token)!.revision,
    );
    expect(parseToken(afterBundle.token)!.revision).toBeGreaterThanOrEqual(
      parseToken(w.token)!.revision,
    );
    await router.read("b", get("b/k"), stale);
    expect(f.state.reads).toHaveLength(5); // b stayed cached
  });

  it("a read in flight when a write lands is neither joined afterwards nor cached; answers older than the write are not cached", async () => {
    const f = fakeInner();
    const { router } = cached(f.router);
    f.state.hold = true;
    const before = router.read("a", get("a/k"), stale); // sent at revision 1, parked
    await Promise.resolve();
    // The write lands (revision 2) while the read is parked; the replica answering is behind it.
    const w = router.write("a", put1);
    f.state.revision = 1; // the replica that answers the parked read has not applied the write
    await w;
    const after = router.read("a", get("a/k"), stale); // must not join the parked read
    await Promise.resolve();
    expect(f.state.reads).toHaveLength(2);
    f.release();
    expect((await before).token).toBe("s0.1");
    expect((await after).token).toBe("s0.1"); // a lagging replica answered it too: returned, not cached
    f.state.revision = 2;
    expect((await router.read("a", get("a/k"), stale)).token).toBe("s0.2");
    expect(f.state.reads).toHaveLength(3);
    expect((await router.read("a", get("a/k"), stale)).token).toBe("s0.2");
    expect(f.state.reads).toHaveLength(3);
  });

  it("the write floor survives its own eviction (coarsened to the shard)", async () => {
    const f = fakeInner();
    const { router } = cached(f.router, { entriesMax: 1 });
    await router.write("a", put1); // floor a ≥ 2
    await router.write("b", put1); // evicts a's floor into shard 0's (3)
    f.state.revision = 1; // a lagging replica
    await router.read("a", get("a/k"), stale);
    await router.read("a", get("a/k"), stale);
    expect(f.state.reads).toHaveLength(2); // below the floor: returned, never cached
    f.state.revision = 3;
    await router.read("a", get("a/k"), stale);
    await router.read("a", get("a/k"), stale);
    expect(f.state.reads).toHaveLength(3);
  });

  it("a reader joining a flight that never settles (its request was canceled) reads alone after a bound", async () => {
    const f = fakeInner();
    const { router } = cached(f.router);
    f.state.hold = true;
    void router.read("a", get("a/k"), stale); // never released: stands for a canceled request
    const joined = router.read("a", get("a/k"), stale);
    await Promise.resolve();
    f.state.hold = false;
    expect((await joined).token).toBe("s0.1");
    expect(f.state.reads).toHaveLength(2);
    f.release();
  });

  it("coalesces concurrent misses of one key into one inner read (single-flight)", async () => {
    const f = fakeInner();
    const { router } = cached(f.router);
    f.state.hold = true;
    const pollers = Array.from({ length: 64 }, () =>
      router.read("a", { type: "bundle", namespace: "a" }, stale),
    );
    const other = router.read("a", get("a/k"), stale);
    await Promise.resolve();
    expect(f.state.reads).toHaveLength(2);
    f.release();
    const answers = await Promise.all(pollers);
    await other;
    expect(new Set(answers).size).toBe(1);
    expect(f.state.reads).toHaveLength(2);
  });

  it("an inner failure reaches every coalesced reader and is not cached", async () => {
    const f = fakeInner();
    let fail = true;
    const inner: Router = {
      ...f.router,
      read: (async (ns: string, q: Query, o: ReadOptions) => {
        f.state.reads.push({ namespace: ns, query: q, options: o });
        await Promise.resolve();
        if (fail) throw new Error("boom");
        return f.router.read(ns, q, o);
      }) as Router["read"],
    };
    const { router } = cached(inner);
    const all = await Promise.allSettled([1, 2, 3].map(() => router.read("a", get("a/k"), stale)));
    expect(all.map((r) => r.status)).toEqual(["rejected", "rejected", "rejected"]);
    expect(f.state.reads).toHaveLength(1);
    fail = false;
    await router.read("a", get("a/k"), stale);
    expect(f.state.reads.length).toBeGreaterThan(1);
  });

  it("keeps at most entriesMax entries, evicting the least recently used", async () => {
    const f = fakeInner();
    const { router } = cached(f.router, { entriesMax: 3 });
    for (const k of ["a/1", "a/2", "a/3"]) await router.read("a", get(k), stale);
    await router.read("a", get("a/1"), stale); // a/1 is now the most recent
    await router.read("a", get("a/4"), stale); // evicts a/2
    expect(f.state.reads).toHaveLength(4);
    for (const k of ["a/1", "a/3", "a/4"]) await router.read("a", get(k), stale);
    expect(f.state.reads).toHaveLength(4);
    await router.read("a", get("a/2"), stale);
    expect(f.state.reads).toHaveLength(5);
  });

  it("keeps at most bytesMax value bytes; an answer larger than that is not cached", async () => {
    const f = fakeInner(100);
    const { router } = cached(f.router, { bytesMax: 250 }); // two 100-byte values (+ key bytes)
    for (const k of ["a/1", "a/2", "a/3"]) await router.read("a", get(k), stale);
    for (const k of ["a/2", "a/3"]) await router.read("a", get(k), stale);
    expect(f.state.reads).toHaveLength(3);
    await router.read("a", get("a/1"), stale); // was evicted
    expect(f.state.reads).toHaveLength(4);

    const big = fakeInner(300);
    const c2 = cached(big.router, { bytesMax: 250 });
    await c2.router.read("a", get("a/big"), stale);
    await c2.router.read("a", get("a/big"), stale);
    expect(big.state.reads).toHaveLength(2);
  });

  it("never caches linearizable reads, reads at a revision, lists, history or changes", async () => {
    const f = fakeInner();
    const { router } = cached(f.router);
    const uncached: [Query, ReadOptions][] = [
      [get("a/k"), { consistency: "linearizable" }],
      [{ type: "bundle", namespace: "a" }, { consistency: "linearizable" }],
      [{ type: "get", key: "a/k", atRevision: 1 }, stale],
      [{ type: "list", prefix: "a/" }, stale],
      [{ type: "history", key: "a/k" }, stale],
      [{ type: "changes", namespace: "a", afterRevision: 0 } as unknown as Query, stale],
    ];
    for (const [q, o] of uncached) {
      await router.read("a", q, o);
      await router.read("a", q, o);
    }
    expect(f.state.reads).toHaveLength(uncached.length * 2);
    // A stale entry is not served to a linearizable read either.
    await router.read("a", get("a/k"), stale);
    await router.read("a", get("a/k"), { consistency: "linearizable" });
    expect(f.state.reads).toHaveLength(uncached.length * 2 + 2);
  });

  it("passes everything else through; staleMsMax 0 disables it; STALE_CACHE_MS parses", async () => {
    const f = fakeInner();
    const { router } = cached(f.router);
    expect(await router.shardOf("x")).toBe(0);
    expect((await router.waitForChange("a", { afterRevision: 1, timeoutMs: 10 })).token).toBe(
      "s0.77",
    );
    expect((await router.cluster()).backend).toBe("fake");
    expect(withIsolateCache(f.router, { staleMsMax: 0 })).toBe(f.router);
    expect(staleMsMaxFrom({})).toBe(1_000);
    expect(staleMsMaxFrom({ STALE_CACHE_MS: "0" })).toBe(0);
    expect(staleMsMaxFrom({ STALE_CACHE_MS: "250" })).toBe(250);
    expect(() => staleMsMaxFrom({ STALE_CACHE_MS: "1s" })).toThrow(/STALE_CACHE_MS/);
    expect(isolateCacheOptionsFrom({ BACKEND: "solo" } as object).scope).not.toBe(
      isolateCacheOptionsFrom({ BACKEND: "raft" } as object).scope,
    );
  });
});

describe("isolate cache through the Worker (SELF.fetch)", () => {
  it("20 concurrent stale reads and bundle polls cost at most one replica request each per staleMsMax", async () => {
    const ns = freshNs("cache");
    await put(`${ns}/k`, { v: 1 });
    const warm = await call(`/v1/ns/${ns}?consistency=stale`);
    const etag = warm.headers.get("ETag")!;
    await call(`/v1/kv/${ns}/k?consistency=stale`);
    const before = await clientRequestsOf(ns);
    const t0 = Date.now();
    const reads = await Promise.all(
      Array.from({ length: 20 }, () => call(`/v1/kv/${ns}/k?consistency=stale`)),
    );
    const polls = await Promise.all(
      Array.from({ length: 20 }, () =>
        call(`/v1/ns/${ns}?consistency=stale`, { headers: { "If-None-Match": etag } }),
      ),
    );
    const elapsedMs = Date.now() - t0;
    const used = (await clientRequestsOf(ns)) - before;
    for (const r of reads) {
      expect(r.status).toBe(200);
      expect(await r.json()).toEqual({ v: 1 });
      expect(r.headers.get("X-Edgecfg-Applied-Revision")).not.toBeNull();
    }
    for (const p of polls) {
      expect(p.status).toBe(304);
      expect(p.headers.get("X-Edgecfg-Applied-Revision")).not.toBeNull();
    }
    // Within one staleMsMax (1 s) nothing reaches a replica; on a slow machine at most one
    // coalesced read per key per expiry does. Without the cache this would be 40.
    expect(used).toBeLessThanOrEqual(2 * (1 + Math.floor(elapsedMs / 1_000)));
  });

  it("a write through the Worker is seen by the next stale read; a minToken past the cache bypasses it", async () => {
    const ns = freshNs("cache");
    await put(`${ns}/k`, { v: 1 });
    expect(await (await call(`/v1/kv/${ns}/k?consistency=stale`)).json()).toEqual({ v: 1 });
    expect(await (await call(`/v1/ns/${ns}?consistency=stale`)).json()).toMatchObject({
      entries: { k: { v: 1 } },
    });
    await put(`${ns}/k`, { v: 2 });
    expect(await (await call(`/v1/kv/${ns}/k?consistency=stale`)).json()).toEqual({ v: 2 });
    expect(await (await call(`/v1/ns/${ns}?consistency=stale`)).json()).toMatchObject({
      entries: { k: { v: 2 } },
    });

    // A write that does not pass through this isolate's cache (as from another isolate).
    const elsewhere = new RaftRouter(workerEnv as unknown as RaftRouterEnv);
    const w = await elsewhere.write(ns, {
      type: "put",
      atMs: Date.now(),
      key: `${ns}/k`,
      value: new TextEncoder().encode('{"v":3}'),
      contentType: "application/json",
    });
    const staleRes = await call(`/v1/kv/${ns}/k?consistency=stale`);
    const body = (await staleRes.json()) as { v: number };
    const applied = parseToken(staleRes.headers.get("X-Edgecfg-Applied-Revision")!)!.revision;
    // Either the cached state (older than the write, and the header says so) or a newer one.
    if (body.v === 2) expect(applied).toBeLessThan(parseToken(w.token)!.revision);
    else expect(body.v).toBe(3);
    const withToken = await call(`/v1/kv/${ns}/k?consistency=stale`, {
      headers: { "X-Edgecfg-Min-Revision": w.token },
    });
    expect(await withToken.json()).toEqual({ v: 3 });
    expect(await (await call(`/v1/kv/${ns}/k`)).json()).toEqual({ v: 3 }); // linearizable: never cached
  });
});
