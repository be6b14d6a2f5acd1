import { describe, expect, it } from "vitest";
import { Driver, expectType } from "./helpers.ts";

describe("history retention", () => {
  it("keeps every version newest first, deletes as tombstones (version 0)", () => {
    const d = new Driver();
    d.put("app/a", "1");
    d.put("app/a", "22");
    d.del("app/a");
    d.put("app/a", "333");
    const h = expectType(d.store.history("app/a"), "history");
    expect(
      h.items.map((i) => [i.version, i.modRevision, i.createRevision, i.size, i.deleted]),
    ).toEqual([
      [1, 4, 4, 3, false],
      [0, 3, 1, 0, true],
      [2, 2, 1, 2, false],
      [1, 1, 1, 1, false],
    ]);
    expect(h.items[0]!.updatedAtMs).toBe(d.nowMs);
    expect(d.store.history("app/never").type).toBe("notFound");
  });

  it("trims to historyVersionsPerKey (default 100)", () => {
    const d = new Driver();
    for (let i = 0; i < 105; i++) d.put("app/a", `${i}`);
    const items = expectType(d.store.history("app/a"), "history").items;
    expect(items).toHaveLength(100);
    expect(items[99]!.version).toBe(6);
  });

  it("reads older revisions while retained, compacted once trimmed, notFound before creation or in a tombstone", () => {
    const d = Driver.with({ historyVersionsPerKey: 3 });
    d.put("app/other", "x"); // 1
    d.put("app/a", "v1"); // 2
    d.put("app/a", "v2"); // 3
    d.del("app/a"); // 4
    d.put("app/a", "v3"); // 5
    expect(d.value("app/a", 3)).toBe("v2");
    expect(d.store.get({ key: "app/a", atRevision: 4 }).type).toBe("notFound");
    expect(d.value("app/a", 5)).toBe("v3");
    // v1 was trimmed (3 versions kept: v2, tombstone, v3).
    expect(d.store.get({ key: "app/a", atRevision: 2 }).type).toBe("compacted");
    expect(d.store.get({ key: "app/a", atRevision: 1 }).type).toBe("compacted");
    expect(d.store.get({ key: "app/other", atRevision: 5 }).type).toBe("found");
    expect(d.store.get({ key: "app/never", atRevision: 3 }).type).toBe("notFound");
  });

  it("an untrimmed key is absent before its creation, not compacted", () => {
    const d = new Driver();
    d.put("app/x", "1");
    d.put("app/a", "1");
    expect(d.store.get({ key: "app/a", atRevision: 1 }).type).toBe("notFound");
  });

  it("answers futureRevision beyond the applied revision and invalid for a non-positive one", () => {
    const d = new Driver();
    d.put("app/a", "1");
    expect(d.store.get({ key: "app/a", atRevision: 2 }).type).toBe("futureRevision");
    expect(d.store.get({ key: "app/a", atRevision: 0 }).type).toBe("invalid");
  });

  it("forgets the oldest deleted keys beyond deletedKeysRetainedMax; old reads of them become compacted", () => {
    const d = Driver.with({ deletedKeysRetainedMax: 2 });
    for (const k of ["a", "b", "c"]) d.put(`app/${k}`, k); // 1..3
    d.put("zzz/a", "other namespace"); // 4
    for (const k of ["a", "b", "c"]) d.del(`app/${k}`); // 5..7: a is forgotten at 7
    expect(d.store.history("app/a").type).toBe("notFound");
    expect(d.store.history("app/b").type).toBe("history");
    expect(d.store.get({ key: "app/a", atRevision: 2 }).type).toBe("compacted");
    expect(d.store.get({ key: "app/a", atRevision: 5 }).type).toBe("notFound");
    // Other namespaces keep their old reads.
    expect(d.value("zzz/a", 4)).toBe("other namespace");
    // A re-created key leaves the deleted set, so it is not forgotten later.
    d.put("app/b", "again");
    d.put("app/d", "d");
    d.del("app/d");
    expect(d.value("app/b")).toBe("again");
  });

  it("bounds past versions by historyBytesMax, trimming the oldest superseded first, shard-wide", () => {
    const d = Driver.with({ historyBytesMax: 30 });
    d.put("app/a", "x".repeat(10)); // 1
    d.put("app/b", "y".repeat(10)); // 2
    d.put("app/a", "x2"); // 3: a@1 superseded (5 + 10 = 15 bytes of history)
    d.put("app/b", "y2"); // 4: b@2 superseded (30 bytes: at the budget)
    expect(d.value("app/a", 1)).toBe("x".repeat(10));
    d.put("app/a", "x3"); // 5: a@3 superseded (37 bytes): a@1, the oldest superseded, goes
    expect(d.store.get({ key: "app/a", atRevision: 1 }).type).toBe("compacted");
    expect(d.value("app/b", 2)).toBe("y".repeat(10));
    expect(d.value("app/a", 3)).toBe("x2");
    d.store.checkInvariants();
    // The current version is never trimmed, however large.
    d.put("app/c", "z".repeat(100));
    expect(d.value("app/c")).toBe("z".repeat(100));
    d.store.checkInvariants();
  });
});
