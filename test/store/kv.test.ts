import { describe, expect, it } from "vitest";
import { storeLimits } from "../../src/store/limits.ts";
import { Store } from "../../src/store/store.ts";
import { Driver, bytes, expectType, text } from "./helpers.ts";

describe("put", () => {
  it("creates at version 1, then updates; every write advances the shard revision by one", () => {
    const d = new Driver();
    const created = expectType(d.put("app/a", "1"), "ok");
    expect(created).toMatchObject({
      change: "created",
      revision: 1,
      entry: {
        key: "app/a",
        version: 1,
        createRevision: 1,
        modRevision: 1,
        size: 1,
        contentType: "text/plain",
      },
    });
    expectType(d.put("app/b", "x"), "ok");
    const updated = expectType(d.put("app/a", "22"), "ok");
    expect(updated).toMatchObject({
      change: "updated",
      revision: 3,
      entry: { version: 2, createRevision: 1, modRevision: 3, size: 2 },
    });
    expect(updated.entry.updatedAtMs).toBe(d.nowMs);
    expect(d.value("app/a")).toBe("22");
  });

  it("keeps the value byte for byte with its content type", () => {
    const d = new Driver();
    const raw = new Uint8Array([0, 255, 1, 254, 10, 13]);
    d.apply({ type: "put", key: "app/bin", value: raw, contentType: "application/octet-stream" });
    const got = expectType(d.store.get({ key: "app/bin" }), "found");
    expect([...got.value]).toEqual([...raw]);
    expect(got.entry.contentType).toBe("application/octet-stream");
  });

  it("If-Match applies only on the current modRevision, else 412 with the current entry", () => {
    const d = new Driver();
    d.put("app/a", "1");
    const failed = expectType(d.put("app/a", "2", { ifMatch: 7 }), "preconditionFailed");
    expect(failed.current).toMatchObject({ modRevision: 1, version: 1 });
    expect(failed.revision).toBe(1);
    expectType(d.put("app/a", "2", { ifMatch: 1 }), "ok");
    expect(
      expectType(d.put("app/none", "2", { ifMatch: 1 }), "preconditionFailed").current,
    ).toBeNull();
    expect(d.store.revision).toBe(2);
  });

  it("If-None-Match: * creates only", () => {
    const d = new Driver();
    expectType(d.put("app/a", "1", { ifNoneMatch: "*" }), "ok");
    expect(
      expectType(d.put("app/a", "2", { ifNoneMatch: "*" }), "preconditionFailed").current
        ?.modRevision,
    ).toBe(1);
    expect(d.value("app/a")).toBe("1");
  });

  it("rejects both preconditions at once, bad keys, big values and bad content types without changing anything", () => {
    const d = new Driver();
    expect(
      expectType(d.put("app/a", "1", { ifMatch: 1, ifNoneMatch: "*" }), "invalid").reason,
    ).toBe("preconditions");
    expect(expectType(d.put("App/a", "1"), "invalid").reason).toBe("key");
    expect(expectType(d.put("_sys/a", "1"), "invalid").reason).toBe("key");
    expect(expectType(d.put("app/../a", "1"), "invalid").reason).toBe("key");
    expect(expectType(d.put("app/a", "1", { contentType: "" }), "invalid").reason).toBe(
      "contentType",
    );
    const big = d.apply({
      type: "put",
      key: "app/big",
      value: new Uint8Array(storeLimits.valueBytesMax + 1),
      contentType: "a/b",
    });
    expect(expectType(big, "invalid").reason).toBe("valueTooLarge");
    const max = d.apply({
      type: "put",
      key: "app/big",
      value: new Uint8Array(storeLimits.valueBytesMax),
      contentType: "a/b",
    });
    expectType(max, "ok");
    expect(d.store.revision).toBe(1);
  });
});

describe("delete", () => {
  it("ends the key's life; a re-create starts at version 1 with a new createRevision; ETags never repeat", () => {
    const d = new Driver();
    d.put("app/a", "1");
    d.put("app/a", "2");
    const deleted = expectType(d.del("app/a"), "ok");
    expect(deleted).toMatchObject({
      change: "deleted",
      revision: 3,
      entry: { version: 2, modRevision: 2 },
    });
    expect(d.store.get({ key: "app/a" }).type).toBe("notFound");
    expect(d.store.meta("app/a").type).toBe("notFound");
    const again = expectType(d.put("app/a", "3"), "ok");
    expect(again).toMatchObject({
      change: "created",
      entry: { version: 1, createRevision: 4, modRevision: 4 },
    });
    const etags = expectType(d.store.history("app/a"), "history").items.map((h) => h.modRevision);
    expect(new Set(etags).size).toBe(etags.length);
  });

  it("404 when absent, 412 on If-Match mismatch (also when absent), and neither advances the revision", () => {
    const d = new Driver();
    expectType(d.del("app/a"), "notFound");
    expect(expectType(d.del("app/a", { ifMatch: 3 }), "preconditionFailed").current).toBeNull();
    d.put("app/a", "1");
    expectType(d.del("app/a", { ifMatch: 9 }), "preconditionFailed");
    expectType(d.del("app/a", { ifMatch: 1 }), "ok");
    expect(d.store.revision).toBe(2);
  });
});

describe("apply", () => {
  it("tracks the applied index, also over skipped entries, and refuses to go back", () => {
    const d = new Driver();
    d.put("app/a", "1");
    d.store.skip(5);
    expect(d.store.appliedIndex).toBe(5);
    expect(() => d.store.skip(5)).toThrow(/applied after/);
    expect(() => d.store.apply(3, { type: "delete", key: "app/a", atMs: 0 })).toThrow(
      /applied after/,
    );
  });

  it("asserts on a malformed command from the log (a programmer error), but not on bad user input", () => {
    const s = new Store();
    expect(() => s.apply(1, new Uint8Array([1, 0, 0]))).toThrow(/invariant/);
    expect(() => s.apply(2, { type: "put", key: "app/a", atMs: 0 } as never)).toThrow(/value/);
    expect(
      s.apply(3, { type: "put", key: "nope", value: bytes(""), contentType: "x", atMs: 0 }).type,
    ).toBe("invalid");
  });
});

describe("shard quota", () => {
  it("answers tooLarge and changes nothing when a write would exceed shardBytesMax; shrinking writes still pass", () => {
    const d = Driver.with({ shardBytesMax: 100 });
    expectType(d.put("app/a", "x".repeat(80)), "ok"); // 5 + 80 = 85 bytes
    const tooLarge = expectType(d.put("app/b", "x".repeat(20)), "tooLarge");
    expect(tooLarge).toMatchObject({ limit: "shardBytesMax", max: 100, wouldBe: 110, revision: 1 });
    expect(d.store.get({ key: "app/b" }).type).toBe("notFound");
    expectType(d.put("app/a", "x".repeat(95)), "ok"); // exactly 100
    expectType(d.put("app/a", "small"), "ok");
    expect(d.store.stats().liveBytes).toBe(10);
  });

  it("bounds live keys per namespace", () => {
    const d = Driver.with({ namespaceKeysMax: 2 });
    d.put("app/a", "1");
    d.put("app/b", "1");
    expect(expectType(d.put("app/c", "1"), "tooLarge").limit).toBe("namespaceKeysMax");
    expectType(d.put("app/a", "2"), "ok");
    expectType(d.put("other/c", "1"), "ok");
    d.del("app/a");
    expectType(d.put("app/c", "1"), "ok");
  });
});

it("text helper round-trips", () => {
  expect(text(bytes("héllo"))).toBe("héllo");
});
