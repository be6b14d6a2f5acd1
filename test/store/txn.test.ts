import { describe, expect, it } from "vitest";
import { storeLimits } from "../../src/store/limits.ts";
import type { TxnCompare, TxnOp } from "../../src/store/types.ts";
import { Driver, bytes, expectType, text } from "./helpers.ts";

const put = (key: string, value: string): TxnOp => ({
  type: "put",
  key,
  value: bytes(value),
  contentType: "text/plain",
});
const get = (key: string): TxnOp => ({ type: "get", key });
const del = (key: string): TxnOp => ({ type: "delete", key });

function seeded(): Driver {
  const d = new Driver();
  d.put("app/a", "one"); // rev 1
  d.put("app/b", "two"); // rev 2
  d.put("app/a", "uno"); // rev 3: a at version 2
  return d;
}

function succeeds(d: Driver, cmp: TxnCompare): boolean {
  return expectType(d.txn([cmp], [get("app/a")], [get("app/b")]), "txn").succeeded;
}

describe("txn compares", () => {
  it("on modRevision with =, !=, <, >", () => {
    const d = seeded();
    expect(succeeds(d, { key: "app/a", target: "modRevision", op: "=", value: 3 })).toBe(true);
    expect(succeeds(d, { key: "app/a", target: "modRevision", op: "=", value: 1 })).toBe(false);
    expect(succeeds(d, { key: "app/a", target: "modRevision", op: "!=", value: 1 })).toBe(true);
    expect(succeeds(d, { key: "app/a", target: "modRevision", op: "<", value: 4 })).toBe(true);
    expect(succeeds(d, { key: "app/a", target: "modRevision", op: "<", value: 3 })).toBe(false);
    expect(succeeds(d, { key: "app/a", target: "modRevision", op: ">", value: 2 })).toBe(true);
    expect(succeeds(d, { key: "app/a", target: "modRevision", op: ">", value: 3 })).toBe(false);
  });

  it("on version, with 0 for an absent key (as in etcd)", () => {
    const d = seeded();
    expect(succeeds(d, { key: "app/a", target: "version", op: "=", value: 2 })).toBe(true);
    expect(succeeds(d, { key: "app/a", target: "version", op: ">", value: 2 })).toBe(false);
    expect(succeeds(d, { key: "app/zz", target: "version", op: "=", value: 0 })).toBe(true);
    expect(succeeds(d, { key: "app/zz", target: "modRevision", op: "<", value: 1 })).toBe(true);
  });

  it("on exists", () => {
    const d = seeded();
    expect(succeeds(d, { key: "app/a", target: "exists", op: "=", value: true })).toBe(true);
    expect(succeeds(d, { key: "app/zz", target: "exists", op: "=", value: false })).toBe(true);
    expect(succeeds(d, { key: "app/zz", target: "exists", op: "!=", value: false })).toBe(false);
  });

  it("on value equality; an absent key matches no value whatever the operator", () => {
    const d = seeded();
    expect(succeeds(d, { key: "app/a", target: "value", op: "=", value: bytes("uno") })).toBe(true);
    expect(succeeds(d, { key: "app/a", target: "value", op: "=", value: bytes("one") })).toBe(
      false,
    );
    expect(succeeds(d, { key: "app/a", target: "value", op: "!=", value: bytes("one") })).toBe(
      true,
    );
    expect(succeeds(d, { key: "app/zz", target: "value", op: "=", value: bytes("") })).toBe(false);
    expect(succeeds(d, { key: "app/zz", target: "value", op: "!=", value: bytes("") })).toBe(false);
  });

  it("all compares must hold; no compares means success", () => {
    const d = seeded();
    const both: TxnCompare[] = [
      { key: "app/a", target: "version", op: "=", value: 2 },
      { key: "app/b", target: "version", op: "=", value: 2 },
    ];
    expect(expectType(d.txn(both, []), "txn").succeeded).toBe(false);
    expect(expectType(d.txn([], []), "txn").succeeded).toBe(true);
  });
});

