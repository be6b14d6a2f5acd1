// The participant and record sides of cross-shard txns (src/store/txn-prepare.ts, txn-record.ts,
// intents.ts), one shard at a time. test/sim/txn runs them across several groups with faults.
import { describe, expect, it } from "vitest";
import { Store } from "../../src/store/store.ts";
import type { TxnCompare, TxnOp, TxnPrepareCommand } from "../../src/store/types.ts";
import { Driver, bytes, expectType, text } from "./helpers.ts";

const put = (key: string, value: string): TxnOp => ({
  type: "put",
  key,
  value: bytes(value),
  contentType: "text/plain",
});
const get = (key: string): TxnOp => ({ type: "get", key });
const equals = (key: string, value: string): TxnCompare => ({
  key,
  target: "value",
  op: "=",
  value: bytes(value),
});

/** The driver's clock starts at 1.7e12 and moves 1 s per command: deadlines are far ahead. */
const farDeadline = 2_000_000_000_000;

function prepare(
  d: Driver,
  txnId: string,
  part: Partial<Pick<TxnPrepareCommand, "compare" | "success" | "failure" | "deadlineMs">>,
) {
  return d.apply({
    type: "txnPrepare",
    txnId,
    compare: part.compare ?? [],
    success: part.success ?? [],
    failure: part.failure ?? [],
    recordNamespace: "app",
    participants: ["app", "web"],
    deadlineMs: part.deadlineMs ?? farDeadline,
  });
}

function resolve(d: Driver, txnId: string, decision: "commit" | "abort", deadlineMs = farDeadline) {
  return d.apply({
    type: "txnResolve",
    txnId,
    decision,
    ...(decision === "commit" ? { branch: "success" as const } : {}),
    deadlineMs,
  });
}

function decide(
  d: Driver,
  txnId: string,
  decision: "commit" | "abort",
  by: "coordinator" | "recovery",
  deadlineMs = farDeadline,
) {
  const branch = decision === "commit" ? { branch: "success" as const } : {};
  return d.apply({
    type: "txnRecordDecide",
    txnId,
    decision,
    ...branch,
    deadlineMs,
    by,
    recordNamespace: "app",
    participants: ["app", "web"],
  });
}

function seeded(): Driver {
  const d = new Driver();
  d.put("app/a", "1"); // rev 1
  d.put("app/b", "2"); // rev 2
  d.put("web/c", "3"); // rev 3
  return d;
}

describe("prepare", () => {
  it("holds an intent on every key it compares, reads or writes, and reads still see the committed value", () => {
    const d = seeded();
    const o = prepare(d, "t1", {
      compare: [equals("app/a", "1")],
      success: [put("app/b", "20"), get("web/c")],
    });
    expect(expectType(o, "txnPrepared").held).toBe(true);
    expect(o.revision).toBe(3);
    expect(d.store.intents().map((i) => [i.key, i.write])).toEqual([
      ["app/a", false],
      ["app/b", true],
      ["web/c", false],
    ]);
    expect(d.value("app/b")).toBe("2");
    // A read of the latest value names the write intent (src/router waits it out or resolves
    // it); a read intent is not named, and a read at a revision never is.
    expect(d.store.get({ key: "app/b" })).toMatchObject({ type: "found", intent: { txnId: "t1" } });
    expect(d.store.get({ key: "app/a" })).not.toHaveProperty("intent");
    expect(d.store.get({ key: "app/b", atRevision: 2 })).not.toHaveProperty("intent");
    expect(expectType(d.store.bundle("app"), "bundle").namespaceRevision).toBe(2);
    expect(
      expectType(d.store.changes({ prefix: "app/", afterRevision: 2 }), "changes").events,
    ).toEqual([]);
  });

  it("reports the compares of its part as held or not, judged when it is prepared", () => {
    const d = seeded();
    expect(
      expectType(prepare(d, "t1", { compare: [equals("app/a", "9")] }), "txnPrepared").held,
    ).toBe(false);
  });

  it("meets another txn's intent at once with an intent outcome: no waiting, so no deadlock", () => {
    const d = seeded();
    prepare(d, "t1", { success: [put("app/a", "x")] });
    const o = expectType(
      prepare(d, "t2", { compare: [equals("app/a", "1")], success: [put("app/b", "y")] }),
      "intent",
    );
    expect(o.intent).toMatchObject({
      key: "app/a",
      txnId: "t1",
      write: true,
      recordNamespace: "app",
    });
    expect(d.store.prepared("t2")).toBe(false);
    expect(d.store.intent("app/b")).toBeNull();
  });

  it("answers a repeated prepare as the first (a retried message) without holding anything twice", () => {
    const d = seeded();
    prepare(d, "t1", { success: [put("app/a", "x")] });
    expect(expectType(prepare(d, "t1", { success: [put("app/a", "x")] }), "txnPrepared").held).toBe(
      true,
    );
    expect(d.store.intents()).toHaveLength(1);
  });

  it("is refused at or after its deadline, and after its txn was resolved here", () => {
    const d = seeded();
    const late = prepare(d, "t1", { success: [put("app/a", "x")], deadlineMs: d.nowMs + 1000 });
    expect(expectType(late, "txnPrepareRefused").reason).toBe("expired");
    resolve(d, "t2", "abort");
    const after = prepare(d, "t2", { success: [put("app/a", "x")] });
    expect(expectType(after, "txnPrepareRefused").reason).toBe("resolved");
    expect(d.store.intents()).toEqual([]);
  });

  it("checks the schemas and quota of both branches, since the other shards decide which runs", () => {
    const d = Driver.with({ namespaceKeysMax: 3 });
    d.put("app/a", "1");
    d.put("app/b", "2");
    const o = prepare(d, "t1", {
      success: [put("app/a", "x")],
      failure: [put("app/n1", "1"), put("app/n2", "2")],
    });
    expect(expectType(o, "tooLarge").limit).toBe("namespaceKeysMax");
    expect(d.store.intents()).toEqual([]);
  });
});

