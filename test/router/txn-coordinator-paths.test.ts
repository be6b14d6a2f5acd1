// The coordinator's less travelled paths (src/router/txn-coordinator.ts), over real Stores: what
// each command carries (audit, fence, key; nothing unset), forgets riding on the next prepares
// (a keyed commit's too), a prepare refused as expired, an attempt finished by someone else, an
// abort that finds recovery committed first (either branch), a prepare that threw.
import { describe, expect, it, vi } from "vitest";
import type { CrossShardTxn } from "../../src/router/txn-coordinator.ts";
import { recoverIntent, type CoordinatorIo } from "../../src/router/txn-recovery.ts";
import type { Router } from "../../src/router/types.ts";
import type { Command } from "../../src/store/types.ts";
import {
  StoreRouter,
  bytes,
  clock,
  deferring,
  failsOnB,
  keepTombstones,
  intentOn,
  put,
  runTxn,
  twoKeys,
} from "./store-router.ts";

const audit = { reason: "deploy 7", requestId: "req-1" };
/** A fence on a lock of a namespace no part touches: carried, never judged here. */
const fence = { lock: "z/lock", token: 3 };

/** A put command stamped `atMs`. */
const putAt = (key: string, value: string, atMs: number) =>
  ({ type: "put", atMs, key, value: bytes(value), contentType: "text/plain" }) as const;

const run = (router: StoreRouter, io: CoordinatorIo, txn: CrossShardTxn = twoKeys) =>
  runTxn(router, io, txn);

const ofType = <T extends Command["type"]>(router: StoreRouter, type: T) =>
  router.commands.filter((c): c is Extract<Command, { type: T }> => c.type === type);

describe("what the commands carry", () => {
  it("every prepare carries the txn's audit and fence; the record's alone carries the key", async () => {
    const router = new StoreRouter({ a: 0, b: 1 });
    const { io } = clock();
    await run(router, io, { ...twoKeys, audit, fence, idempotencyKey: "admin/k1" });
    const prepares = ofType(router, "txnPrepare");
    expect(prepares.map((c) => [c.audit, c.fence])).toEqual([
      [audit, fence],
      [audit, fence],
    ]);
    expect(prepares.map((c) => c.idempotency?.key)).toEqual(["admin/k1", undefined]);
    const plain = new StoreRouter({ a: 0, b: 1 });
    await run(plain, clock().io);
    const unset = (c: object) => ["audit", "fence", "idempotency"].filter((f) => f in c);
    expect(ofType(plain, "txnPrepare").map(unset)).toEqual([[], []]);
  });

  it("one shard's txn carries the key, the audit and the fence, and says when it replayed", async () => {
    const router = new StoreRouter({ a: 0, c: 0 });
    const { io } = clock();
    const txn = { ...twoKeys, success: [put("a/x", "1"), put("c/z", "3")], audit };
    const first = await run(router, io, { ...txn, idempotencyKey: "admin/k2" });
    const again = await run(router, io, { ...txn, idempotencyKey: "admin/k2" });
    expect([first, again].map((a) => a.type === "committed" && a.replayed)).toEqual([false, true]);
    const [cmd] = ofType(router, "shardTxn");
    expect([cmd?.idempotencyKey, cmd?.audit]).toEqual(["admin/k2", audit]);
    const fenced = new StoreRouter({ a: 0, c: 0 });
    await run(fenced, io, { ...txn, fence });
    expect(ofType(fenced, "shardTxn")[0]?.fence).toEqual(fence);
    const plain = new StoreRouter({ a: 0, c: 0 });
    await run(plain, io, { ...twoKeys, success: txn.success });
    const unset = (c: object) => ["audit", "fence", "idempotencyKey"].filter((f) => f in c);
    expect(ofType(plain, "shardTxn").map(unset)).toEqual([[]]);
  });
});

describe("forgets that ride", () => {
  it("when the request outlives its answer, the forgets ride on the next prepares to those namespaces", async () => {
    const router = new StoreRouter({ a: 0, b: 1 });
    const { io, deferred } = deferring(clock().io);
    await run(router, io);
    await run(router, io);
    const [, , third, fourth] = ofType(router, "txnPrepare");
    expect([third?.forgets, fourth?.forgets]).toEqual([["t1"], ["t1"]]);
    expect(ofType(router, "txnForget").map((c) => c.txnId)).toEqual([]);
    await Promise.all(deferred);
  });

  it("a prepare that fails gives its forgets back to the queue for the next one", async () => {
    const router = new StoreRouter({ a: 0, b: 1 });
    const { io, deferred } = deferring(clock().io);
    await run(router, io);
    router.drop = (n, c) => n === "b" && c.type === "txnPrepare";
    await run(router, io).catch(() => undefined);
    router.drop = () => false;
    await run(router, io);
    // t2's prepare to b carried t1's forget and failed: t3's prepare to b carries it again.
    const third = ofType(router, "txnPrepare").filter((c) => c.txnId === "t3");
    expect(third.map((c) => c.forgets)).toEqual([undefined, ["t1"]]);
    await Promise.all(deferred);
  });
});

describe("a keyed commit's forgets when the request outlives its answer", () => {
  it("the record namespace's is sent at once, bringing the answer; the others ride on the next prepares", async () => {
    const router = new StoreRouter({ a: 0, b: 1 });
    const { io, deferred } = deferring(clock().io);
    await run(router, io, { ...twoKeys, idempotencyKey: "admin/k3" });
    await run(router, io);
    expect(router.log.filter((w) => w.type === "txnForget")).toEqual([
      { namespace: "a", type: "txnForget", answer: true },
    ]);
    const second = ofType(router, "txnPrepare").filter((c) => c.txnId === "t2");
    expect(second.map((c) => c.forgets)).toEqual([undefined, ["t1"]]);
    await Promise.all(deferred);
  });
});

