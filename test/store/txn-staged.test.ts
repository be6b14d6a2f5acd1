// Parallel commits, one shard at a time (src/store/txn-staged.ts): the STAGING record written by
// the record namespace's prepare, recovery's probe, the settle's compare-and-set, the pinned
// commit tombstone and txnForget. test/sim/txn runs them across groups with faults.
import { describe, expect, it } from "vitest";
import { Store } from "../../src/store/store.ts";
import { Driver, expectType, putOp as put } from "./helpers.ts";

/** The driver's clock starts at 1.7e12 and moves 1 s per command. */
const farDeadline = 2_000_000_000_000;
const participants = ["app", "web"];

function stage(d: Driver, txnId: string, key: string, deadlineMs = farDeadline, atMs?: number) {
  return d.apply({
    type: "txnPrepare",
    ...(atMs === undefined ? {} : { atMs }),
    txnId,
    compare: [],
    success: [put(key, `by ${txnId}`)],
    failure: [],
    recordNamespace: "app",
    participants,
    deadlineMs,
    staging: true,
  });
}

function settle(
  d: Driver,
  txnId: string,
  decision: "commit" | "abort",
  by: "coordinator" | "recovery" = "coordinator",
  deadlineMs = farDeadline,
  atMs?: number,
) {
  return d.apply({
    type: "txnRecordSettle",
    ...(atMs === undefined ? {} : { atMs }),
    txnId,
    decision,
    ...(decision === "commit" ? { branch: "success" as const } : {}),
    deadlineMs,
    by,
    recordNamespace: "app",
    participants,
  });
}

const probe = (d: Driver, txnId: string, deadlineMs = farDeadline) =>
  expectType(d.apply({ type: "txnProbe", txnId, deadlineMs }), "txnProbed");

const resolveCommit = (d: Driver, txnId: string, deadlineMs = farDeadline) =>
  d.apply({ type: "txnResolve", txnId, decision: "commit", branch: "success", deadlineMs });

describe("the STAGING record", () => {
  it("is written by the prepare of the record namespace's part, in the same entry", () => {
    const d = new Driver();
    expectType(stage(d, "t1", "app/a"), "txnPrepared");
    expect(d.store.txnRecord("t1")).toEqual({ decision: "staging" });
    expect(d.store.appliedIndex).toBe(1);
    const other = new Driver();
    expectType(stage(other, "t1", "web/c"), "txnPrepared");
    expect(other.store.txnRecord("t1")).toBeNull();
  });

  it("is never pruned by the clock: only a settle decides it", () => {
    const d = new Driver();
    stage(d, "t1", "app/a", d.nowMs + 1500);
    d.put("app/z", "later"); // the clock passes the deadline
    d.apply({ type: "txnRecordForget", txnId: "t1" });
    d.apply({ type: "txnForget", txnId: "t1" });
    expect(d.store.txnRecord("t1")).toEqual({ decision: "staging" });
  });

  it("goes through a snapshot with its staged part", () => {
    const d = new Driver();
    stage(d, "t1", "app/a");
    const restored = Store.restore(d.store.snapshot());
    expect(restored.txnRecord("t1")).toEqual({ decision: "staging" });
    const again = new Driver(restored);
    again.index = d.index;
    again.nowMs = d.nowMs;
    expect(settle(again, "t1", "commit")).toMatchObject({ decision: "commit", first: true });
    expect(again.value("app/a")).toBe("by t1");
  });
});