describe("other writes meeting an intent", () => {
  it("a put, a delete, or a txn writing a held key gets an intent outcome and changes nothing", () => {
    const d = seeded();
    prepare(d, "t1", { compare: [equals("app/a", "1")], success: [put("app/b", "x")] });
    expectType(d.put("app/a", "no"), "intent");
    expectType(d.del("app/b"), "intent");
    expectType(d.txn([], [put("app/a", "no")]), "intent");
    expect(d.store.revision).toBe(3);
  });

  it("a txn may read a key the prepared txn only reads, never one it writes (its outcome is unknown)", () => {
    const d = seeded();
    prepare(d, "t1", { compare: [equals("app/a", "1")], success: [put("app/b", "x")] });
    expect(expectType(d.txn([equals("app/a", "1")], [get("app/a")]), "txn").succeeded).toBe(true);
    expectType(d.txn([], [get("app/b")]), "intent");
    expect(expectType(d.put("app/other", "ok"), "ok").revision).toBe(4);
  });

  it("an intent outcome is not recorded for its Idempotency-Key: the retry after the resolve applies", () => {
    const d = seeded();
    prepare(d, "t1", { success: [put("app/a", "x")] });
    expectType(d.put("app/a", "mine", { idempotencyKey: "k" }), "intent");
    resolve(d, "t1", "abort");
    expect(
      expectType(d.put("app/a", "mine", { idempotencyKey: "k" }), "ok").deduplicated,
    ).toBeUndefined();
  });
});

describe("resolve", () => {
  it("a commit applies the part's writes at one new revision of the shard, which watch shows in order", () => {
    const d = seeded();
    prepare(d, "t1", { success: [put("app/b", "20"), put("app/a", "10"), get("app/a")] });
    const o = expectType(resolve(d, "t1", "commit"), "txnResolved");
    expect([o.decision, o.committedRevision, o.revision]).toEqual(["commit", 4, 4]);
    expect(text(o.results[2]?.type === "get" ? o.results[2].value : null)).toBe("10");
    const events = expectType(
      d.store.changes({ prefix: "app/", afterRevision: 3 }),
      "changes",
    ).events;
    expect(events.map((e) => [e.key, e.modRevision])).toEqual([
      ["app/a", 4],
      ["app/b", 4],
    ]);
    expect(d.store.intents()).toEqual([]);
  });

  it("an abort drops the intents and changes nothing", () => {
    const d = seeded();
    prepare(d, "t1", { success: [put("app/b", "20")] });
    expect(expectType(resolve(d, "t1", "abort"), "txnResolved").committedRevision).toBe(3);
    expect([d.store.revision, d.value("app/b"), d.store.intents()]).toEqual([3, "2", []]);
  });

  it("a repeated resolve answers what the first did, whatever it asks", () => {
    const d = seeded();
    prepare(d, "t1", { success: [put("app/b", "20")] });
    resolve(d, "t1", "commit");
    const again = expectType(resolve(d, "t1", "abort"), "txnResolved");
    expect([again.decision, again.committedRevision, d.value("app/b")]).toEqual([
      "commit",
      4,
      "20",
    ]);
  });

  it("the commit is recorded in the audit trail as the txn its prepare carried", () => {
    const d = seeded();
    d.apply({
      type: "txnPrepare",
      txnId: "t1",
      compare: [],
      success: [put("app/b", "20")],
      failure: [],
      recordNamespace: "app",
      participants: ["app", "web"],
      deadlineMs: farDeadline,
      audit: { actor: { kind: "admin" }, reason: "publish" },
    });
    resolve(d, "t1", "commit");
    const items = expectType(d.store.audit({ namespace: "app" }), "audit").items;
    expect(items[0]).toMatchObject({ revision: 4, op: "txn", reason: "publish", keys: ["app/b"] });
  });
});

