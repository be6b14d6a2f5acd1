// The cross-shard txn coordinator and recovery (src/router/txn-coordinator.ts, txn-recovery.ts)
// over real Stores behind a router that applies each command at once: the rounds a commit takes,
// what a refused prepare leaves (nothing), what an abandoned txn becomes once recovered, and how
// the answer is put together. test/sim/txn runs the same protocol under faults.
import { describe, expect, it } from "vitest";
import { recoverIntent } from "../../src/router/txn-coordinator.ts";
import type { Router } from "../../src/router/types.ts";
import { ShardUnavailableError } from "../../src/router/types.ts";
import type { IntentOutcome } from "../../src/store/types.ts";
import {
  StoreRouter,
  bytes,
  clock,
  keepTombstones,
  unreadableSettle,
  intentOn,
  put,
  runTxn,
  twoKeys,
} from "./store-router.ts";

/** A put command (a txn op's fields, stamped). */
const putNow = (io: ReturnType<typeof clock>["io"], key: string, value: string) =>
  ({ type: "put", atMs: io.nowMs(), key, value: bytes(value), contentType: "text/plain" }) as const;
const text = (v: Uint8Array) => new TextDecoder().decode(v);

const run = runTxn;

function valueOf(router: StoreRouter, key: string): string | null {
  const shard = router.placement[key.slice(0, key.indexOf("/"))]!;
  const got = router.stores[shard]!.get({ key });
  return got.type === "found" ? text(got.value) : null;
}

const twoShards = () => new StoreRouter({ a: 0, b: 1, c: 0 });

describe("a commit across shards", () => {
  it("prepares every part, then settles the record and resolves the others: two rounds", async () => {
    const router = twoShards();
    const { io } = clock();
    const answer = await run(router, io, twoKeys);
    expect(answer).toMatchObject({ type: "committed", succeeded: true, replayed: false });
    expect(router.log.slice(0, 4).map((w) => `${w.namespace}:${w.type}`)).toEqual([
      "a:txnPrepare",
      "b:txnPrepare",
      "a:txnRecordSettle",
      "b:txnResolve",
    ]);
    expect([valueOf(router, "a/x"), valueOf(router, "b/y")]).toEqual(["1", "2"]);
  });

  it("answers the branch's results in request order, each namespace's revision and a token per shard", async () => {
    const router = twoShards();
    const { io } = clock();
    const answer = await run(router, io, {
      compare: [],
      success: [put("b/y", "2"), put("a/x", "1"), put("c/z", "3"), put("b/w", "4")],
      failure: [],
    });
    if (answer.type !== "committed") throw new Error(answer.type);
    const keys = answer.results.map((r) => (r.type === "put" ? r.entry.key : ""));
    expect(keys).toEqual(["b/y", "a/x", "c/z", "b/w"]);
    expect(answer.revisions).toEqual({ a: 1, b: 1, c: 1 });
    expect(answer.token.split(",").sort()).toEqual(["s0.1", "s1.1"]);
  });

  it("runs the failure branch on every shard when a compare fails on one", async () => {
    const router = twoShards();
    const { io } = clock();
    const answer = await run(router, io, {
      compare: [{ key: "b/y", target: "version", op: "=", value: 5 }],
      success: [put("a/x", "yes"), put("b/y", "yes")],
      failure: [put("a/x", "no"), put("b/f", "no")],
    });
    expect(answer).toMatchObject({ type: "committed", succeeded: false });
    expect([valueOf(router, "a/x"), valueOf(router, "b/y"), valueOf(router, "b/f")]).toEqual([
      "no",
      null,
      "no",
    ]);
  });

  it("takes one round when the ring put every namespace on one shard, each namespace at its revision", async () => {
    const router = new StoreRouter({ a: 0, c: 0 });
    const { io } = clock();
    const answer = await run(router, io, {
      compare: [],
      success: [put("a/x", "1"), put("c/z", "3")],
      failure: [],
    });
    expect(router.log.map((w) => w.type)).toEqual(["shardTxn"]);
    expect(answer).toMatchObject({ type: "committed", revisions: { a: 1, c: 1 } });
  });
});

