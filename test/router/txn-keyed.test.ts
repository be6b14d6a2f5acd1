// The coordinator's side of Idempotency-Key across shards (src/router/txn-keyed.ts), over real
// Stores behind a router that applies each command at once: the order of a keyed commit's
// forgets, a replay's results in request order, a replay after a reshard put every namespace on
// one shard, and what a replay whose results are gone answers; a retry while the first commit is
// still resolving, a first refusal kept across a reshard, the fence as part of the request.
// test/workers/api-txn-keyed.test.ts runs the same over Durable Objects, test/sim/txn under faults.
import { describe, expect, it } from "vitest";
import type { CrossShardTxn } from "../../src/router/txn-coordinator.ts";
import { assemble } from "../../src/router/txn-keyed.ts";
import type { CoordinatorIo } from "../../src/router/txn-recovery.ts";
import { ShardUnavailableError } from "../../src/router/types.ts";
import { StoreRouter, bytes, clock, put, runTxn } from "./store-router.ts";

const key = "admin/deploy-1";
/** Ops on b, a, b: the answer must come back in this order whatever the parts. */
const request: CrossShardTxn = {
  compare: [],
  success: [put("b/x", "1"), put("a/y", "2"), { type: "get", key: "b/x" }],
  failure: [],
  idempotencyKey: key,
};

/** A put command stamped `atMs`. */
const putAt = (key: string, value: string, atMs: number) =>
  ({ type: "put", atMs, key, value: bytes(value), contentType: "text/plain" }) as const;

const run = (router: StoreRouter, io: CoordinatorIo, txn: CrossShardTxn = request) =>
  runTxn(router, io, txn);

describe("a keyed cross-shard txn, its coordinator's side", () => {
  it("forgets on the record namespace first, bringing the answer, and only then on the others", async () => {
    const router = new StoreRouter({ a: 0, b: 1 });
    const { io } = clock();
    await run(router, io);
    const forgets = router.log.filter((w) => w.type === "txnForget");
    expect(forgets).toEqual([
      { namespace: "b", type: "txnForget", answer: true },
      { namespace: "a", type: "txnForget" },
    ]);
  });

  it("answers a retry, however late, the first results in request order, and writes nothing again", async () => {
    const router = new StoreRouter({ a: 0, b: 1 });
    const { io, pass } = clock();
    const first = await run(router, io);
    pass(60_000);
    const again = await run(router, io);
    expect(again).toEqual({ ...first, replayed: true, token: expect.any(String) });
    expect(first.type === "committed" && first.results.map((r) => r.type)).toEqual([
      "put",
      "put",
      "get",
    ]);
    expect(router.stores.map((s) => s.stats().revision)).toEqual([1, 1, 0, 0]);
  });

  it("answers a retry the first outcome after a reshard put every namespace on one shard", async () => {
    const router = new StoreRouter({ a: 0, b: 1 });
    const { io } = clock();
    const first = await run(router, io);
    router.placement = { a: 1, b: 1 }; // the key record stayed with the record namespace, b
    const again = await run(router, io);
    expect(again).toMatchObject({ type: "committed", replayed: true });
    expect(again.type === "committed" && again.results).toEqual(
      first.type === "committed" && first.results,
    );
    expect(router.log.at(-1)?.type).toBe("shardTxn");
  });

  it("refuses a retry whose first answer was lost and whose tombstones are gone: nothing twice", async () => {
    const router = new StoreRouter({ a: 0, b: 1 });
    const { io, pass } = clock();
    router.drop = (_n, c) => c.type === "txnForget" && "answer" in c;
    await run(router, io).catch(() => undefined);
    router.drop = () => false;
    // Recovery later forgot without the answer (its probes found no pins); then the deadline.
    for (const namespace of ["a", "b"])
      await router.write(namespace, { type: "txnForget", atMs: io.nowMs(), txnId: "t1" });
    // Unpinned, the tombstones no longer say which namespaces their results are of.
    const soon = await run(router, io);
    expect(soon).toMatchObject({ type: "refused", outcome: { reason: "resolved", txnId: "t1" } });
    pass(60_000);
    const again = await run(router, io);
    expect(again).toMatchObject({ type: "refused", outcome: { reason: "resolved" } });
    expect(router.stores.map((s) => s.stats().revision)).toEqual([1, 1, 0, 0]);
  });

  it("answers a retry on one shard after a reshard a token at the newest revision of its namespaces", async () => {
    const router = new StoreRouter({ a: 0, b: 1 });
    const { io } = clock();
    for (const v of ["1", "2"]) await router.write("a", putAt("a/old", v, io.nowMs()));
    const first = await run(router, io);
    expect(first).toMatchObject({ type: "committed", revisions: { a: 3, b: 1 } });
    router.placement = { a: 1, b: 1 }; // a moved to b's shard, past every revision it had
    const again = await run(router, io);
    expect(again).toMatchObject({ type: "committed", replayed: true, token: "s1.3" });
  });

  it("answers a retry that a reshard split across shards the single-shard txn's first outcome", async () => {
    const router = new StoreRouter({ a: 0, b: 0 });
    const { io } = clock();
    const first = await run(router, io);
    // a moved away; the key record stays with b's shard (the namespace of its first write).
    router.placement = { a: 1, b: 0 };
    const again = await run(router, io);
    expect(again).toMatchObject({ type: "committed", replayed: true, succeeded: true });
    expect(again.type === "committed" && again.results).toEqual(
      first.type === "committed" && first.results,
    );
    expect(router.stores[1]!.stats().revision).toBe(0); // nothing ran again where a is now
  });

  it("answers a retry of a txn that ran its failure branch: not succeeded, the failure's results", async () => {
    const router = new StoreRouter({ a: 0, b: 1 });
    const { io, pass } = clock();
    const failing: CrossShardTxn = {
      compare: [{ key: "b/x", target: "version", op: "=", value: 9 }],
      success: [put("b/x", "never")],
      failure: [put("a/y", "fallback"), put("b/z", "fallback")],
      idempotencyKey: "admin/failing",
    };
    const first = await run(router, io, failing);
    pass(60_000);
    const again = await run(router, io, failing);
    expect(first).toMatchObject({ type: "committed", succeeded: false });
    expect(again).toEqual({ ...first, replayed: true, token: expect.any(String) });
  });
});

