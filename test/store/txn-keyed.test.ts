// Idempotency-Key across shards, on the record namespace's shard (src/store/txn-keyed.ts): the
// key record its staging prepare keeps among the idempotency records, ended by the settle, given
// its answer by the forget, and what a retry's prepare (a new attempt, a new txn id) meets.
// test/sim/txn runs retries across groups with faults.
import { describe, expect, it } from "vitest";
import { decodeCommand, encodeCommand } from "../../src/store/codec.ts";
import { outcomeValueBytes, requestFingerprint } from "../../src/store/idempotency.ts";
import { outcomeNamespace } from "../../src/store/moves-export.ts";
import { Store } from "../../src/store/store.ts";
import type { Command, TxnKeyedAnswer, TxnOp } from "../../src/store/types.ts";
import { Driver, bytes, expectType } from "./helpers.ts";

const put = (key: string, value: string): TxnOp => ({
  type: "put",
  key,
  value: bytes(value),
  contentType: "text/plain",
});

const farDeadline = 2_000_000_000_000;
const participants = ["app", "web"];
const key = "tok-1/deploy-7";
/** The fingerprint of the whole request, as the coordinator computes it (an equivalent shardTxn). */
const request = { compare: [], success: [put("app/a", "blue"), put("web/c", "blue")], failure: [] };
const fingerprint = requestFingerprint({ type: "shardTxn", atMs: 0, ...request } as Command);

function stage(d: Driver, txnId: string, opts: { fp?: string; deadlineMs?: number } = {}) {
  return d.apply({
    type: "txnPrepare",
    txnId,
    compare: [],
    success: [put("app/a", "blue")],
    failure: [],
    recordNamespace: "app",
    participants,
    deadlineMs: opts.deadlineMs ?? farDeadline,
    staging: true,
    idempotency: { key, fingerprint: opts.fp ?? fingerprint },
  });
}

function settle(d: Driver, txnId: string, decision: "commit" | "abort", by = "coordinator") {
  return d.apply({
    type: "txnRecordSettle",
    txnId,
    decision,
    ...(decision === "commit" ? { branch: "success" as const } : {}),
    deadlineMs: farDeadline,
    by: by as "coordinator" | "recovery",
    recordNamespace: "app",
    participants,
  });
}

function answerOf(d: Driver, txnId: string): TxnKeyedAnswer {
  const probed = expectType(d.apply({ type: "txnProbe", txnId, deadlineMs: 0 }), "txnProbed");
  const r = probed.resolved!;
  return {
    parts: [
      { namespaces: ["app"], results: r.results, revision: r.committedRevision },
      { namespaces: ["web"], results: [], revision: 9 },
    ],
  };
}

/** t1 staged, settled commit and forgotten with its answer. */
function committed(d: Driver): TxnKeyedAnswer {
  stage(d, "t1");
  settle(d, "t1", "commit");
  const answer = answerOf(d, "t1");
  d.apply({ type: "txnForget", txnId: "t1", answer });
  return answer;
}

