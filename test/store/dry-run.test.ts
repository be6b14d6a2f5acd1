import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Command } from "../../src/store/types.ts";
import type { DryRunCommand } from "../../src/store/dry-run.ts";
import { smallWorldCommand } from "./arbitraries.ts";
import { Driver, bytes, expectType, text } from "./helpers.ts";

type Without<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
const at = (c: Without<DryRunCommand, "atMs">): DryRunCommand =>
  ({ atMs: 1_800_000_000_000, ...c }) as DryRunCommand;

function seeded(options = {}): Driver {
  const d = Driver.with(options);
  d.put("app/a", "one"); // 1
  d.put("app/b", "two"); // 2
  d.del("app/b"); // 3
  d.put("web/x", "x"); // 4
  return d;
}

describe("dry run", () => {
  it("answers the outcome the write would have and its diff, with the base revision", () => {
    const d = seeded();
    const r = d.store.dryRun(
      at({
        type: "txn",
        compare: [],
        success: [
          { type: "put", key: "app/a", value: bytes("uno"), contentType: "text/plain" },
          { type: "put", key: "app/b", value: bytes("dos"), contentType: "text/plain" },
        ],
        failure: [],
      }),
    );
    expect(r.revision).toBe(4);
    expect(expectType(r.outcome, "txn").revision).toBe(5);
    expect(
      r.diff.map((x) => [x.key, x.change, text(x.before?.value), text(x.after?.value)]),
    ).toEqual([
      ["app/a", "update", "one", "uno"],
      ["app/b", "create", null, "dos"],
    ]);
  });

  it("of a shardTxn judges every namespace it names, each with its base revision", () => {
    const d = seeded();
    const r = d.store.dryRun(
      at({
        type: "shardTxn",
        compare: [{ key: "web/x", target: "version", op: "=", value: 1 }],
        success: [
          { type: "put", key: "app/a", value: bytes("uno"), contentType: "text/plain" },
          { type: "delete", key: "web/x" },
        ],
        failure: [],
      }),
    );
    expect(r.outcome).toMatchObject({ type: "txn", succeeded: true, revision: 5 });
    expect(r.diff.map((i) => [i.key, i.change])).toEqual([
      ["app/a", "update"],
      ["web/x", "delete"],
    ]);
    expect(r.namespaceRevisions).toEqual({ web: 4, app: 3 });
    expect(d.store.revision).toBe(4);
  });

  it("reports a delete, and a failed precondition with an empty diff", () => {
    const d = seeded();
    const del = d.store.dryRun(at({ type: "delete", key: "app/a" }));
    expect(del.diff).toMatchObject([{ key: "app/a", change: "delete" }]);
    expect(del.diff[0]!.after).toBeUndefined();
    const cas = d.store.dryRun(
      at({ type: "put", key: "app/a", value: bytes("v"), contentType: "text/plain", ifMatch: 2 }),
    );
    expectType(cas.outcome, "preconditionFailed");
    expect(cas.diff).toEqual([]);
  });

  it("of an apply with prune lists what it creates, updates and deletes", () => {
    const d = seeded();
    d.put("app/gone", "g");
    const r = d.store.dryRun(
      at({
        type: "namespaceApply",
        namespace: "app",
        entries: [{ name: "n", value: bytes("1"), contentType: "text/plain" }],
        prune: true,
      }),
    );
    expect(r.diff.map((x) => [x.key, x.change])).toEqual([
      ["app/a", "delete"],
      ["app/gone", "delete"],
      ["app/n", "create"],
    ]);
  });

  it("changes nothing: no revision consumed, the same snapshot bytes, retention untouched", () => {
    // Tight retention, so the real write would trim history and forget deleted keys.
    const d = seeded({ historyVersionsPerKey: 1, deletedKeysRetainedMax: 1 });
    const before = d.store.snapshot();
    const r = d.store.dryRun(
      at({
        type: "namespaceApply",
        namespace: "app",
        entries: [{ name: "a", value: bytes("new"), contentType: "text/plain" }],
        prune: true,
      }),
    );
    expect(r.diff.length).toBe(1);
    d.store.dryRun(at({ type: "delete", key: "web/x" }));
    expect(d.store.revision).toBe(4);
    expect(d.store.snapshot()).toEqual(before);
    d.store.checkInvariants();
  });

  it("matches applying the command, for any command, and leaves the state as it was", () => {
    const kv = smallWorldCommand.filter((c) =>
      ["put", "delete", "txn", "namespaceApply", "namespaceRollback"].includes(c.type),
    );
    fc.assert(
      fc.property(fc.array(smallWorldCommand, { maxLength: 12 }), kv, (history, probe) => {
        const d = Driver.with({ historyVersionsPerKey: 2, deletedKeysRetainedMax: 2 });
        for (const c of history) d.apply(c as Command);
        const before = d.store.snapshot();
        const { idempotencyKey: _, ...command } = {
          ...probe,
          atMs: d.nowMs + 1000,
        } as DryRunCommand;
        const dry = d.store.dryRun(command as DryRunCommand);
        expect(d.store.snapshot()).toEqual(before);
        const real = d.apply(command);
        expect(dry.outcome).toEqual(real);
        const changed = real.revision > dry.revision;
        expect(dry.diff.length > 0).toBe(changed);
        for (const item of dry.diff) {
          const now = d.store.get({ key: item.key });
          if (item.after === undefined) expect(now.type).toBe("notFound");
          else expect(now.type === "found" && now.value).toEqual(item.after.value);
        }
      }),
      { numRuns: 300 },
    );
  });
});
