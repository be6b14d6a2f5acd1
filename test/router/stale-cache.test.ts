// The isolate cache's safety rules, on the pure StaleCache with an injected clock: what may be
// served, what may be kept, and what a write forgets (src/router/stale-cache.ts).
import { describe, expect, it } from "vitest";
import { StaleCache, type Flight } from "../../src/router/stale-cache.ts";
import type { Read } from "../../src/router/types.ts";

const limits = { staleMsMax: 1_000, entriesMax: 100, bytesMax: 10_000 };

function cacheAt(start = 0, overrides: Partial<typeof limits> = {}) {
  const clock = { now: start };
  const cache = new StaleCache({ ...limits, ...overrides }, () => clock.now);
  return { cache, clock };
}

/** An answer of shard `shard` at `revision`. */
function read(shard: number, revision: number, value = `v${revision}`): Read<unknown> {
  return {
    result: { type: "found", value },
    token: `s${shard}.${revision}`,
    appliedRevision: revision,
  };
}

describe("serving: never older than the caller asked", () => {
  it("a min-revision token of the same shard ahead of the answer misses", () => {
    const { cache } = cacheAt();
    cache.offer("k", "app", read(1, 5), 10, 0);
    expect(cache.lookup("k", "s1.6")).toBeUndefined();
    expect(cache.lookup("k", "s1.5")?.revision).toBe(5);
    expect(cache.lookup("k", undefined)?.revision).toBe(5);
  });

  it("another shard's token constrains nothing; a malformed one misses (the router refuses it)", () => {
    const { cache } = cacheAt();
    cache.offer("k", "app", read(1, 5), 10, 0);
    expect(cache.lookup("k", "s2.900")?.revision).toBe(5);
    expect(cache.lookup("k", "nonsense")).toBeUndefined();
  });

  it("an answer is served for staleMsMax after it was fetched, and not at staleMsMax", () => {
    const { cache, clock } = cacheAt(100);
    cache.offer("k", "app", read(1, 5), 10, 100);
    clock.now = 100 + limits.staleMsMax - 1;
    expect(cache.lookup("k", undefined)).toBeDefined();
    clock.now = 100 + limits.staleMsMax;
    expect(cache.lookup("k", undefined)).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it("the age counts from when the read was sent, not from when it was offered", () => {
    const { cache, clock } = cacheAt(0);
    clock.now = 900;
    cache.offer("k", "app", read(1, 5), 10, 0);
    clock.now = limits.staleMsMax;
    expect(cache.lookup("k", undefined)).toBeUndefined();
  });
});

describe("keeping: never older than a write through this isolate, never going back", () => {
  it("after a write at revision R, answers below R are not kept, R and above are", () => {
    const { cache } = cacheAt();
    cache.noteWrite("app", "s1.10");
    cache.offer("old", "app", read(1, 9), 10, 0);
    cache.offer("new", "app", read(1, 10), 10, 0);
    expect(cache.lookup("old", undefined)).toBeUndefined();
    expect(cache.lookup("new", undefined)?.revision).toBe(10);
    expect(cache.floorOf("app", 1)).toBe(10);
    expect(cache.floorOf("other", 1)).toBe(0);
  });

  it("a floor never goes down: a later write reporting an older token keeps the higher one", () => {
    const { cache } = cacheAt();
    cache.noteWrite("app", "s1.10");
    cache.noteWrite("app", "s1.4");
    expect(cache.floorOf("app", 1)).toBe(10);
  });

  it("an evicted namespace floor moves into its shard's floor (coarser, still safe)", () => {
    const { cache } = cacheAt(0, { entriesMax: 2 });
    cache.noteWrite("a", "s1.10");
    cache.noteWrite("b", "s1.3");
    cache.noteWrite("c", "s2.7");
    expect(cache.floorOf("a", 1)).toBe(10); // a's floor evicted into shard 1's
    expect(cache.floorOf("z", 1)).toBe(10);
    expect(cache.floorOf("z", 2)).toBe(0);
    cache.offer("k", "z", read(1, 9), 10, 0);
    expect(cache.lookup("k", undefined)).toBeUndefined();
  });

  it("a live answer is never replaced by an older one (a lagging replica)", () => {
    const { cache, clock } = cacheAt();
    cache.offer("k", "app", read(1, 8), 10, 0);
    clock.now = 10;
    cache.offer("k", "app", read(1, 6), 10, 10);
    expect(cache.lookup("k", undefined)?.revision).toBe(8);
  });

  it("an expired answer may be replaced by an older one (it would not be served anyway)", () => {
    const { cache, clock } = cacheAt();
    cache.offer("k", "app", read(1, 8), 10, 0);
    clock.now = limits.staleMsMax + 5;
    cache.offer("k", "app", read(1, 6), 10, clock.now);
    expect(cache.lookup("k", undefined)?.revision).toBe(6);
  });

  it("an answer with an unreadable token is not kept", () => {
    const { cache } = cacheAt();
    cache.offer("k", "app", { ...read(1, 5), token: "garbage" }, 10, 0);
    expect(cache.size).toBe(0);
  });
});

describe("a write forgets its namespace, and only it", () => {
  it("entries and bytes of the written namespace go, other namespaces stay", () => {
    const { cache } = cacheAt();
    cache.offer("a1", "a", read(1, 5), 10, 0);
    cache.offer("a2", "a", read(1, 5), 20, 0);
    cache.offer("b1", "b", read(1, 5), 30, 0);
    cache.noteWrite("a", "s1.6");
    expect(cache.lookup("a1", undefined)).toBeUndefined();
    expect(cache.lookup("a2", undefined)).toBeUndefined();
    expect(cache.lookup("b1", undefined)?.revision).toBe(5);
    expect(cache.size).toBe(1);
    expect(cache.bytes).toBe(30);
  });

  it("a write of unknown outcome forgets too, but leaves no floor", () => {
    const { cache } = cacheAt();
    cache.offer("a1", "a", read(1, 5), 10, 0);
    cache.noteWrite("a", null);
    expect(cache.lookup("a1", undefined)).toBeUndefined();
    expect(cache.floorOf("a", 1)).toBe(0);
  });

  it("readers after a write do not join a flight sent before it; others' flights stay", () => {
    const { cache } = cacheAt();
    const pending = new Promise<Read<unknown>>(() => {});
    const fa: Flight = { namespace: "a", promise: pending };
    const fb: Flight = { namespace: "b", promise: pending };
    cache.startFlight("ka", fa);
    cache.startFlight("kb", fb);
    cache.noteWrite("a", "s1.3");
    expect(cache.flight("ka")).toBeUndefined();
    expect(cache.flight("kb")).toBe(fb);
  });

  it("a flight stays forgettable when an expired entry of its key is dropped meanwhile", () => {
    const { cache, clock } = cacheAt();
    cache.offer("k", "a", read(1, 5), 10, 0);
    clock.now = limits.staleMsMax; // expired: the next lookup drops it and a new read flies
    const flight: Flight = { namespace: "a", promise: new Promise<Read<unknown>>(() => {}) };
    cache.startFlight("k", flight);
    expect(cache.lookup("k", undefined)).toBeUndefined();
    cache.noteWrite("a", "s1.6");
    expect(cache.flight("k")).toBeUndefined();
  });

  it("a settled flight is forgotten; a write after it still finds the entry it left", async () => {
    const { cache } = cacheAt();
    let settle!: (r: Read<unknown>) => void;
    const promise = new Promise<Read<unknown>>((resolve) => (settle = resolve));
    cache.startFlight("k", { namespace: "a", promise });
    cache.offer("k", "a", read(1, 5), 10, 0);
    settle(read(1, 5));
    await promise;
    await Promise.resolve();
    expect(cache.flight("k")).toBeUndefined();
    cache.noteWrite("a", "s1.6");
    expect(cache.size).toBe(0);
    expect(cache.bytes).toBe(0);
  });

  it("an entry evicted (LRU) and cached again is still forgotten by a write", () => {
    const { cache } = cacheAt(0, { entriesMax: 1 });
    cache.offer("k1", "a", read(1, 5), 10, 0);
    cache.offer("k2", "b", read(1, 5), 10, 0); // evicts k1
    cache.offer("k1", "a", read(1, 5), 10, 0); // evicts k2
    cache.noteWrite("a", "s1.6");
    expect(cache.size).toBe(0);
  });
});

describe("limits", () => {
  it("beyond entriesMax the least recently used answer goes (a hit refreshes it)", () => {
    const { cache } = cacheAt(0, { entriesMax: 2 });
    cache.offer("k1", "a", read(1, 1), 1, 0);
    cache.offer("k2", "a", read(1, 1), 1, 0);
    cache.lookup("k1", undefined);
    cache.offer("k3", "a", read(1, 1), 1, 0);
    expect(cache.lookup("k2", undefined)).toBeUndefined();
    expect(cache.lookup("k1", undefined)).toBeDefined();
    expect(cache.lookup("k3", undefined)).toBeDefined();
  });

  it("beyond bytesMax the oldest answers go; an answer larger than bytesMax is not kept", () => {
    const { cache } = cacheAt(0, { bytesMax: 100 });
    cache.offer("k1", "a", read(1, 1), 60, 0);
    cache.offer("k2", "a", read(1, 1), 60, 0);
    expect(cache.lookup("k1", undefined)).toBeUndefined();
    expect(cache.bytes).toBe(60);
    cache.offer("big", "a", read(1, 1), 101, 0);
    expect(cache.lookup("big", undefined)).toBeUndefined();
    expect(cache.bytes).toBe(60);
  });

  it("replacing an answer counts its bytes once", () => {
    const { cache } = cacheAt();
    cache.offer("k", "a", read(1, 1), 40, 0);
    cache.offer("k", "a", read(1, 2), 50, 0);
    expect(cache.bytes).toBe(50);
    expect(cache.size).toBe(1);
  });
});
