// Recovery of a cross-shard txn (src/router/txn-recovery.ts) over real Stores: when it may run,
// what it answers for each state the participants are left in (its record STAGING, settled,
// never staged or forgotten; each part prepared, committed with its branch pinned, or absent),
// what it does when an answer is not one it can read, and where its forgets go.
import { describe, expect, it } from "vitest";
import type { CrossShardTxn } from "../../src/router/txn-coordinator.ts";
import { recoverIntent, type CoordinatorIo } from "../../src/router/txn-recovery.ts";
import type { Router } from "../../src/router/types.ts";
import type { Command, IntentOutcome, TxnIntent } from "../../src/store/types.ts";
import {
  StoreRouter,
  bytes,
  clock,
  deferring,
  failsOnB,
  intentOn,
  keepTombstones,
  put,
  runTxn,
  twoKeys,
} from "./store-router.ts";

type Io = ReturnType<typeof clock>["io"];
const text = (v: Uint8Array) => new TextDecoder().decode(v);
const twoShards = () => new StoreRouter({ a: 0, b: 1 });
const recover = (router: StoreRouter, intent: TxnIntent, io: CoordinatorIo) =>
  recoverIntent(router as unknown as Router, intent, io);
/** The txn's deadline: its prepares were stamped at the clock's start. */
const deadlineOf = (start: number) => start + 3_000;
const start = 1_700_000_000_000;

function valueOf(router: StoreRouter, key: string): string | null {
  const shard = router.placement[key.slice(0, key.indexOf("/"))]!;
  const got = router.stores[shard]!.get({ key });
  return got.type === "found" ? text(got.value) : null;
}

const ofType = <T extends Command["type"]>(router: StoreRouter, type: T, from = 0) =>
  router.commands.slice(from).filter((c): c is Extract<Command, { type: T }> => c.type === type);

/** A write of `key` now: "ok" once free, or the intent that holds it. */
async function tryWrite(router: StoreRouter, io: Io, key: string) {
  const w = await router.write(key.slice(0, key.indexOf("/")), {
    type: "put",
    atMs: io.nowMs(),
    key,
    value: bytes("mine"),
    contentType: "text/plain",
  });
  return w.outcome;
}

/** Runs `txn` with only the prepares of `prepared` namespaces applied: its coordinator vanished. */
async function abandon(router: StoreRouter, io: Io, txn: CrossShardTxn, prepared: string[]) {
  router.drop = (n, c) => c.type !== "txnPrepare" || !prepared.includes(n);
  await runTxn(router, io, txn).catch(() => undefined);
  router.drop = () => false;
}

/** The intent a write of `key` meets. */
async function intentAt(router: StoreRouter, io: Io, key: string): Promise<TxnIntent> {
  const o = await tryWrite(router, io, key);
  if (o.type !== "intent") throw new Error(`${key}: ${o.type}, not an intent`);
  return (o as IntentOutcome).intent;
}

describe("when recovery runs", () => {
  it("runs at the deadline itself: from then on no part can be prepared any more", async () => {
    const router = twoShards();
    const { io, pass } = clock(start);
    await abandon(router, io, twoKeys, ["a", "b"]);
    const intent = await intentAt(router, io, "a/x");
    pass(deadlineOf(start) - io.nowMs());
    expect(io.nowMs()).toBe(intent.deadlineMs);
    expect(await recover(router, intent, io)).toBe(true);
    expect([valueOf(router, "a/x"), valueOf(router, "b/y")]).toEqual(["1", "2"]);
  });

  it("decides nothing from probes stamped before the deadline (a clock stepped back)", async () => {
    const router = twoShards();
    const { io, pass } = clock(start);
    await abandon(router, io, twoKeys, ["a"]);
    pass(10_000);
    expect((await tryWrite(router, io, "a/other")).type).toBe("ok"); // a's clock: past it
    // The deadline has passed when recovery starts, then the clock steps back 2 s: b's probe,
    // stamped before the deadline, finds b absent while its prepare could still be applied.
    const deadline = deadlineOf(start);
    let reads = 0;
    const stepped = { ...io, nowMs: () => (reads++ === 0 ? deadline : deadline - 2_000) };
    const from = router.commands.length;
    expect(await recover(router, intentOn("t1", deadline), stepped)).toBe(false);
    expect(router.commands.slice(from).map((c) => c.type)).toEqual(["txnProbe", "txnProbe"]);
    expect(router.stores[0]!.txnRecord("t1")).toEqual({ decision: "staging" });
    expect(await recover(router, intentOn("t1", deadline), io)).toBe(true); // the clock is back
    expect(router.stores[0]!.txnRecord("t1")).toBeNull(); // aborted, and past the deadline
  });
});