describe("a keyed commit's forgets when the request ends with its answer", () => {
  it("are all sent before the answer, none left to a timer", async () => {
    const router = new StoreRouter({ a: 0, b: 1 });
    vi.useFakeTimers();
    try {
      let answered = false;
      const done = run(router, clock().io, { ...twoKeys, idempotencyKey: "admin/k4" }).then(
        () => (answered = true),
      );
      for (let i = 0; i < 1_000 && !answered; i++) await Promise.resolve();
      expect(answered).toBe(true);
      expect(vi.getTimerCount()).toBe(0);
      expect(router.log.filter((w) => w.type === "txnForget")).toEqual([
        { namespace: "a", type: "txnForget", answer: true },
        { namespace: "b", type: "txnForget" },
      ]);
      await vi.advanceTimersByTimeAsync(1_000);
      await done;
    } finally {
      vi.useRealTimers();
    }
  });
});

describe("a prepare refused as expired (its shard's clock is past the deadline)", () => {
  it("aborts at once: the record says abort and no part keeps an intent for recovery", async () => {
    const router = new StoreRouter({ a: 0, b: 1 });
    const { io } = clock();
    // Another router, its clock 10 s ahead, wrote on b: b's store clock is past the deadline.
    const ahead = io.nowMs() + 10_000;
    await router.write("b", putAt("b/other", "x", ahead));
    const answer = await run(router, io);
    expect(answer).toMatchObject({ type: "refused", outcome: { reason: "expired" } });
    expect(router.stores[0]!.txnRecord("t1")).toEqual({ decision: "abort" });
    const free = await router.write("a", putAt("a/x", "free", io.nowMs()));
    expect(free.outcome.type).toBe("ok");
  });
});

describe("an attempt someone else finished", () => {
  it("is answered its commit when its prepares find it resolved (the same txn id again)", async () => {
    const router = new StoreRouter({ a: 0, b: 1 });
    const { io } = clock();
    const same = { ...io, newTxnId: () => "t9" };
    const first = await run(router, same);
    const again = await run(router, same);
    expect(again).toEqual({ ...first, replayed: true });
  });

  it("is answered the failure branch's results when that branch ran", async () => {
    const router = new StoreRouter({ a: 0, b: 1 });
    const { io } = clock();
    const same = { ...io, newTxnId: () => "t9" };
    const first = await run(router, same, failsOnB);
    const again = await run(router, same, failsOnB);
    expect(first).toMatchObject({ type: "committed", succeeded: false });
    expect(again).toEqual({ ...first, replayed: true });
  });

  it("is refused as expired when recovery aborted it", async () => {
    const router = new StoreRouter({ a: 0, b: 1 });
    const { io, pass } = clock();
    await keepTombstones(router, io);
    const same = { ...io, newTxnId: () => "t9" };
    router.drop = (n, c) => c.type !== "txnPrepare" || n === "b";
    await run(router, same).catch(() => undefined);
    router.drop = () => false;
    pass(10_000);
    const intent = intentOn("t9", io.nowMs() - 5_000);
    expect(await recoverIntent(router as unknown as Router, intent, io)).toBe(true);
    // The abort's tombstone on the record's shard is kept: the prepare again finds it.
    const again = await run(router, same);
    expect(again).toMatchObject({ type: "refused", outcome: { reason: "expired" } });
  });
});

describe("an abort that finds recovery committed first", () => {
  it("answers the commit recovery made: every part was prepared", async () => {
    const router = new StoreRouter({ a: 0, b: 1 });
    const { io, pass } = clock();
    router.lose = (n, c) => n === "b" && c.type === "txnPrepare";
    router.before = async (_n, c) => {
      if (c.type !== "txnRecordSettle" || c.by !== "coordinator") return;
      router.before = async () => undefined;
      router.lose = () => false;
      router.drop = (_m, d) => d.type === "txnForget"; // recovery's forgets are lost
      pass(10_000);
      const intent = intentOn("t1", c.deadlineMs);
      await recoverIntent(router as unknown as Router, intent, io).catch(() => undefined);
      router.drop = () => false;
    };
    const answer = await run(router, io);
    expect(answer).toMatchObject({ type: "committed", succeeded: true, replayed: false });
  });

  it("answers the failure branch recovery committed, each result from its own part, in request order", async () => {
    const router = new StoreRouter({ a: 0, b: 1 });
    const { io, pass } = clock();
    router.lose = (n, c) => n === "b" && c.type === "txnPrepare";
    router.before = async (_n, c) => {
      if (c.type !== "txnRecordSettle" || c.by !== "coordinator") return;
      router.before = async () => undefined;
      router.lose = () => false;
      router.drop = (_m, d) => d.type === "txnForget";
      pass(10_000);
      await recoverIntent(router as unknown as Router, intentOn("t1", c.deadlineMs), io).catch(
        () => undefined,
      );
      router.drop = () => false;
    };
    const answer = await run(router, io, failsOnB);
    expect(answer).toMatchObject({ type: "committed", succeeded: false, replayed: false });
    const results = answer.type === "committed" ? answer.results : [];
    expect(results.map((r) => (r.type === "put" ? r.entry.key : r.type))).toEqual(["a/x", "b/f"]);
  });

  it("a prepare that threw is the request's error once the abort is recorded", async () => {
    const router = new StoreRouter({ a: 0, b: 1 });
    router.drop = (n, c) => n === "b" && c.type === "txnPrepare";
    await expect(run(router, clock().io)).rejects.toThrow("lost");
    expect(router.stores[0]!.txnRecord("t1")).toEqual({ decision: "abort" });
  });
});