describe("a prepare refused", () => {
  it("aborts the txn: the record says abort, no part keeps an intent, nothing is written", async () => {
    const router = twoShards();
    const { io } = clock();
    // Another txn holds b/y: prepared on both shards, never settled.
    router.drop = (_n, c) => c.type !== "txnPrepare";
    const blocker = { compare: [], success: [put("a/q", "x"), put("b/y", "held")], failure: [] };
    await run(router, io, blocker).catch(() => undefined);
    router.drop = () => false;
    for (const success of [
      [put("a/x", "1"), put("b/y", "2")], // the record's part prepared, the other refused
      [put("b/y", "2"), put("a/x", "1")], // the record's part refused, the other prepared
    ]) {
      const answer = await run(router, io, { compare: [], success, failure: [] });
      expect(answer).toMatchObject({ type: "refused", outcome: { type: "intent" } });
      expect(valueOf(router, "a/x")).toBeNull();
      const free = await router.write("a", putNow(io, "a/x", "free")); // its intent is gone
      expect(free.outcome.type).toBe("ok");
      await router.write("a", { type: "delete", atMs: io.nowMs(), key: "a/x" });
    }
    expect(router.stores[0]!.txnRecord("t2")).toEqual({ decision: "abort" });
    expect(router.stores[1]!.txnRecord("t3")).toEqual({ decision: "abort" });
  });

  it("is a 503 while its abort cannot be recorded: the outcome is unknown until the deadline", async () => {
    const router = twoShards();
    const { io } = clock();
    router.drop = (n, c) => c.type === "txnPrepare" && n === "b";
    router.answer = unreadableSettle;
    const failed = await run(router, io, twoKeys).catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(ShardUnavailableError);
    expect((failed as Error).message).toContain("its abort could not be recorded");
  });
});

describe("recovery of a txn whose coordinator vanished", () => {
  /** Prepares `keys` under txn t1 (record namespace a, participants a and b) and vanishes. */
  async function abandoned(
    router: StoreRouter,
    io: ReturnType<typeof clock>["io"],
    keys: string[],
  ) {
    router.drop = (n, c) => c.type !== "txnPrepare" || !keys.some((k) => k.startsWith(`${n}/`));
    await run(router, io, twoKeys).catch(() => undefined);
    router.drop = () => false;
    const held = (await router.write("a", putNow(io, "a/x", "mine"))).outcome as IntentOutcome;
    return held.intent;
  }

  it("does nothing before the deadline, not even a probe", async () => {
    const router = twoShards();
    const { io } = clock();
    const intent = await abandoned(router, io, ["a/x", "b/y"]);
    const before = router.log.length;
    expect(await recoverIntent(router as unknown as Router, intent, io)).toBe(false);
    expect(router.log.length).toBe(before);
    expect(router.stores[0]!.txnRecord("t1")).toEqual({ decision: "staging" });
  });

  it("commits past the deadline when every part was prepared (an implicit commit)", async () => {
    const router = twoShards();
    const { io, pass } = clock();
    const intent = await abandoned(router, io, ["a/x", "b/y"]);
    pass(10_000);
    expect(await recoverIntent(router as unknown as Router, intent, io)).toBe(true);
    expect([valueOf(router, "a/x"), valueOf(router, "b/y")]).toEqual(["1", "2"]);
  });

  it("aborts past the deadline when one part was never prepared", async () => {
    const router = twoShards();
    const { io, pass } = clock();
    const intent = await abandoned(router, io, ["a/x"]);
    pass(10_000);
    expect(await recoverIntent(router as unknown as Router, intent, io)).toBe(true);
    expect([valueOf(router, "a/x"), valueOf(router, "b/y")]).toEqual([null, null]);
    // Past the deadline an abort's record goes (its absence says abort), and so does the intent.
    expect(router.stores[0]!.txnRecord("t1")).toBeNull();
    expect((await router.write("a", putNow(io, "a/x", "mine"))).outcome.type).toBe("ok");
  });
});