describe("what recovery decides from the participants", () => {
  it("commits the failure branch everywhere when a prepared part's compare did not hold", async () => {
    const router = twoShards();
    const { io, pass } = clock(start);
    await abandon(router, io, failsOnB, ["a", "b"]);
    pass(10_000);
    expect(await recover(router, intentOn("t1", deadlineOf(start)), io)).toBe(true);
    expect(["a/x", "b/y", "b/f"].map((k) => valueOf(router, k))).toEqual(["no", null, "no"]);
  });

  it("commits the branch a participant already ran (its pinned tombstone), not one from the compares", async () => {
    const router = twoShards();
    const { io, pass } = clock(start);
    // Every part prepared; the coordinator's settle is lost, b's resolve (failure) applied.
    // Only b's prepare knew its compare failed, and b no longer holds a prepare to say so.
    router.drop = (_n, c) => c.type === "txnRecordSettle";
    await runTxn(router, io, failsOnB).catch(() => undefined);
    router.drop = () => false;
    expect(valueOf(router, "b/f")).toBe("no");
    pass(10_000);
    expect(await recover(router, intentOn("t1", deadlineOf(start)), io)).toBe(true);
    expect(["a/x", "b/y", "b/f"].map((k) => valueOf(router, k))).toEqual(["no", null, "no"]);
  });

  it("aborts, by compare-and-set on the record, when a part was never prepared; an abort names no branch", async () => {
    const router = twoShards();
    const { io, pass } = clock(start);
    await abandon(router, io, twoKeys, ["a"]);
    pass(10_000);
    const from = router.commands.length;
    expect(await recover(router, intentOn("t1", deadlineOf(start)), io)).toBe(true);
    const settles = ofType(router, "txnRecordSettle", from);
    expect(settles.map((c) => [c.decision, c.by])).toEqual([["abort", "recovery"]]);
    const resolves = ofType(router, "txnResolve", from);
    expect(resolves.map((c) => c.decision)).toEqual(["abort", "abort"]);
    expect([...settles, ...resolves].some((c) => "branch" in c)).toBe(false);
    expect((await tryWrite(router, io, "a/x")).type).toBe("ok");
  });

  it("aborts a txn whose record was never staged (the record shard's prepare lost)", async () => {
    const router = twoShards();
    const { io, pass } = clock(start);
    await abandon(router, io, twoKeys, ["b"]);
    const intent = await intentAt(router, io, "b/y");
    pass(10_000);
    const from = router.commands.length;
    expect(await recover(router, intent, io)).toBe(true);
    expect(ofType(router, "txnRecordSettle", from)).toEqual([]); // no record to settle
    const resolves = ofType(router, "txnResolve", from);
    expect(resolves.map((c) => [c.decision, "branch" in c])).toEqual([
      ["abort", false],
      ["abort", false],
    ]);
    expect([valueOf(router, "a/x"), valueOf(router, "b/y")]).toEqual([null, null]);
    expect((await tryWrite(router, io, "b/y")).type).toBe("ok");
  });

  it("forgets a commit the record's shard forgot but another participant still pins", async () => {
    const router = twoShards();
    const { io, pass } = clock(start);
    await keepTombstones(router, io); // a's tombstone of t1 stays (it says commit)
    router.drop = (n, c) => c.type === "txnForget" && n === "b";
    await runTxn(router, io, twoKeys).catch(() => undefined);
    router.drop = () => false;
    pass(10_000);
    const probeB = async () =>
      (await router.write("b", { type: "txnProbe", atMs: io.nowMs(), txnId: "t1", deadlineMs: 0 }))
        .outcome;
    expect(await probeB()).toMatchObject({ part: "committed", branch: "success" });
    expect(await recover(router, intentOn("t1", deadlineOf(start)), io)).toBe(true);
    // Unpinned, b's tombstone went (past its deadline) instead of staying forever.
    expect(await probeB()).toMatchObject({ part: "absent" });
    expect([valueOf(router, "a/x"), valueOf(router, "b/y")]).toEqual(["1", "2"]);
  });
});

describe("answers recovery cannot read", () => {
  it("a probe answered otherwise (a moved namespace, say): nothing decided, retried later", async () => {
    const router = twoShards();
    const { io, pass } = clock(start);
    await abandon(router, io, twoKeys, ["a", "b"]);
    pass(10_000);
    router.answer = (c, w) =>
      c.type === "txnProbe" && w.token.startsWith("s1.") // b's shard
        ? { ...w, outcome: { type: "notFound", revision: w.outcome.revision } }
        : w;
    const from = router.commands.length;
    expect(await recover(router, intentOn("t1", deadlineOf(start)), io)).toBe(false);
    expect(router.commands.slice(from).map((c) => c.type)).toEqual(["txnProbe", "txnProbe"]);
    expect(router.stores[0]!.txnRecord("t1")).toEqual({ decision: "staging" });
  });

  it("a settle whose answer it cannot read: nothing resolved, retried later", async () => {
    const router = twoShards();
    const { io, pass } = clock(start);
    await abandon(router, io, twoKeys, ["a"]);
    pass(10_000);
    router.answer = (c, w) =>
      c.type === "txnRecordSettle"
        ? { ...w, outcome: { type: "notFound", revision: w.outcome.revision } }
        : w;
    const from = router.commands.length;
    expect(await recover(router, intentOn("t1", deadlineOf(start)), io)).toBe(false);
    expect(ofType(router, "txnResolve", from)).toEqual([]);
  });

  it("a resolve answered otherwise fails recovery, and nothing is forgotten", async () => {
    const router = twoShards();
    const { io, pass } = clock(start);
    await abandon(router, io, twoKeys, ["a", "b"]);
    pass(10_000);
    router.answer = (c, w) =>
      c.type === "txnResolve"
        ? { ...w, outcome: { type: "notFound", revision: w.outcome.revision } }
        : w;
    const from = router.commands.length;
    await expect(recover(router, intentOn("t1", deadlineOf(start)), io)).rejects.toThrow(
      "txnResolve answered notFound",
    );
    expect(ofType(router, "txnForget", from)).toEqual([]);
  });
});