describe("settle", () => {
  it("marks a STAGING record committed and commits this shard's part in the same entry", () => {
    const d = new Driver();
    stage(d, "t1", "app/a");
    const o = expectType(settle(d, "t1", "commit"), "txnDecision");
    expect(o).toMatchObject({ decision: "commit", branch: "success", first: true });
    expect(o.resolved).toMatchObject({ decision: "commit", committedRevision: 1 });
    expect(d.value("app/a")).toBe("by t1");
    expect(d.store.txnRecord("t1")).toEqual({ decision: "commit", branch: "success" });
  });

  it("is a compare-and-set: the first decision wins and a later one gets it back", () => {
    const d = new Driver();
    stage(d, "t1", "app/a");
    settle(d, "t1", "commit");
    const late = expectType(settle(d, "t1", "abort"), "txnDecision");
    expect(late).toMatchObject({ decision: "commit", first: false });
    expect(late.resolved?.committedRevision).toBe(1);
    expect(d.store.revision).toBe(1);
  });

  it("by recovery is refused before the deadline on this shard's clock", () => {
    const d = new Driver();
    stage(d, "t1", "app/a");
    expect(settle(d, "t1", "abort", "recovery")).toMatchObject({ decision: "undecided" });
    expect(d.store.txnRecord("t1")).toEqual({ decision: "staging" });
  });

  it("abort with no record yet records abort, so the staging prepare that arrives late is refused", () => {
    const d = new Driver();
    expect(settle(d, "t1", "abort")).toMatchObject({ decision: "abort", first: true });
    const late = expectType(stage(d, "t1", "app/a"), "txnPrepareRefused");
    expect(late.reason).toBe("resolved");
    expect(d.store.intents()).toEqual([]);
    expect(d.store.txnRecord("t1")?.decision).toBe("abort");
  });

  it("abort with nothing kept decides nothing from the deadline on: a commit may have been forgotten", () => {
    // Found by test/sim/txn (seed 1977): a coordinator's abort delayed past the deadline, after
    // recovery had committed, resolved and forgotten the txn, recorded abort and was answered so.
    const d = new Driver();
    const deadlineMs = d.nowMs + 2500;
    stage(d, "t1", "app/a", deadlineMs);
    settle(d, "t1", "commit", "coordinator", deadlineMs);
    d.apply({ type: "txnForget", txnId: "t1" });
    expect(probe(d, "t1", deadlineMs)).toMatchObject({ part: "absent", final: true });
    expect(settle(d, "t1", "abort", "coordinator", deadlineMs)).toMatchObject({
      decision: "undecided",
    });
    expect(d.store.txnRecord("t1")).toBeNull();
    expect(d.value("app/a")).toBe("by t1");
  });

  it("commit with nothing staged decides nothing", () => {
    const d = new Driver();
    expect(settle(d, "t1", "commit")).toMatchObject({ decision: "undecided" });
    expect(d.store.txnRecord("t1")).toBeNull();
  });
});

describe("recovery's probe", () => {
  it("reads this shard's part and the record", () => {
    const d = new Driver();
    stage(d, "t1", "app/a");
    expect(probe(d, "t1")).toMatchObject({
      part: "prepared",
      held: true,
      final: false,
      record: { decision: "staging" },
    });
    expect(probe(d, "nope")).toMatchObject({ part: "absent", final: false });
    expect(probe(d, "nope")).not.toHaveProperty("record");
  });

  it("once final, an absent part stays absent: a delayed prepare stamped before the deadline is refused", () => {
    const d = new Driver();
    const deadlineMs = d.nowMs + 10_000;
    const sentAtMs = d.nowMs + 1;
    // The probe is stamped at the deadline: the store clock passes it.
    const p = expectType(
      d.apply({ type: "txnProbe", atMs: deadlineMs, txnId: "t1", deadlineMs }),
      "txnProbed",
    );
    expect(p).toMatchObject({ part: "absent", final: true });
    const late = expectType(stage(d, "t1", "web/c", deadlineMs, sentAtMs), "txnPrepareRefused");
    expect(late.reason).toBe("expired");
    expect(probe(d, "t1", deadlineMs)).toMatchObject({ part: "absent", final: true });
  });

  it("finds a committed part's pinned tombstone past the deadline, with its branch", () => {
    const d = new Driver();
    const deadlineMs = d.nowMs + 1500;
    stage(d, "t1", "web/c", deadlineMs);
    resolveCommit(d, "t1", deadlineMs);
    d.put("web/z", "later"); // the clock passes the deadline
    expect(probe(d, "t1", deadlineMs)).toMatchObject({
      part: "committed",
      branch: "success",
      final: true,
    });
  });
});

