import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Fence, WriteOutcome } from "../../src/store/types.ts";
import { lockOfWaitKey, lockTurnKey, lockWaitKey } from "../../src/store/query.ts";
import { bytes, Driver, expectType } from "./helpers.ts";

function lease(d: Driver, namespace = "app"): string {
  return expectType(d.apply({ type: "leaseGrant", namespace, ttlMs: 10_000 }), "lease").lease.id;
}

const acquire = (d: Driver, id: string, wait = false, lock = "app/L") =>
  expectType(d.apply({ type: "lockAcquire", lock, lease: id, wait }), "lock");

const fencedPut = (d: Driver, key: string, value: string, fence: Fence): WriteOutcome =>
  d.apply({ type: "put", key, value: bytes(value), contentType: "t/p", fence });

describe("locks", () => {
  it("first come first served: waiters acquire in the order they queued", () => {
    const d = new Driver();
    const [a, b, c, e] = [lease(d), lease(d), lease(d), lease(d)];
    const first = acquire(d, a!);
    expect(first).toMatchObject({ held: true, position: 0 });
    expect(first.state.holder).toEqual({
      lease: a,
      fencingToken: first.revision,
      acquiredAtMs: d.nowMs,
    });
    expect(acquire(d, b!)).toMatchObject({ held: false, position: 0 }); // no wait: not queued
    expect(acquire(d, c!, true)).toMatchObject({ held: false, position: 1 });
    expect(acquire(d, b!, true)).toMatchObject({ held: false, position: 2 });
    expect(acquire(d, e!, true).position).toBe(3);
    expect(acquire(d, c!, true).position).toBe(1); // asking again keeps the place
    const order: string[] = [];
    for (let i = 0; i < 4; i++) {
      const holder = d.store.lock("app/L").holder!;
      order.push(holder.lease);
      const r = d.apply({ type: "lockRelease", lock: "app/L", fencingToken: holder.fencingToken });
      expect(expectType(r, "lockRelease").released).toBe(true);
    }
    expect(order).toEqual([a, c, b, e]);
    expect(d.store.lock("app/L")).toEqual({ lock: "app/L", holder: null, waiters: [] });
  });

  it("fencing tokens strictly increase per lock, even after the free lock is forgotten", () => {
    const d = new Driver();
    const ids = [lease(d), lease(d)];
    const tokens: number[] = [];
    for (let i = 0; i < 6; i++) {
      const got = acquire(d, ids[i % 2]!);
      tokens.push(got.state.holder!.fencingToken);
      d.put("app/other", `${i}`); // other writes move the revision on between cycles
      d.apply({ type: "lockRelease", lock: "app/L", fencingToken: got.state.holder!.fencingToken });
    }
    expect(tokens.every((t, i) => i === 0 || t > tokens[i - 1]!)).toBe(true);
  });

  it("a release with a token that does not hold changes nothing", () => {
    const d = new Driver();
    const a = lease(d);
    const token = acquire(d, a).state.holder!.fencingToken;
    const revision = d.store.revision;
    for (const lock of ["app/L", "app/free"]) {
      const r = d.apply({ type: "lockRelease", lock, fencingToken: token + 1 });
      expect(expectType(r, "lockRelease").released).toBe(false);
    }
    expect(d.store.revision).toBe(revision);
    expect(d.store.lock("app/L").holder?.fencingToken).toBe(token);
  });

  it("a waiter that withdraws is skipped; one handed the lock first keeps it", () => {
    const d = new Driver();
    const [a, b, c] = [lease(d), lease(d), lease(d)];
    const ta = acquire(d, a!).state.holder!.fencingToken;
    acquire(d, b!, true);
    acquire(d, c!, true);
    const gone = d.apply({ type: "lockWithdraw", lock: "app/L", lease: b! });
    expect(expectType(gone, "lock")).toMatchObject({ held: false, position: 0 });
    d.apply({ type: "lockRelease", lock: "app/L", fencingToken: ta });
    expect(d.store.lock("app/L").holder?.lease).toBe(c);
    const late = d.apply({ type: "lockWithdraw", lock: "app/L", lease: c! });
    expect(expectType(late, "lock").held).toBe(true);
  });

  it("an ending lease releases its locks to the next waiter and leaves the queues it was in", () => {
    const d = new Driver();
    const [a, b, c] = [lease(d), lease(d), lease(d)];
    acquire(d, a!);
    acquire(d, b!, true, "app/L");
    acquire(d, b!, false, "app/M");
    acquire(d, a!, true, "app/M");
    acquire(d, c!, true, "app/L");
    const ended = expectType(d.apply({ type: "leaseRevoke", id: a! }), "leaseEnded");
    expect(ended.releasedLocks).toEqual(["app/L"]);
    expect(d.store.lock("app/L")).toMatchObject({ holder: { lease: b }, waiters: [c] });
    expect(d.store.lock("app/M")).toMatchObject({ holder: { lease: b }, waiters: [] });
    expect(d.store.lock("app/L").holder?.fencingToken).toBe(ended.revision);
  });

  it("refuses a lease of another namespace, an ended lease and a bad lock name", () => {
    const d = new Driver();
    const web = lease(d, "web");
    const cases: [string, string, string][] = [
      ["app/L", web, "crossNamespace"],
      ["app/L", "app~9", "lease"],
      ["app", web, "lock"],
    ];
    for (const [lock, id, reason] of cases) {
      const r = d.apply({ type: "lockAcquire", lock, lease: id, wait: true });
      expect(expectType(r, "invalid").reason).toBe(reason);
    }
  });

  it("caps the locks one lease holds or waits for", () => {
    const d = new Driver();
    const a = lease(d);
    for (let i = 0; i < 64; i++) acquire(d, a, false, `app/L${i}`);
    const r = d.apply({ type: "lockAcquire", lock: "app/L64", lease: a, wait: false });
    expect(expectType(r, "tooLarge").limit).toBe("leaseLocksMax");
  });
});

