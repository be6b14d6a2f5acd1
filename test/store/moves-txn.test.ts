// A reshard meets cross-shard txns (src/store/moves-fence.ts): a namespace is fenced only once no
// txn holds an intent on its keys or keeps its record here, and once fenced no txn can prepare
// in it or record a decision in it here. Otherwise a commit could land after the last copy (a
// lost write), or a record could stay behind on the old shard and read as absent, that is abort,
// on the new one after a commit.
import { describe, expect, it } from "vitest";
import type { TxnOp } from "../../src/store/types.ts";
import { Driver, bytes, expectType } from "./helpers.ts";

const farDeadline = 2_000_000_000_000;
const put = (key: string, value: string): TxnOp => ({
  type: "put",
  key,
  value: bytes(value),
  contentType: "text/plain",
});

const fence = (d: Driver, namespace = "app") =>
  d.apply({ type: "namespaceFence", namespace, epoch: 2, shard: 1 });

function prepare(d: Driver, txnId: string, key = "app/a", deadlineMs = farDeadline) {
  return d.apply({
    type: "txnPrepare",
    txnId,
    compare: [],
    success: [put(key, `by ${txnId}`)],
    failure: [],
    recordNamespace: "app",
    participants: ["app", "web"],
    deadlineMs,
  });
}

function decide(d: Driver, txnId: string, deadlineMs = farDeadline) {
  return d.apply({
    type: "txnRecordDecide",
    txnId,
    decision: "commit",
    branch: "success",
    deadlineMs,
    by: "coordinator",
    recordNamespace: "app",
    participants: ["app", "web"],
  });
}

const resolve = (d: Driver, txnId: string) =>
  d.apply({
    type: "txnResolve",
    txnId,
    decision: "commit",
    branch: "success",
    deadlineMs: farDeadline,
  });

describe("a namespace fence and the cross-shard txns of the namespace", () => {
  it("waits while a txn holds an intent on one of its keys; the commit then lands before the copy ends", () => {
    const d = new Driver();
    d.put("app/a", "1");
    expectType(prepare(d, "t1"), "txnPrepared");
    const refused = expectType(fence(d), "intent");
    expect(refused.intent).toMatchObject({ key: "app/a", txnId: "t1", recordNamespace: "app" });
    expect(d.apply({ type: "put", key: "app/b", value: bytes("x"), contentType: "t/p" }).type).toBe(
      "ok",
    ); // nothing was fenced
    expectType(resolve(d, "t1"), "txnResolved");
    expectType(fence(d), "namespaceMove");
    expect(d.value("app/a")).toBe("by t1");
  });

  it("waits while it keeps the record of a txn, and names the txn so the driver can finish it", () => {
    const d = new Driver();
    expectType(decide(d, "t2"), "txnDecision");
    const refused = expectType(fence(d), "intent");
    expect(refused.intent).toEqual({
      key: "app",
      txnId: "t2",
      write: true,
      deadlineMs: farDeadline,
      recordNamespace: "app",
      participants: ["app", "web"],
    });
    // Another namespace of the shard moves freely.
    expectType(fence(d, "other"), "namespaceMove");
  });

  it("goes ahead once the record of an ended txn is dropped at its deadline", () => {
    const d = new Driver();
    const soon = d.nowMs + 5_000; // the driver's clock moves 1 s per command
    expectType(decide(d, "t3", soon), "txnDecision");
    expectType(d.apply({ type: "txnRecordForget", txnId: "t3" }), "txnDecision");
    expectType(fence(d), "intent");
    for (let i = 0; i < 10; i++) d.put("web/tick", String(i)); // the store clock passes the deadline
    expectType(fence(d), "namespaceMove");
  });

  it("once fenced, refuses a prepare, a one-shard txn over namespaces and a decision in it: they answer moved", () => {
    const d = new Driver();
    expectType(fence(d), "namespaceMove");
    expectType(prepare(d, "t4"), "moved");
    expectType(
      d.apply({
        type: "shardTxn",
        compare: [],
        success: [put("web/a", "1"), put("app/a", "1")],
        failure: [],
      }),
      "moved",
    );
    expectType(decide(d, "t5"), "moved");
    expect(d.value("app/a")).toBeNull();
    expect(d.value("web/a")).toBeNull();
  });
});