describe("txnForget", () => {
  it("unpins the commit tombstone, which then goes at the deadline", () => {
    const d = new Driver();
    const deadlineMs = d.nowMs + 2500;
    stage(d, "t1", "web/c", deadlineMs);
    resolveCommit(d, "t1", deadlineMs);
    expect(expectType(d.apply({ type: "txnForget", txnId: "t1" }), "txnForgotten").txnId).toBe(
      "t1",
    );
    d.put("web/z", "later");
    expect(probe(d, "t1", deadlineMs)).toMatchObject({ part: "absent", final: true });
  });

  it("marks a settled record done: it goes at the deadline", () => {
    const d = new Driver();
    const deadlineMs = d.nowMs + 3500;
    stage(d, "t1", "app/a", deadlineMs);
    settle(d, "t1", "commit", "coordinator", deadlineMs);
    d.apply({ type: "txnForget", txnId: "t1" });
    expect(d.store.txnRecord("t1")?.decision).toBe("commit");
    d.put("app/z", "later");
    // Records are pruned by the txn commands that walk them (here a probe).
    expect(probe(d, "t1", deadlineMs)).toMatchObject({ part: "absent", final: true });
    expect(d.store.txnRecord("t1")).toBeNull();
  });

  it("keeps a pinned tombstone through a snapshot", () => {
    const d = new Driver();
    const deadlineMs = d.nowMs + 1500;
    stage(d, "t1", "web/c", deadlineMs);
    resolveCommit(d, "t1", deadlineMs);
    d.put("web/z", "later");
    const again = new Driver(Store.restore(d.store.snapshot()));
    again.index = d.index;
    again.nowMs = d.nowMs;
    expect(probe(again, "t1", deadlineMs)).toMatchObject({ part: "committed", branch: "success" });
  });
});

describe("forgets carried by a prepare", () => {
  it("unpin and mark done first, whatever the prepare's outcome", () => {
    const d = new Driver();
    const deadlineMs = d.nowMs + 3500;
    stage(d, "t1", "web/c", deadlineMs);
    resolveCommit(d, "t1", deadlineMs);
    stage(d, "t2", "app/a", deadlineMs);
    settle(d, "t2", "commit", "coordinator", deadlineMs);
    stage(d, "t3", "app/b"); // holds app/b: the next prepare is refused
    const o = d.apply({
      type: "txnPrepare",
      txnId: "t4",
      compare: [],
      success: [put("app/b", "x")],
      failure: [],
      recordNamespace: "app",
      participants,
      deadlineMs: farDeadline,
      staging: true,
      forgets: ["t1", "t2", "unknown"],
    });
    expect(o.type).toBe("intent");
    // Past the deadline the unpinned tombstone and the done record are gone.
    expect(probe(d, "t1", deadlineMs)).toMatchObject({ part: "absent", final: true });
    expect(probe(d, "t2", deadlineMs)).not.toHaveProperty("record");
  });

  it("are bounded", () => {
    const d = new Driver();
    const forgets = Array.from({ length: 65 }, (_, i) => `t${i}`);
    const o = d.apply({
      type: "txnPrepare",
      txnId: "t",
      compare: [],
      success: [put("app/b", "x")],
      failure: [],
      recordNamespace: "app",
      participants,
      deadlineMs: farDeadline,
      forgets,
    });
    expect(expectType(o, "invalid").detail).toContain("at most 64 forgets");
  });
});