describe("recovery of a txn committed and forgotten", () => {
  it("resolves nothing: an abort resolved where a tombstone went would contradict the commit", async () => {
    const router = twoShards();
    const { io, pass } = clock();
    await keepTombstones(router, io);
    const txn = twoKeys;
    expect(await run(router, io, txn)).toMatchObject({ type: "committed" });
    pass(10_000);
    const intent = intentOn("t1", io.nowMs() - 5_000);
    const before = router.log.length;
    expect(await recoverIntent(router as unknown as Router, intent, io)).toBe(true);
    expect(router.log.slice(before).map((w) => w.type)).toEqual(["txnProbe", "txnProbe"]);
    const b = await router.write("b", {
      type: "txnProbe",
      atMs: io.nowMs(),
      txnId: "t1",
      deadlineMs: 0,
    });
    expect(b.outcome).toMatchObject({ part: "absent" });
  });
});

describe("recovery whose settle meets the coordinator's commit, resolved and forgotten", () => {
  it("has nothing left to do: it resolves nothing and fails nothing", async () => {
    const router = twoShards();
    const { io, pass } = clock();
    await keepTombstones(router, io);
    router.drop = (_n, c) => c.type !== "txnPrepare";
    const txn = twoKeys;
    await run(router, io, txn).catch(() => undefined);
    router.drop = () => false;
    const deadlineMs = io.nowMs() + 3_000;
    pass(10_000);
    // The slow coordinator finishes between recovery's probes and its settle.
    router.before = async (_n, c) => {
      if (c.type !== "txnRecordSettle" || c.by !== "recovery") return;
      router.before = async () => undefined;
      const common = { atMs: io.nowMs(), txnId: "t1", deadlineMs };
      await router.write("a", {
        ...common,
        type: "txnRecordSettle",
        decision: "commit",
        branch: "success",
        by: "coordinator",
        recordNamespace: "a",
        participants: ["a", "b"],
      });
      await router.write("b", {
        ...common,
        type: "txnResolve",
        decision: "commit",
        branch: "success",
      });
      for (const n of ["a", "b"]) await router.write(n, { ...common, type: "txnForget" });
      pass(10_000);
    };
    const intent = intentOn("t1", deadlineMs);
    expect(await recoverIntent(router as unknown as Router, intent, io)).toBe(true);
    const settled = router.log.map((w) => w.type).lastIndexOf("txnRecordSettle");
    expect(router.log.slice(settled + 1)).toEqual([]); // recovery's settle was its last step
    expect([valueOf(router, "a/x"), valueOf(router, "b/y")]).toEqual(["1", "2"]);
  });
});

describe("a coordinator whose abort meets a commit recovery made and forgot", () => {
  it("answers 503 (the outcome is unknown to it), not an error, and resolves nothing", async () => {
    const router = twoShards();
    const { io, pass } = clock();
    await keepTombstones(router, io);
    // b's prepare applies but its reply is lost: the coordinator aborts. Before its settle lands,
    // a reader recovers the txn (every part prepared: commit) and forgets it.
    router.lose = (n, c) => n === "b" && c.type === "txnPrepare";
    router.before = async (_n, c) => {
      if (c.type !== "txnRecordSettle" || c.by !== "coordinator") return;
      router.before = async () => undefined;
      router.lose = () => false;
      pass(10_000);
      const intent = intentOn("t1", c.deadlineMs);
      expect(await recoverIntent(router as unknown as Router, intent, io)).toBe(true);
      pass(10_000);
    };
    const txn = twoKeys;
    const e = await run(router, io, txn).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ShardUnavailableError);
    expect((e as Error).message).toContain("it was committed and forgotten meanwhile");
    expect([valueOf(router, "a/x"), valueOf(router, "b/y")]).toEqual(["1", "2"]);
  });
});

describe("an outcome the coordinator cannot tell", () => {
  it("is a ShardUnavailableError naming the deadline, never a guess", async () => {
    const router = twoShards();
    const { io } = clock();
    router.answer = unreadableSettle;
    const e = await run(router, io, twoKeys).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ShardUnavailableError);
    const message = (e as Error).message;
    expect(message).toContain("transaction t1: its record answered notFound");
    expect(message).toContain("known once its deadline has passed");
    expect(message).toContain("or retry with the same Idempotency-Key");
  });
});