describe("a retry of a keyed cross-shard txn (a new attempt) on the record's shard", () => {
  it("is answered the committed attempt, deduplicated, with its answer, and prepares nothing", () => {
    const d = new Driver();
    const answer = committed(d);
    d.put("app/a", "changed since");
    const o = expectType(stage(d, "t2"), "txnKeyed");
    expect(o).toMatchObject({ txnId: "t1", state: "committed", branch: "success", answer });
    expect(o.deduplicated).toBe(true);
    expect(d.store.txnRecord("t2")).toBeNull();
    expect(d.value("app/a")).toBe("changed since");
    expectType(d.put("app/a", "free"), "ok"); // no intent of t2
  });

  it("is answered so however late: past the deadline, once the tombstone and record are gone", () => {
    const d = new Driver();
    stage(d, "t1", { deadlineMs: d.nowMs + 2500 });
    settle(d, "t1", "commit");
    d.apply({ type: "txnForget", txnId: "t1", answer: answerOf(d, "t1") });
    d.put("app/z", "the clock passes the deadline");
    d.apply({ type: "txnForget", txnId: "nothing" }); // prunes
    expect(d.store.txnRecord("t1")).toBeNull();
    expectType(d.apply({ type: "txnProbe", txnId: "t1", deadlineMs: 0 }), "txnProbed");
    expect(expectType(stage(d, "t2"), "txnKeyed")).toMatchObject({ txnId: "t1" });
  });

  it("meets the intent of the attempt still in flight, and prepares nothing", () => {
    const d = new Driver();
    stage(d, "t1");
    const o = expectType(stage(d, "t2"), "intent");
    expect(o.intent).toMatchObject({ txnId: "t1", key: "app/a" });
    expect(d.store.txnRecord("t2")).toBeNull();
  });

  it("runs once the attempt before it aborted (it wrote nothing), and then holds the key", () => {
    const d = new Driver();
    stage(d, "t1");
    settle(d, "t1", "abort");
    expectType(stage(d, "t2"), "txnPrepared");
    expect(d.store.txnRecord("t2")).toEqual({ decision: "staging" });
    expect(expectType(stage(d, "t3"), "intent").intent.txnId).toBe("t2");
  });

  it("of another request under the same key is refused, as a reused key", () => {
    const d = new Driver();
    committed(d);
    const o = expectType(stage(d, "t2", { fp: "another" }), "invalid");
    expect(o.reason).toBe("idempotencyKeyReused");
    expect(d.store.txnRecord("t2")).toBeNull();
  });

  it("is answered without an answer until the forget brings one, which is kept once", () => {
    const d = new Driver();
    stage(d, "t1");
    settle(d, "t1", "commit");
    const before = expectType(stage(d, "t2"), "txnKeyed");
    expect(before.answer).toBeUndefined();
    const answer = answerOf(d, "t1");
    d.apply({ type: "txnForget", txnId: "t1", answer });
    d.apply({ type: "txnForget", txnId: "t1", answer: { parts: [] } });
    expect(expectType(stage(d, "t3"), "txnKeyed").answer).toEqual(answer);
  });

  it("is ended by recovery's settle as by the coordinator's", () => {
    const d = new Driver();
    stage(d, "t1", { deadlineMs: d.nowMs + 1500 });
    d.apply({
      type: "txnRecordSettle",
      txnId: "t1",
      decision: "abort",
      deadlineMs: d.nowMs,
      by: "recovery",
      recordNamespace: "app",
      participants,
    });
    expectType(stage(d, "t2"), "txnPrepared");
  });

  it("goes through a snapshot: the restored STAGING record still ends its key record", () => {
    const d = new Driver();
    stage(d, "t1");
    const again = new Driver(Store.restore(d.store.snapshot()));
    again.index = d.index;
    again.nowMs = d.nowMs;
    settle(again, "t1", "commit");
    expect(expectType(stage(again, "t2"), "txnKeyed").state).toBe("committed");
  });
});

describe("the key record among the idempotency records", () => {
  it("replays a single-shard txn's outcome to the same request across shards, and back", () => {
    const d = new Driver();
    const first = d.apply({ type: "shardTxn", idempotencyKey: key, ...request });
    const replay = expectType(stage(d, "t1"), "txn");
    expect(replay).toMatchObject({ ...first, deduplicated: true });
    const other = new Driver();
    committed(other);
    const back = other.apply({ type: "shardTxn", idempotencyKey: key, ...request });
    expect(expectType(back, "txnKeyed")).toMatchObject({ txnId: "t1", deduplicated: true });
  });

  it("lets a single-shard txn run after an aborted attempt, and then replays that one", () => {
    const d = new Driver();
    stage(d, "t1");
    settle(d, "t1", "abort");
    expectType(d.apply({ type: "shardTxn", idempotencyKey: key, ...request }), "txn");
    expect(d.value("web/c")).toBe("blue");
    const again = d.apply({ type: "shardTxn", idempotencyKey: key, ...request });
    expect(expectType(again, "txn").deduplicated).toBe(true);
  });

  it("is bounded like them: evicted, a later retry runs, and the settle does not bring it back", () => {
    const d = Driver.with({ idempotencyRecordsMax: 1 });
    stage(d, "t1");
    d.put("app/x", "1", { idempotencyKey: "other" });
    settle(d, "t1", "commit");
    expect(d.store.stats().idempotencyRecords).toBe(1);
    expectType(stage(d, "t2"), "txnPrepared");
  });

  it("belongs to the record namespace (a move takes it there), and counts its answer's bytes", () => {
    const d = new Driver();
    stage(d, "t1");
    settle(d, "t1", "commit");
    const entry = expectType(d.put("web/c", "four"), "ok").entry;
    const answer: TxnKeyedAnswer = {
      parts: [
        {
          namespaces: ["web"],
          results: [{ type: "get", entry, value: bytes("four") }],
          revision: 3,
        },
      ],
    };
    d.apply({ type: "txnForget", txnId: "t1", answer });
    const record = expectType(stage(d, "t2"), "txnKeyed");
    expect(outcomeNamespace(record)).toBe("app");
    expect(outcomeValueBytes(record)).toBe(4); // the invariants check the sum after every apply
    const forget: Command = { type: "txnForget", atMs: 5, txnId: "t1", answer };
    expect(decodeCommand(encodeCommand(forget))).toEqual(forget);
  });
});

describe("the commands of keyed txns", () => {
  it("decode to themselves", () => {
    const prepare = {
      type: "txnPrepare",
      atMs: 5,
      txnId: "t2",
      ...request,
      recordNamespace: "app",
      participants,
      deadlineMs: 9,
      staging: true,
      idempotency: { key, fingerprint },
    } as Command;
    expect(decodeCommand(encodeCommand(prepare))).toEqual(prepare);
  });
});