describe("waiting on a lock (the long poll's waitForChange key)", () => {
  it("changes when the lock is handed over or freed, not on other writes", () => {
    const d = new Driver();
    const [a, b] = [lease(d), lease(d)];
    const ta = acquire(d, a).state.holder!.fencingToken;
    acquire(d, b, true);
    const after = d.store.revision;
    const changed = () => d.store.changedSince("app", lockWaitKey("app/L"), after);
    d.put("app/L", "a key of the lock's name");
    d.apply({ type: "leaseKeepAlive", id: a });
    expect(changed()).toBe(false);
    d.apply({ type: "lockRelease", lock: "app/L", fencingToken: ta });
    expect(changed()).toBe(true);
    const freed = d.store.revision;
    d.apply({ type: "leaseRevoke", id: b });
    expect(d.store.changedSince("app", lockWaitKey("app/L"), freed)).toBe(true);
  });

  it("a hand-over wakes only the waiter it goes to; a waiter whose lease ends wakes too", () => {
    const d = new Driver();
    const [a, b, c] = [lease(d), lease(d), lease(d)];
    const ta = acquire(d, a!, false, "app/L").state.holder!.fencingToken;
    acquire(d, b!, true, "app/L");
    acquire(d, c!, true, "app/L");
    const after = d.store.revision;
    const turn = (id: string) => d.store.changedSince("app", lockTurnKey("app/L", id), after);
    d.put("app/other", "1");
    expect([turn(b!), turn(c!)]).toEqual([false, false]);
    d.apply({ type: "lockRelease", lock: "app/L", fencingToken: ta });
    expect([turn(b!), turn(c!)]).toEqual([true, false]);
    d.apply({ type: "leaseRevoke", id: c! });
    expect(turn(c!)).toBe(true);
    expect(lockOfWaitKey(lockTurnKey("app/L", b!))).toBe("app/L");
    expect(lockOfWaitKey(lockWaitKey("app/L"))).toBe("app/L");
    expect(lockOfWaitKey("app/L")).toBeUndefined();
  });
});