describe("recovery's forgets", () => {
  /** An io whose waitUntil keeps the work; forgets wait for `release`. */
  function gatedForgets(router: StoreRouter, io: Io) {
    let release = () => undefined as void;
    const gate = new Promise<void>((r) => (release = r));
    router.before = async (_n, c) => {
      if (c.type === "txnForget") await gate;
    };
    return { ...deferring(io), release };
  }

  for (const [what, prepared, forgets] of [
    ["an abort's", ["a"], 2],
    ["a commit's", ["a", "b"], 2],
  ] as const) {
    it(`${what} go to waitUntil when the request can outlive its answer`, async () => {
      const router = twoShards();
      const c = clock(start);
      await abandon(router, c.io, twoKeys, [...prepared]);
      c.pass(10_000);
      const { io, deferred, release } = gatedForgets(router, c.io);
      const from = router.commands.length;
      expect(await recover(router, intentOn("t1", deadlineOf(start)), io)).toBe(true);
      expect(deferred).toHaveLength(1);
      release();
      await Promise.all(deferred);
      expect(ofType(router, "txnForget", from)).toHaveLength(forgets);
    });
  }

  it("a keyed commit's bring the answer to the key record: a retry replays it", async () => {
    const router = twoShards();
    const { io, pass } = clock(start);
    const keyed: CrossShardTxn = {
      compare: [],
      success: [put("b/x", "1"), put("a/y", "2"), { type: "get", key: "b/x" }],
      failure: [],
      idempotencyKey: "admin/recovered",
    };
    await abandon(router, io, keyed, ["a", "b"]);
    const intent = await intentAt(router, io, "b/x");
    pass(10_000);
    const from = router.log.length;
    expect(await recover(router, intent, io)).toBe(true);
    expect(router.log.slice(from).filter((w) => w.type === "txnForget")).toEqual([
      { namespace: "b", type: "txnForget", answer: true },
      { namespace: "a", type: "txnForget" },
    ]);
    pass(60_000); // the tombstones are gone: only the kept answer can say what ran
    const again = await runTxn(router, io, keyed);
    expect(again).toMatchObject({ type: "committed", succeeded: true, replayed: true });
    const results = again.type === "committed" ? again.results : [];
    expect(results.map((r) => r.type)).toEqual(["put", "put", "get"]);
    expect(results[2]).toMatchObject({ type: "get", entry: { key: "b/x" } });
  });

  it("a keyed commit a participant already forgot keeps no answer: a retry is refused, never half-answered", async () => {
    const router = twoShards();
    const { io, pass } = clock(start);
    const keyed: CrossShardTxn = {
      compare: [],
      success: [put("b/x", "1"), put("a/y", "2")],
      failure: [],
      idempotencyKey: "admin/half",
    };
    // Committed and resolved; the forget bringing the answer to b (the record) is lost, and a
    // forget without one reached a alone: a's tombstone no longer says which namespaces it is of.
    router.drop = (n, c) => c.type === "txnForget" && n === "b";
    await runTxn(router, io, keyed).catch(() => undefined);
    router.drop = () => false;
    await router.write("a", { type: "txnForget", atMs: io.nowMs(), txnId: "t1" });
    pass(10_000);
    const intent: TxnIntent = {
      key: "b/x",
      txnId: "t1",
      write: true,
      deadlineMs: deadlineOf(start),
      recordNamespace: "b",
      participants: ["b", "a"],
    };
    const from = router.log.length;
    expect(await recover(router, intent, io)).toBe(true);
    expect(router.log.slice(from).filter((w) => w.type === "txnForget")).toEqual([
      { namespace: "b", type: "txnForget" },
      { namespace: "a", type: "txnForget" },
    ]);
    const again = await runTxn(router, io, keyed);
    expect(again).toMatchObject({ type: "refused", outcome: { reason: "resolved", txnId: "t1" } });
  });
});
