import { describe, expect, it } from "vitest";
import type { TxnOp } from "../../src/store/types.ts";
import { Driver, bytes, expectType, text } from "./helpers.ts";

const put = (key: string, value: string): TxnOp => ({
  type: "put",
  key,
  value: bytes(value),
  contentType: "text/plain",
});

describe("changes since a revision", () => {
  it("lists puts and deletes under a prefix after a revision, ordered by revision then key", () => {
    const d = new Driver();
    d.put("app/a", "1"); // 1
    d.put("app/b", "1"); // 2
    d.put("web/a", "1"); // 3
    d.txn([], [put("app/d", "t"), put("app/c", "t")]); // 4
    d.del("app/a"); // 5
    const r = expectType(d.store.changes({ prefix: "app/", afterRevision: 1 }), "changes");
    expect(r.events.map((e) => [e.type, e.key, e.modRevision, e.version])).toEqual([
      ["put", "app/b", 2, 1],
      ["put", "app/c", 4, 1],
      ["put", "app/d", 4, 1],
      ["delete", "app/a", 5, 0],
    ]);
    expect(text(r.events[0]!.value)).toBe("1");
    expect(r.events[3]!.value).toBeUndefined();
    expect(r.nextAfterRevision).toBe(5);
    const noValues = expectType(
      d.store.changes({ prefix: "app/", afterRevision: 0, values: false }),
      "changes",
    );
    expect(noValues.events.every((e) => e.value === undefined)).toBe(true);
  });

  it("is empty and caught up at or beyond the current revision", () => {
    const d = new Driver();
    d.put("app/a", "1");
    expect(d.store.changes({ prefix: "app/", afterRevision: 1 })).toMatchObject({
      type: "changes",
      events: [],
      nextAfterRevision: 1,
    });
    expect(d.store.changes({ prefix: "app/", afterRevision: 7 })).toMatchObject({
      events: [],
      nextAfterRevision: 7,
    });
  });

  it("pages by limit without splitting a revision", () => {
    const d = new Driver();
    d.put("app/a", "1"); // 1
    d.txn([], [put("app/b", "1"), put("app/c", "1"), put("app/d", "1")]); // 2
    d.put("app/e", "1"); // 3
    const first = expectType(
      d.store.changes({ prefix: "app/", afterRevision: 0, limit: 2 }),
      "changes",
    );
    expect(first.events.map((e) => e.key)).toEqual(["app/a", "app/b", "app/c", "app/d"]);
    expect(first.nextAfterRevision).toBe(2);
    const rest = expectType(
      d.store.changes({ prefix: "app/", afterRevision: first.nextAfterRevision, limit: 2 }),
      "changes",
    );
    expect(rest.events.map((e) => e.key)).toEqual(["app/e"]);
    expect(rest.nextAfterRevision).toBe(3);
  });

  it("answers compacted when history after the revision was trimmed, and resumes from a later one", () => {
    const d = Driver.with({ historyVersionsPerKey: 2 });
    d.put("app/a", "1"); // 1
    d.put("app/a", "2"); // 2
    d.put("app/a", "3"); // 3: trims revision 1
    d.put("web/a", "x"); // 4
    expect(d.store.changes({ prefix: "app/", afterRevision: 0 }).type).toBe("compacted");
    expect(
      expectType(d.store.changes({ prefix: "app/", afterRevision: 1 }), "changes").events,
    ).toHaveLength(2);
    // A trimmed key outside the prefix does not compact this watch.
    expect(
      expectType(d.store.changes({ prefix: "web/", afterRevision: 0 }), "changes").events,
    ).toHaveLength(1);
  });

  it("answers compacted when a deleted key of the namespace was forgotten after the revision", () => {
    const d = Driver.with({ deletedKeysRetainedMax: 1 });
    d.put("app/a", "1"); // 1
    d.put("app/b", "1"); // 2
    d.del("app/a"); // 3
    d.del("app/b"); // 4: forgets app/a (tombstone at 3)
    expect(d.store.changes({ prefix: "app/", afterRevision: 2 }).type).toBe("compacted");
    expect(
      expectType(d.store.changes({ prefix: "app/", afterRevision: 3 }), "changes").events.map(
        (e) => e.key,
      ),
    ).toEqual(["app/b"]);
  });

  it("rejects a prefix without a namespace and a negative revision", () => {
    const d = new Driver();
    expect(d.store.changes({ prefix: "", afterRevision: 0 }).type).toBe("invalid");
    expect(d.store.changes({ prefix: "app/", afterRevision: -1 }).type).toBe("invalid");
  });
});