describe("fenced writes", () => {
  it("apply only while the token holds the lock; a stale holder's put, delete and txn are 412", () => {
    const d = new Driver();
    const [a, b] = [lease(d), lease(d)];
    const stale = { lock: "app/L", token: acquire(d, a!).state.holder!.fencingToken };
    expectType(fencedPut(d, "app/x", "from a", stale), "ok");
    acquire(d, b!, true);
    d.apply({ type: "leaseExpire", id: a!, atMs: d.nowMs + 60_000 }); // a paused past its lease
    const fresh = { lock: "app/L", token: d.store.lock("app/L").holder!.fencingToken };
    const revision = d.store.revision;
    const refused = expectType(fencedPut(d, "app/x", "late a", stale), "fenced");
    expect(refused).toMatchObject({ fence: stale, holderToken: fresh.token, revision });
    expectType(d.apply({ type: "delete", key: "app/x", fence: stale }), "fenced");
    const txn = d.apply({
      type: "txn",
      compare: [],
      success: [{ type: "put", key: "app/x", value: bytes("t"), contentType: "t/p" }],
      failure: [],
      fence: stale,
    });
    expectType(txn, "fenced");
    expect([d.value("app/x"), d.store.revision]).toEqual(["from a", revision]);
    expectType(fencedPut(d, "app/x", "from b", fresh), "ok");
    const free = { lock: "app/free", token: 1 };
    expect(expectType(fencedPut(d, "app/x", "?", free), "fenced").holderToken).toBeNull();
  });

  it("a fence in another namespace than the keys is refused (same shard only, for now)", () => {
    const d = new Driver();
    const fence = { lock: "web/L", token: acquire(d, lease(d, "web"), false, "web/L").revision };
    expect(expectType(fencedPut(d, "app/x", "1", fence), "invalid").reason).toBe("crossNamespace");
  });
});

// Mutual exclusion as fencing judges it: clients with stale views (they believe they hold the
// lock whenever they were once told so), leases ending by expiry on clocks that drift, and
// fenced writes at any moment. Every fenced write that commits carries the current holder's
// token, so tokens of committed writes never go back: a stale holder's write always loses.
describe("mutual exclusion under faults", () => {
  const step = fc.record({
    client: fc.nat({ max: 3 }),
    action: fc.constantFrom("acquire", "wait", "write", "write", "keepAlive", "expire", "release"),
    driftMs: fc.integer({ min: -3_000, max: 3_000 }),
  });

  it("no fenced write by a token that no longer holds ever commits", () => {
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 80 }), (steps) => {
        const d = new Driver();
        const leases = [0, 1, 2, 3].map(() => lease(d));
        const believed: (number | null)[] = [null, null, null, null];
        const committed: number[] = [];
        for (const { client, action, driftMs } of steps) {
          const id = leases[client]!;
          const atMs = d.nowMs + driftMs;
          if (d.store.lease(id) === null) leases[client] = lease(d);
          runStep(d, { id, action, atMs, believed, client, committed });
        }
        expect(committed.every((t, i) => i === 0 || t >= committed[i - 1]!)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});

interface StepArgs {
  id: string;
  action: string;
  atMs: number;
  client: number;
  believed: (number | null)[];
  committed: number[];
}

function runStep(d: Driver, { id, action, atMs, client, believed, committed }: StepArgs): void {
  if (action === "acquire" || action === "wait") {
    const r = d.apply({ type: "lockAcquire", lock: "app/L", lease: id, wait: action === "wait" });
    if (r.type === "lock" && r.held) believed[client] = r.state.holder!.fencingToken;
  } else if (action === "write" && believed[client] !== null) {
    const fence = { lock: "app/L", token: believed[client]! };
    const holder = d.store.lock("app/L").holder;
    const r = fencedPut(d, "app/guarded", `${client}`, fence);
    if (r.type === "ok") {
      expect(holder?.fencingToken).toBe(fence.token);
      committed.push(fence.token);
    } else expect(r.type).toBe("fenced");
  } else if (action === "keepAlive") d.apply({ type: "leaseKeepAlive", id, atMs });
  else if (action === "expire") d.apply({ type: "leaseExpire", id, atMs: atMs + 10_000 });
  else if (action === "release" && believed[client] !== null) {
    d.apply({ type: "lockRelease", lock: "app/L", fencingToken: believed[client]!, atMs });
  }
  // A handed-over lock is learnt of later (the long poll); until then the client is unaware.
  const holder = d.store.lock("app/L").holder;
  if (holder?.lease === id) believed[client] = holder.fencingToken;
}