describe("a part over several namespaces of one shard", () => {
  it("commits at one revision, listed in each namespace's audit trail, and survives a restore", () => {
    const d = seeded();
    d.apply({
      type: "txnPrepare",
      txnId: "t1",
      compare: [],
      success: [put("app/b", "20"), put("web/c", "30")],
      failure: [],
      recordNamespace: "app",
      participants: ["app", "other"],
      deadlineMs: farDeadline,
      audit: { actor: { kind: "admin" }, reason: "both" },
    });
    expect(expectType(resolve(d, "t1", "commit"), "txnResolved").committedRevision).toBe(4);
    for (const namespace of ["app", "web"]) {
      const items = expectType(d.store.audit({ namespace }), "audit").items;
      expect(items[0]).toMatchObject({ revision: 4, op: "txn", reason: "both" });
    }
    const restored = Store.restore(d.store.snapshot());
    expect(restored.snapshot()).toEqual(d.store.snapshot());
  });
});

describe("the transaction record", () => {
  it("the first decision wins; a later, different one gets it back", () => {
    const d = seeded();
    expect(expectType(decide(d, "t1", "commit", "coordinator"), "txnDecision")).toMatchObject({
      decision: "commit",
      branch: "success",
      first: true,
    });
    expect(expectType(decide(d, "t1", "abort", "recovery"), "txnDecision")).toMatchObject({
      decision: "commit",
      first: false,
    });
    expect(d.store.txnRecord("t1")).toEqual({ decision: "commit", branch: "success" });
  });

  it("from the deadline on no record means abort: a commit then is refused and nothing is recorded", () => {
    const d = seeded();
    const deadline = d.nowMs + 2500;
    expect(
      expectType(decide(d, "early", "abort", "recovery", deadline), "txnDecision").decision,
    ).toBe("undecided");
    expect(d.store.txnRecord("early")).toBeNull();
    d.put("app/tick", "1");
    expect(
      expectType(decide(d, "early", "commit", "coordinator", deadline), "txnDecision"),
    ).toMatchObject({ decision: "abort", first: false });
    expect(
      expectType(decide(d, "early", "abort", "recovery", deadline), "txnDecision").decision,
    ).toBe("abort");
    expect(d.store.txnRecord("early")).toBeNull();
  });

  it("an abort record is dropped at its deadline; a commit record only once every participant resolved", () => {
    const d = seeded();
    const deadline = d.nowMs + 2500;
    decide(d, "a", "abort", "coordinator", deadline);
    decide(d, "c", "commit", "coordinator", deadline);
    d.put("app/tick", "1");
    decide(d, "other", "abort", "coordinator");
    expect([d.store.txnRecord("a"), d.store.txnRecord("c")?.decision]).toEqual([null, "commit"]);
    expect(expectType(decide(d, "c", "abort", "recovery", deadline), "txnDecision").decision).toBe(
      "commit",
    );
  });

  it("a forgotten record stays until the deadline, then is dropped", () => {
    const d = seeded();
    const deadline = d.nowMs + 2500;
    decide(d, "t1", "commit", "coordinator", deadline);
    expectType(d.apply({ type: "txnRecordForget", txnId: "t1" }), "txnDecision");
    expect(d.store.txnRecord("t1")?.decision).toBe("commit");
    d.put("app/tick", "1");
    decide(d, "t2", "abort", "coordinator");
    expect(d.store.txnRecord("t1")).toBeNull();
  });
});