describe("a keyed retry, what it is answered", () => {
  it("is a 503 while the first attempt committed and one part is still resolving", async () => {
    const router = new StoreRouter({ a: 0, b: 1 });
    const { io } = clock();
    // b (the record) settles commit; a's resolve is lost: a's part stays prepared.
    router.drop = (n, c) => (c.type === "txnResolve" && n === "a") || c.type === "txnForget";
    await run(router, io).catch(() => undefined);
    router.drop = () => false;
    const e = await run(router, io).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ShardUnavailableError);
    expect((e as Error).message).toContain("transaction t1 committed and is still resolving");
    expect(router.stores.map((s) => s.stats().revision)).toEqual([0, 1, 0, 0]); // a: not yet
  });

  it("split across shards by a reshard, is refused again as its first single-shard attempt was", async () => {
    const router = new StoreRouter({ a: 0, b: 0 });
    const { io } = clock();
    // A fence on a lock nobody holds: the single-shard txn is fenced (412), and that is kept.
    const fenced: CrossShardTxn = { ...request, fence: { lock: "a/lock", token: 7 } };
    const first = await run(router, io, fenced);
    expect(first).toMatchObject({ type: "refused", outcome: { type: "fenced" } });
    router.placement = { a: 1, b: 0 }; // the key record stays with b's shard
    const again = await run(router, io, fenced);
    expect(again).toMatchObject({
      type: "refused",
      outcome: { type: "fenced", deduplicated: true, fence: { lock: "a/lock", token: 7 } },
    });
    expect(router.stores.map((s) => s.stats().revision)).toEqual([0, 0, 0, 0]);
  });

  /** A lock on a, held: its fencing token. */
  async function heldLock(router: StoreRouter, io: CoordinatorIo): Promise<number> {
    const g = await router.write("a", {
      type: "leaseGrant",
      atMs: io.nowMs(),
      namespace: "a",
      ttlMs: 600_000,
    });
    if (g.outcome.type !== "lease") throw new Error(g.outcome.type);
    const l = await router.write("a", {
      type: "lockAcquire",
      atMs: io.nowMs(),
      lock: "a/lock",
      lease: g.outcome.lease.id,
      wait: false,
    });
    if (l.outcome.type !== "lock" || l.outcome.state.holder === null) throw new Error("not held");
    return l.outcome.state.holder.fencingToken;
  }

  it("with its fence, is the same request once a reshard put every namespace on one shard", async () => {
    const router = new StoreRouter({ a: 0, b: 1 });
    const { io } = clock();
    const fenced = { ...request, fence: { lock: "a/lock", token: await heldLock(router, io) } };
    const first = await run(router, io, fenced);
    expect(first).toMatchObject({ type: "committed", replayed: false });
    router.placement = { a: 1, b: 1 }; // the key record stayed with the record namespace, b
    const again = await run(router, io, fenced);
    expect(again).toMatchObject({ type: "committed", replayed: true });
    expect(again.type === "committed" && again.results).toEqual(
      first.type === "committed" && first.results,
    );
  });

  it("with another fence, is another request: the key is refused as reused, nothing replayed", async () => {
    const router = new StoreRouter({ a: 0, b: 1 });
    const { io } = clock();
    const token = await heldLock(router, io);
    const first = await run(router, io, { ...request, fence: { lock: "a/lock", token } });
    expect(first).toMatchObject({ type: "committed" });
    const other = await run(router, io, {
      ...request,
      fence: { lock: "a/lock", token: token + 1 },
    });
    expect(other).toMatchObject({
      type: "refused",
      outcome: { type: "invalid", reason: "idempotencyKeyReused" },
    });
  });
});

describe("assembling an answer from its parts", () => {
  it("refuses an op whose namespace no part covers, rather than answer another part's result", () => {
    const part = { namespaces: ["a"], results: [], revision: 1 };
    expect(() => assemble(request, true, [part])).toThrow("the txn's answer has no part for b/x");
  });
});
