// repeatSafe (src/store/idempotency.ts): the commands the router sends with no idempotency key of
// its own, because a repeat cannot apply them twice. Each is applied again, at once and after the
// steps that follow it in a parallel commit, and must change nothing the second time and answer
// by its txn id; every other kind of write, applied again, writes again, so it must be keyed.
import { describe, expect, it } from "vitest";
import { repeatSafe } from "../../src/store/idempotency.ts";
import type { Command } from "../../src/store/types.ts";
import { bytes, Driver, putOp as put, type CommandInput } from "./helpers.ts";

const farDeadline = 2_000_000_000_000;
const participants = ["app", "web"];

const prepare = (key: string, staging: boolean): CommandInput => ({
  type: "txnPrepare",
  txnId: "t1",
  compare: [],
  success: [put(key, "by t1")],
  failure: [],
  recordNamespace: "app",
  participants,
  deadlineMs: farDeadline,
  ...(staging ? { staging: true as const } : {}),
});
const settle: CommandInput = {
  type: "txnRecordSettle",
  txnId: "t1",
  decision: "commit",
  branch: "success",
  deadlineMs: farDeadline,
  by: "coordinator",
  recordNamespace: "app",
  participants,
};
const resolve: CommandInput = {
  type: "txnResolve",
  txnId: "t1",
  decision: "commit",
  branch: "success",
  deadlineMs: farDeadline,
};
const probe: CommandInput = { type: "txnProbe", txnId: "t1", deadlineMs: farDeadline };
const forget: CommandInput = { type: "txnForget", txnId: "t1" };

/** What a repeat must leave as it found: the revision, the values, the intents, the record. */
function observed(d: Driver, key: string) {
  return {
    revision: d.store.revision,
    value: d.value(key),
    intent: d.store.intent(key)?.txnId ?? null,
    record: d.store.txnRecord("t1"),
  };
}

/** Applies `c` once more, right after itself (same clock), and returns both outcomes. */
function twice(d: Driver, c: CommandInput, key: string) {
  const first = d.apply(c);
  const seen = observed(d, key);
  d.nowMs -= 1000; // the repeat carries the same atMs, as a router's retry of the same bytes
  const again = d.apply(c);
  expect(observed(d, key)).toEqual(seen);
  return { first, again };
}

describe("repeatSafe: the txn protocol's commands", () => {
  it("on the record's shard, each applied again at once changes nothing and answers the same", () => {
    const d = new Driver();
    const staged = twice(d, prepare("app/a", true), "app/a");
    expect(staged.again).toEqual(staged.first);
    const settled = twice(d, settle, "app/a");
    expect(settled.first).toMatchObject({ decision: "commit", first: true });
    expect(settled.again).toMatchObject({
      decision: "commit",
      first: false,
      resolved: (settled.first as { resolved: unknown }).resolved,
    });
    const probed = twice(d, probe, "app/a");
    expect(probed.again).toEqual(probed.first);
    const forgot = twice(d, forget, "app/a");
    expect(forgot.again).toEqual(forgot.first);
  });

  it("on a participant, each applied again at once changes nothing and answers the same", () => {
    const d = new Driver();
    const prepared = twice(d, prepare("web/b", false), "web/b");
    expect(prepared.again).toEqual(prepared.first);
    const resolved = twice(d, resolve, "web/b");
    expect(resolved.first).toMatchObject({ type: "txnResolved", decision: "commit" });
    expect(resolved.again).toEqual(resolved.first);
    expect(d.value("web/b")).toBe("by t1");
  });

  it("a late repeat (after the steps that follow it) answers by the txn id and writes nothing", () => {
    const d = new Driver();
    d.apply(prepare("web/b", false));
    const first = d.apply(resolve);
    d.apply(forget);
    const after = observed(d, "web/b");
    expect(d.apply(prepare("web/b", false))).toMatchObject({
      type: "txnPrepareRefused",
      reason: "resolved",
    });
    expect(d.apply(resolve)).toMatchObject({
      type: "txnResolved",
      committedRevision: (first as { committedRevision: number }).committedRevision,
    });
    expect(observed(d, "web/b")).toEqual(after);
  });

  it("is true for exactly these kinds: every other write, applied again, writes again", () => {
    const writes: CommandInput[] = [
      { type: "put", key: "app/p", value: bytes("v"), contentType: "text/plain" },
      { type: "txn", compare: [], success: [put("app/t", "v")], failure: [] },
      { type: "shardTxn", compare: [], success: [put("app/s", "v")], failure: [] },
    ];
    for (const c of writes) {
      const d = new Driver();
      d.apply(c);
      const revision = d.store.revision;
      d.apply(c);
      expect(d.store.revision, c.type).toBe(revision + 1);
      expect(repeatSafe({ atMs: 0, ...c } as Command), c.type).toBe(false);
    }
    for (const c of [prepare("app/a", true), settle, resolve, probe, forget])
      expect(repeatSafe({ atMs: 0, ...c } as Command), c.type).toBe(true);
  });
});