describe("a decision that resolves the record's own shard in the same entry", () => {
  it("commits the part there at one revision and answers the resolve with the decision", () => {
    const d = seeded();
    prepare(d, "t1", { success: [put("app/b", "20")] });
    const o = expectType(
      d.apply({
        type: "txnRecordDecide",
        txnId: "t1",
        decision: "commit",
        branch: "success",
        deadlineMs: farDeadline,
        by: "coordinator",
        recordNamespace: "app",
        participants: ["app", "web"],
        resolveHere: true,
      }),
      "txnDecision",
    );
    expect([o.decision, o.first, o.resolved?.committedRevision, o.revision]).toEqual([
      "commit",
      true,
      4,
      4,
    ]);
    expect([d.value("app/b"), d.store.intents()]).toEqual(["20", []]);
    expect(expectType(resolve(d, "t1", "abort"), "txnResolved").decision).toBe("commit");
  });

  it("resolves nothing while recovery finds the txn undecided", () => {
    const d = seeded();
    prepare(d, "t1", { success: [put("app/b", "20")] });
    const o = d.apply({
      type: "txnRecordDecide",
      txnId: "t1",
      decision: "abort",
      deadlineMs: farDeadline,
      by: "recovery",
      recordNamespace: "app",
      participants: ["app", "web"],
      resolveHere: true,
    });
    expect(expectType(o, "txnDecision")).not.toHaveProperty("resolved");
    expect(d.store.prepared("t1")).toBe(true);
  });
});

describe("snapshots", () => {
  it("keep prepared parts, their intents, tombstones and records", () => {
    const d = seeded();
    prepare(d, "t1", { compare: [equals("app/a", "1")], success: [put("app/b", "20")] });
    resolve(d, "t0", "abort");
    decide(d, "t1", "commit", "coordinator");
    const restored = new Driver(Store.restore(d.store.snapshot()));
    restored.index = d.index;
    restored.nowMs = d.nowMs;
    expect(restored.store.snapshot()).toEqual(d.store.snapshot());
    expect(restored.store.intents()).toEqual(d.store.intents());
    expectType(restored.put("app/b", "no"), "intent");
    expectType(resolve(restored, "t1", "commit"), "txnResolved");
    expect(restored.value("app/b")).toBe("20");
    const late = prepare(restored, "t0", { success: [put("app/z", "1")] });
    expect(expectType(late, "txnPrepareRefused").reason).toBe("resolved");
  });
});

describe("shardTxn: namespaces the ring placed on one shard", () => {
  const shardTxn = (compare: TxnCompare[], success: TxnOp[], failure: TxnOp[] = []) =>
    ({ type: "shardTxn", compare, success, failure }) as const;

  it("runs as one txn at one revision across the namespaces, etcd style", () => {
    const d = seeded();
    const o = d.apply(shardTxn([equals("web/c", "3")], [put("app/a", "x"), put("web/c", "y")]));
    expect([expectType(o, "txn").succeeded, o.revision]).toEqual([true, 4]);
    const failed = expectType(
      d.apply(shardTxn([equals("web/c", "3")], [put("app/a", "no")], [get("web/c")])),
      "txn",
    );
    const read = failed.results[0];
    expect(text(read?.type === "get" ? read.value : null)).toBe("y");
    expect([d.value("app/a"), d.value("web/c"), d.store.revision]).toEqual(["x", "y", 4]);
  });

  it("counts each namespace's keys against its own quota", () => {
    const d = Driver.with({ namespaceKeysMax: 2 });
    d.put("app/a", "1");
    d.put("app/b", "2");
    expectType(d.apply(shardTxn([], [put("web/a", "1"), put("web/b", "2")])), "txn");
    expect(expectType(d.apply(shardTxn([], [put("web/c", "1")])), "tooLarge").limit).toBe(
      "namespaceKeysMax",
    );
  });

  it("meets intents as a txn does", () => {
    const d = seeded();
    prepare(d, "t1", { success: [put("web/c", "held")] });
    expectType(d.apply(shardTxn([], [put("app/a", "x"), get("web/c")])), "intent");
    expect(d.store.revision).toBe(3);
  });
});
