import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Store } from "../../src/store/store.ts";
import type { Command } from "../../src/store/types.ts";
import { bytes, Driver, expectType } from "./helpers.ts";

function grant(d: Driver, namespace = "app", ttlMs = 10_000) {
  return expectType(d.apply({ type: "leaseGrant", namespace, ttlMs }), "lease").lease;
}

describe("leases", () => {
  it("grant, keep-alive and show: the id names the namespace, expiry is atMs + TTL", () => {
    const d = new Driver();
    expect(d.store.nextLeaseExpiryMs()).toBeNull();
    const lease = grant(d);
    expect(lease).toEqual({
      id: "app~1",
      namespace: "app",
      ttlMs: 10_000,
      expiresAtMs: d.nowMs + 10_000,
      keys: [],
    });
    expect(grant(d, "web").id).toBe("web~2");
    const kept = expectType(d.apply({ type: "leaseKeepAlive", id: "app~1" }), "lease");
    expect(kept.lease.expiresAtMs).toBe(d.nowMs + 10_000);
    expect(d.store.lease("app~1")).toEqual(kept.lease);
    expect(d.store.nextLeaseExpiryMs()).toBe(d.nowMs - 1_000 + 10_000); // web~2's
    expectType(d.apply({ type: "leaseKeepAlive", id: "app~9" }), "notFound");
  });

  it("refuses a TTL out of bounds and a bad namespace", () => {
    const d = new Driver();
    for (const ttlMs of [1_999, 86_400_001, 2.5]) {
      const r = expectType(d.apply({ type: "leaseGrant", namespace: "app", ttlMs }), "invalid");
      expect(r.reason).toBe("lease");
    }
    const bad = d.apply({ type: "leaseGrant", namespace: "Bad", ttlMs: 5_000 });
    expect(expectType(bad, "invalid").reason).toBe("namespace");
    expect(d.store.revision).toBe(0);
  });

  it("revoke deletes the attached keys as one delete revision that watch sees", () => {
    const d = new Driver();
    const { id } = grant(d);
    expectType(
      d.apply({ type: "put", key: "app/a", value: bytes("1"), contentType: "t/p", lease: id }),
      "ok",
    );
    d.apply({ type: "put", key: "app/b", value: bytes("2"), contentType: "t/p", lease: id });
    d.put("app/c", "3");
    expect(d.store.lease(id)?.keys).toEqual(["app/a", "app/b"]);
    const before = d.store.revision;
    const ended = expectType(d.apply({ type: "leaseRevoke", id }), "leaseEnded");
    expect(ended).toMatchObject({ deletedKeys: ["app/a", "app/b"], revision: before + 1 });
    const events = expectType(
      d.store.changes({ prefix: "app/", afterRevision: before }),
      "changes",
    );
    expect(events.events.map((e) => [e.type, e.key, e.modRevision])).toEqual([
      ["delete", "app/a", before + 1],
      ["delete", "app/b", before + 1],
    ]);
    expect(d.value("app/c")).toBe("3");
    expect(d.store.lease(id)).toBeNull();
    expectType(d.apply({ type: "leaseRevoke", id }), "notFound");
  });

  it("a put without the lease detaches the key, a delete forgets it; other namespaces refused", () => {
    const d = new Driver();
    const { id } = grant(d);
    d.apply({ type: "put", key: "app/a", value: bytes("1"), contentType: "t/p", lease: id });
    d.put("app/a", "kept");
    d.apply({ type: "put", key: "app/b", value: bytes("1"), contentType: "t/p", lease: id });
    d.del("app/b");
    d.put("app/b", "recreated");
    expect(d.store.lease(id)?.keys).toEqual([]);
    const foreign = { type: "put", key: "web/a", value: bytes("1"), contentType: "t/p" } as const;
    expect(expectType(d.apply({ ...foreign, lease: id }), "invalid").reason).toBe("crossNamespace");
    expect(expectType(d.apply({ ...foreign, lease: "web~7" }), "invalid").reason).toBe("lease");
    expectType(d.apply({ type: "leaseRevoke", id }), "leaseEnded");
    expect([d.value("app/a"), d.value("app/b"), d.value("web/a")]).toEqual([
      "kept",
      "recreated",
      null,
    ]);
  });

  it("expires only at a leaseExpire stamped at or after its expiry", () => {
    const d = new Driver();
    const { id, expiresAtMs } = grant(d);
    d.apply({ type: "put", key: "app/a", value: bytes("1"), contentType: "t/p", lease: id });
    const early = d.apply({ type: "leaseExpire", id, atMs: expiresAtMs - 1 });
    expect(expectType(early, "leaseNotDue").expiresAtMs).toBe(expiresAtMs);
    expect(d.store.dueLeases(expiresAtMs - 1)).toEqual([]);
    expect(d.store.dueLeases(expiresAtMs)).toEqual([id]);
    const ended = d.apply({ type: "leaseExpire", id, atMs: expiresAtMs });
    expect(expectType(ended, "leaseEnded").deletedKeys).toEqual(["app/a"]);
    expect(d.value("app/a")).toBeNull();
    expect(d.store.nextLeaseExpiryMs()).toBeNull();
  });

  it("survives a snapshot: keys, expiry and the next id", () => {
    const d = new Driver();
    const { id } = grant(d);
    d.apply({ type: "put", key: "app/a", value: bytes("1"), contentType: "t/p", lease: id });
    const restored = new Driver(Store.restore(d.store.snapshot()));
    restored.index = d.index;
    expect(restored.store.lease(id)).toEqual(d.store.lease(id));
    expect(grant(restored).id).toBe("app~2");
    expectType(restored.apply({ type: "leaseRevoke", id }), "leaseEnded");
    expect(restored.value("app/a")).toBeNull();
  });
});

