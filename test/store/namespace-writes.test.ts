import { describe, expect, it } from "vitest";
import type { ApplyEntry } from "../../src/store/types.ts";
import { Driver, bytes, expectType } from "./helpers.ts";

const json = (name: string, value: unknown): ApplyEntry => ({
  name,
  value: bytes(JSON.stringify(value)),
  contentType: "application/json",
});
const textEntry = (name: string, value: string): ApplyEntry => ({
  name,
  value: bytes(value),
  contentType: "text/plain",
});

function apply(
  d: Driver,
  entries: ApplyEntry[],
  extra: { prune?: boolean; ifRevision?: number } = {},
) {
  return d.apply({
    type: "namespaceApply",
    namespace: "app",
    entries,
    prune: extra.prune ?? false,
    ...(extra.ifRevision === undefined ? {} : { ifRevision: extra.ifRevision }),
  });
}

describe("declarative apply", () => {
  it("writes every differing entry in one revision and leaves equal ones alone", () => {
    const d = new Driver();
    d.put("app/same", "kept");
    d.put("app/changed", "old");
    const o = expectType(
      apply(d, [textEntry("same", "kept"), textEntry("changed", "new"), json("fresh", { a: 1 })]),
      "namespaceWrite",
    );
    expect(o.revision).toBe(3);
    expect(o.namespaceRevision).toBe(3);
    expect(o.changes.map((c) => [c.key, c.change])).toEqual([
      ["app/changed", "updated"],
      ["app/fresh", "created"],
    ]);
    expect(d.value("app/changed")).toBe("new");
    expect(d.value("app/fresh")).toBe('{"a":1}');
    expect(d.store.meta("app/same")).toMatchObject({ entry: { modRevision: 1 } });
  });

  it("that changes nothing consumes no revision (JSON compared by meaning)", () => {
    const d = new Driver();
    d.put("app/cfg", '{ "a": 1 }', { contentType: "application/json" });
    const o = expectType(apply(d, [json("cfg", { a: 1 })]), "namespaceWrite");
    expect(o.changes).toEqual([]);
    expect(o.revision).toBe(1);
    expect(d.store.revision).toBe(1);
  });

  it("keeps other keys unless prune, which deletes them in the same revision", () => {
    const d = new Driver();
    d.put("app/a", "1");
    d.put("app/b", "2");
    d.put("web/x", "other namespace");
    expectType(apply(d, [textEntry("a", "1")]), "namespaceWrite");
    expect(d.value("app/b")).toBe("2");
    const o = expectType(apply(d, [textEntry("a", "1")], { prune: true }), "namespaceWrite");
    expect(o.changes).toMatchObject([{ key: "app/b", change: "deleted" }]);
    expect(o.revision).toBe(4);
    expect(d.value("app/b")).toBeNull();
    expect(d.value("web/x")).toBe("other namespace");
  });

  it("with ifRevision applies only while the namespace revision is still that", () => {
    const d = new Driver();
    d.put("app/a", "1"); // rev 1
    d.put("web/x", "x"); // rev 2: another namespace does not move app's revision
    expectType(apply(d, [textEntry("a", "2")], { ifRevision: 1 }), "namespaceWrite");
    const stale = expectType(
      apply(d, [textEntry("a", "3")], { ifRevision: 1 }),
      "namespaceChanged",
    );
    expect(stale.namespaceRevision).toBe(3);
    expect(d.value("app/a")).toBe("2");
    expect(d.store.revision).toBe(3);
  });

  it("is all or nothing: one bad name or an over-quota write changes nothing", () => {
    const d = Driver.with({ namespaceKeysMax: 2 });
    d.put("app/a", "1");
    expectType(apply(d, [textEntry("b", "2"), textEntry("bad name", "x")]), "invalid");
    expectType(apply(d, [textEntry("b", "2"), textEntry("c", "3")]), "tooLarge");
    expect(d.value("app/b")).toBeNull();
    expect(d.store.revision).toBe(1);
  });
});

describe("namespace rollback", () => {
  it("writes the entries live at toRevision as one new revision, deleting later keys", () => {
    const d = new Driver();
    d.put("app/a", "a1"); // 1
    d.put("app/b", "b1"); // 2
    d.put("app/a", "a2"); // 3
    d.del("app/b"); // 4
    d.put("app/c", "c1"); // 5
    const o = expectType(
      d.apply({ type: "namespaceRollback", namespace: "app", toRevision: 2 }),
      "namespaceWrite",
    );
    expect(o.revision).toBe(6);
    expect(o.changes.map((c) => [c.key, c.change])).toEqual([
      ["app/a", "updated"],
      ["app/b", "created"],
      ["app/c", "deleted"],
    ]);
    expect([d.value("app/a"), d.value("app/b"), d.value("app/c")]).toEqual(["a1", "b1", null]);
  });

  it("answers compacted when a version it needs was trimmed", () => {
    const d = Driver.with({ historyVersionsPerKey: 2 });
    d.put("app/a", "1"); // 1
    d.put("app/a", "2"); // 2
    d.put("app/a", "3"); // 3: version at rev 1 trimmed
    expectType(
      d.apply({ type: "namespaceRollback", namespace: "app", toRevision: 1 }),
      "compacted",
    );
    expectType(
      d.apply({ type: "namespaceRollback", namespace: "app", toRevision: 2 }),
      "namespaceWrite",
    );
    expect(d.value("app/a")).toBe("2");
  });

  it("answers compacted before a forgotten deleted key's delete", () => {
    const d = Driver.with({ deletedKeysRetainedMax: 1 });
    d.put("app/a", "1"); // 1
    d.del("app/a"); // 2
    d.put("app/b", "1"); // 3
    d.del("app/b"); // 4: app/a is forgotten
    expectType(
      d.apply({ type: "namespaceRollback", namespace: "app", toRevision: 1 }),
      "compacted",
    );
  });

  it("refuses a toRevision ahead of the shard, and a stale ifRevision", () => {
    const d = new Driver();
    d.put("app/a", "1");
    expectType(d.apply({ type: "namespaceRollback", namespace: "app", toRevision: 9 }), "invalid");
    expectType(
      d.apply({ type: "namespaceRollback", namespace: "app", toRevision: 1, ifRevision: 0 }),
      "namespaceChanged",
    );
  });
});