describe("a reshard and parallel commits", () => {
  const fence = (d: Driver, namespace: string) =>
    d.apply({ type: "namespaceFence", namespace, epoch: 2, shard: 1 });

  it("does not fence a namespace while a pinned tombstone of it may still be probed", () => {
    const d = new Driver();
    stage(d, "t1", "web/c");
    resolveCommit(d, "t1");
    expect(expectType(fence(d, "web"), "intent").intent).toMatchObject({
      key: "web",
      txnId: "t1",
      recordNamespace: "app",
      participants,
    });
    d.apply({ type: "txnForget", txnId: "t1" });
    expectType(fence(d, "web"), "namespaceMove");
  });

  it("does not fence the record's namespace while the record is STAGING", () => {
    const d = new Driver();
    stage(d, "t1", "app/a");
    settle(d, "t1", "abort");
    expect(expectType(fence(d, "app"), "intent").intent.txnId).toBe("t1");
  });
});

// Killed survivors of `npm run mutate -- store --mutate src/store/txn-staged.ts` (2026-12-02).
describe("settle and probe, at their edges", () => {
  it("a commit settle must name the branch that runs: refused as invalid, nothing decided", () => {
    const d = new Driver();
    stage(d, "t1", "app/a");
    const bare = d.apply({
      type: "txnRecordSettle",
      txnId: "t1",
      decision: "commit",
      deadlineMs: farDeadline,
      by: "coordinator",
      recordNamespace: "app",
      participants,
    });
    expect(bare).toMatchObject({ type: "invalid", detail: expect.stringMatching(/branch/) });
    expect(d.store.txnRecord("t1")).toEqual({ decision: "staging" });
  });

  it("by recovery decides at the deadline itself: the probes it read are final from then on", () => {
    const d = new Driver();
    const deadlineMs = d.nowMs + 1000; // the settle below is stamped exactly at it
    stage(d, "t1", "app/a", d.nowMs + 500_000);
    const at = expectType(
      settle(d, "t1", "abort", "recovery", deadlineMs, deadlineMs),
      "txnDecision",
    );
    expect(at).toMatchObject({ decision: "abort", first: true });
  });

  it("abort with nothing kept, stamped exactly at the deadline, decides nothing", () => {
    const d = new Driver();
    const deadlineMs = d.nowMs + 1000;
    const o = settle(d, "t1", "abort", "coordinator", deadlineMs, deadlineMs);
    expect(o).toMatchObject({ decision: "undecided" });
    expect(d.store.txnRecord("t1")).toBeNull();
  });

  it("a commit forgotten on this shard is answered from its tombstone: its decision and results", () => {
    const d = new Driver();
    const deadlineMs = d.nowMs + 3500;
    stage(d, "t1", "app/a", deadlineMs);
    const first = expectType(settle(d, "t1", "commit", "coordinator", deadlineMs), "txnDecision");
    d.apply({ type: "txnForget", txnId: "t1" }); // before the deadline: done, unpinned, kept
    // Past the deadline the settle drops the done record; the tombstone is pruned by the next
    // prepare, probe or forget, not by a settle, so it still says how the txn ended.
    const again = expectType(settle(d, "t1", "abort", "coordinator", deadlineMs), "txnDecision");
    expect(d.store.txnRecord("t1")).toBeNull();
    expect(again).toMatchObject({ decision: "commit", resolved: first.resolved });
  });

  it("a probe names the namespaces of this shard's part: prepared, or kept by a pinned tombstone", () => {
    const d = new Driver();
    stage(d, "t1", "app/a");
    expect(probe(d, "t1")).toMatchObject({ namespaces: ["app"] });
    resolveCommit(d, "t1");
    const pinned = probe(d, "t1");
    expect(pinned).toMatchObject({ part: "committed", namespaces: ["app"] });
    d.apply({ type: "txnForget", txnId: "t1" });
    expect(probe(d, "t1")).not.toHaveProperty("namespaces");
  });

  it("a probe reads the record's branch once it is committed, and none while STAGING or aborted", () => {
    const d = new Driver();
    stage(d, "t1", "app/a");
    expect(probe(d, "t1").record).toEqual({ decision: "staging" });
    settle(d, "t1", "commit");
    expect(probe(d, "t1").record).toEqual({ decision: "commit", branch: "success" });
    stage(d, "t2", "app/b");
    settle(d, "t2", "abort");
    expect(probe(d, "t2").record).toEqual({ decision: "abort" });
  });
});