describe("txn branches", () => {
  it("runs success: one new revision for all writes, results in order, gets see earlier writes", () => {
    const d = seeded();
    const r = expectType(
      d.txn(
        [{ key: "app/a", target: "modRevision", op: "=", value: 3 }],
        [put("app/c", "three"), get("app/c"), del("app/b"), get("app/b"), get("app/a")],
      ),
      "txn",
    );
    expect(r.succeeded).toBe(true);
    expect(r.revision).toBe(4);
    expect(r.results[0]).toMatchObject({
      type: "put",
      change: "created",
      entry: { modRevision: 4, version: 1 },
    });
    expect(r.results[1]).toMatchObject({ type: "get", entry: { key: "app/c" } });
    expect(r.results[2]).toMatchObject({
      type: "delete",
      deleted: { key: "app/b", modRevision: 2 },
    });
    expect(r.results[3]).toEqual({ type: "get", entry: null, value: null });
    const lastGet = r.results[4]!;
    expect(lastGet.type === "get" && text(lastGet.value)).toBe("uno");
    expect(d.store.revision).toBe(4);
  });

  it("runs failure when a compare fails", () => {
    const d = seeded();
    const r = expectType(
      d.txn(
        [{ key: "app/a", target: "version", op: "=", value: 1 }],
        [put("app/a", "won")],
        [put("app/lost", "yes"), get("app/a")],
      ),
      "txn",
    );
    expect(r.succeeded).toBe(false);
    expect(r.results).toHaveLength(2);
    expect(d.value("app/a")).toBe("uno");
    expect(d.value("app/lost")).toBe("yes");
  });

  it("a branch that changes nothing (only gets, deletes of absent keys) does not advance the revision", () => {
    const d = seeded();
    const r = expectType(
      d.txn(
        [{ key: "app/a", target: "version", op: "=", value: 9 }],
        [put("app/a", "x")],
        [get("app/a"), del("app/none")],
      ),
      "txn",
    );
    expect(r).toMatchObject({
      succeeded: false,
      revision: 3,
      results: [{ type: "get" }, { type: "delete", deleted: null }],
    });
    expect(d.store.revision).toBe(3);
  });
});

describe("txn validation is all-or-nothing", () => {
  it("a bad key anywhere, a big value or a duplicate write changes nothing", () => {
    const d = seeded();
    const cases: [TxnOp[], string][] = [
      [[put("app/c", "1"), put("app/Bad..", "x"), put("app/..", "x")], "key"],
      [[put("app/c", "1"), put("app/c", "2")], "txnDuplicateKey"],
      [[put("app/c", "1"), del("app/c")], "txnDuplicateKey"],
      [
        [
          put("app/c", "1"),
          {
            type: "put",
            key: "app/d",
            value: new Uint8Array(storeLimits.valueBytesMax + 1),
            contentType: "a/b",
          },
        ],
        "valueTooLarge",
      ],
    ];
    for (const [ops, reason] of cases) {
      expect(expectType(d.txn([], ops), "invalid").reason).toBe(reason);
    }
    // Failure branch is validated too, even when success would run.
    expect(
      expectType(d.txn([], [put("app/c", "1")], [put("app/x", "1"), put("app/x", "2")]), "invalid")
        .reason,
    ).toBe("txnDuplicateKey");
    expect(d.value("app/c")).toBeNull();
    expect(d.store.revision).toBe(3);
  });

  it("refuses a txn command that spans namespaces (the router sends those as shardTxn or 2PC)", () => {
    const d = seeded();
    const r = expectType(
      d.txn([{ key: "other/a", target: "exists", op: "=", value: false }], [put("app/c", "1")]),
      "invalid",
    );
    expect(r.reason).toBe("crossNamespace");
    expect(r.detail).toMatch(/app, other|other, app/);
  });

  it("refuses more than txnOpsMax compares and operations, and operators that do not fit the target", () => {
    const d = seeded();
    const many = Array.from({ length: storeLimits.txnOpsMax + 1 }, (_, i) => get(`app/k${i}`));
    expect(expectType(d.txn([], many), "invalid").reason).toBe("txnTooLarge");
    expect(
      expectType(
        d.txn([{ key: "app/a", target: "exists", op: "<", value: true } as never], []),
        "invalid",
      ).reason,
    ).toBe("preconditions");
    expect(
      expectType(d.txn([{ key: "app/a", target: "version", op: "=", value: -1 }], []), "invalid")
        .reason,
    ).toBe("preconditions");
  });

  it("answers tooLarge for a branch that would exceed the quota, writing none of it", () => {
    const d = Driver.with({ shardBytesMax: 40 });
    d.put("app/a", "x".repeat(10)); // 15 bytes
    const r = expectType(
      d.txn([], [put("app/b", "y".repeat(10)), put("app/c", "z".repeat(10))]),
      "tooLarge",
    );
    expect(r.wouldBe).toBe(45);
    expect(d.value("app/b")).toBeNull();
    // Deleting in the same branch frees enough room.
    expectType(
      d.txn([], [del("app/a"), put("app/b", "y".repeat(10)), put("app/c", "z".repeat(10))]),
      "txn",
    );
  });
});
