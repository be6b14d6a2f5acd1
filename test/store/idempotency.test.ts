import { describe, expect, it } from "vitest";
import { Driver, expectType } from "./helpers.ts";

describe("idempotency", () => {
  it("a retried write returns its first outcome, deduplicated, and never applies twice", () => {
    const d = new Driver();
    const first = expectType(d.put("app/a", "1", { idempotencyKey: "k1" }), "ok");
    d.put("app/a", "2");
    const retry = d.put("app/a", "1", { idempotencyKey: "k1" });
    expect(retry).toEqual({ ...first, deduplicated: true });
    expect(d.value("app/a")).toBe("2");
    expect(d.store.revision).toBe(2);
  });

  it("replays failed preconditions and txn outcomes too", () => {
    const d = new Driver();
    d.put("app/a", "1");
    expectType(d.put("app/a", "2", { ifMatch: 9, idempotencyKey: "k" }), "preconditionFailed");
    expect(d.put("app/a", "2", { ifMatch: 9, idempotencyKey: "k" })).toMatchObject({
      type: "preconditionFailed",
      deduplicated: true,
    });
    const t = d.apply({
      type: "txn",
      idempotencyKey: "t",
      compare: [],
      success: [{ type: "delete", key: "app/a" }],
      failure: [],
    });
    const again = d.apply({
      type: "txn",
      idempotencyKey: "t",
      compare: [],
      success: [{ type: "delete", key: "app/a" }],
      failure: [],
    });
    expect(again).toEqual({ ...t, deduplicated: true });
  });

  it("does not record invalid or tooLarge outcomes: a retry after a fix applies", () => {
    const d = Driver.with({ shardBytesMax: 20 });
    expectType(d.put("app/a", "x".repeat(30), { idempotencyKey: "k" }), "tooLarge");
    expectType(d.put("app/a", "x".repeat(10), { idempotencyKey: "k" }), "ok");
  });

  it("refuses a key reused for a different request", () => {
    const d = new Driver();
    d.put("app/a", "1", { idempotencyKey: "k" });
    expect(expectType(d.put("app/a", "other", { idempotencyKey: "k" }), "invalid").reason).toBe(
      "idempotencyKeyReused",
    );
    expect(expectType(d.put("app/a", "1", { idempotencyKey: "" }), "invalid").reason).toBe(
      "idempotencyKey",
    );
    // The proposer's time is not part of the request: a later retry still matches.
    d.nowMs += 60_000;
    expect(d.put("app/a", "1", { idempotencyKey: "k" })).toMatchObject({ deduplicated: true });
  });

  it("evicts the oldest records beyond idempotencyRecordsMax", () => {
    const d = Driver.with({ idempotencyRecordsMax: 2 });
    d.put("app/a", "1", { idempotencyKey: "k1" });
    d.put("app/b", "1", { idempotencyKey: "k2" });
    d.put("app/c", "1", { idempotencyKey: "k3" });
    expect(d.store.stats().idempotencyRecords).toBe(2);
    expect(d.put("app/c", "1", { idempotencyKey: "k3" })).toMatchObject({ deduplicated: true });
    // k1 was evicted: the retry applies again (a new version).
    expect(d.put("app/a", "1", { idempotencyKey: "k1" })).toMatchObject({
      type: "ok",
      change: "updated",
    });
  });

  it("evicts records older than idempotencyRecordAgeMsMax, judged by the commands' atMs", () => {
    const d = Driver.with({ idempotencyRecordAgeMsMax: 10_000 });
    d.put("app/a", "1", { idempotencyKey: "old" }); // recorded at t0 + 1 s
    d.nowMs += 9_000; // next command at t0 + 11 s: age exactly 10 s, kept
    expect(d.put("app/a", "1", { idempotencyKey: "old" })).toMatchObject({ deduplicated: true });
    d.nowMs += 1; // t0 + 12.001 s: older than 10 s, evicted before this command applies
    expect(d.put("app/a", "1", { idempotencyKey: "old" })).toMatchObject({
      type: "ok",
      change: "updated",
    });
    expect(d.put("app/a", "1", { idempotencyKey: "old" })).toMatchObject({ deduplicated: true });
  });

  it("a proposer whose clock is behind cannot move time backwards", () => {
    const d = Driver.with({ idempotencyRecordAgeMsMax: 10_000 });
    d.put("app/a", "1", { idempotencyKey: "k" });
    d.nowMs += 60_000;
    d.put("app/b", "1"); // store clock jumps ahead: "k" evicted
    d.nowMs -= 120_000; // a lagging proposer
    expect(d.put("app/a", "1", { idempotencyKey: "k" })).toMatchObject({
      type: "ok",
      change: "updated",
    });
  });

  it("bounds the value bytes that recorded txn outcomes hold, evicting the oldest records", () => {
    const d = Driver.with({ idempotencyValueBytesMax: 25 });
    d.put("app/a", "a".repeat(10));
    const getA = {
      type: "txn" as const,
      compare: [],
      success: [{ type: "get" as const, key: "app/a" }],
      failure: [],
    };
    d.apply({ ...getA, idempotencyKey: "g1" });
    d.apply({ ...getA, idempotencyKey: "g2" });
    expect(d.store.stats().idempotencyRecords).toBe(2);
    d.apply({ ...getA, idempotencyKey: "g3" }); // 30 bytes > 25: g1 goes
    expect(d.store.stats().idempotencyRecords).toBe(2);
    expect(d.apply({ ...getA, idempotencyKey: "g3" })).toMatchObject({ deduplicated: true });
    expect(d.apply({ ...getA, idempotencyKey: "g1" })).not.toHaveProperty("deduplicated");
    // A record larger than the whole budget is still kept until the next one arrives.
    d.put("app/big", "b".repeat(40));
    const big = {
      type: "txn" as const,
      compare: [],
      success: [{ type: "get" as const, key: "app/big" }],
      failure: [],
      idempotencyKey: "big",
    };
    d.apply(big);
    expect(d.apply(big)).toMatchObject({ deduplicated: true });
    d.store.checkInvariants();
  });
});