describe("leases across a leader change", () => {
  const ttlMs = 10_000;
  const extendMs = 1_000; // the election timeout the new leader extends by

  // Real time t; each leader stamps commands on its own clock, off real time by its skew.
  // The holder kept the lease alive at real time 0 and trusts it until real time ttlMs.
  // Whatever the new leader's skew (within the extension) and whenever it was elected, no
  // leaseExpire it stamps ends the lease before real time ttlMs.
  it("a kept-alive lease never ends early, whatever the new leader's clock skew", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -extendMs, max: extendMs }),
        fc.integer({ min: -extendMs, max: extendMs }),
        fc.integer({ min: 0, max: ttlMs }),
        fc.integer({ min: 0, max: 2 * ttlMs }),
        (oldSkew, newSkew, electedAt, expireAt) => {
          const store = new Store();
          const at = (t: number, skew: number) => 1_000_000 + t + skew;
          const apply = (i: number, c: Command) => store.apply(i, c);
          apply(1, { type: "leaseGrant", namespace: "app", ttlMs, atMs: at(-1, oldSkew) });
          apply(2, { type: "leaseKeepAlive", id: "app~1", atMs: at(0, oldSkew) });
          apply(3, { type: "leasesExtend", extendMs, atMs: at(electedAt, newSkew) });
          const t = Math.max(electedAt, expireAt);
          const outcome = apply(4, { type: "leaseExpire", id: "app~1", atMs: at(t, newSkew) });
          if (t < ttlMs) expect(outcome.type).toBe("leaseNotDue");
          store.checkInvariants();
        },
      ),
      { numRuns: 300 },
    );
  });

  it("the extension is needed: without it a new leader whose clock runs ahead ends it early", () => {
    const store = new Store();
    store.apply(1, { type: "leaseGrant", namespace: "app", ttlMs, atMs: 1_000_000 });
    const early = { type: "leaseExpire", id: "app~1", atMs: 1_000_000 + ttlMs } as const;
    // Real time ttlMs - 500, on a clock 500 ms ahead: due without an extension.
    expect(Store.restore(store.snapshot()).apply(2, early).type).toBe("leaseEnded");
    store.apply(2, { type: "leasesExtend", extendMs, atMs: 1_000_100 });
    expect(store.apply(3, early).type).toBe("leaseNotDue");
    expect(store.lease("app~1")?.expiresAtMs).toBe(1_000_100 + ttlMs + extendMs);
  });

  it("an extension never shortens and refuses an absurd one", () => {
    const d = new Driver();
    const { expiresAtMs } = grant(d);
    const none = d.apply({ type: "leasesExtend", extendMs: 0, atMs: d.nowMs - 5_000 });
    expect(expectType(none, "leasesExtended").extended).toBe(0);
    expect(d.store.lease("app~1")?.expiresAtMs).toBe(expiresAtMs);
    const bad = d.apply({ type: "leasesExtend", extendMs: 60_001 });
    expect(expectType(bad, "invalid").reason).toBe("lease");
  });
});
