import { describe, expect, it } from "vitest";
import type { TokenScope } from "../../src/store/types.ts";
import { Driver, expectType } from "./helpers.ts";

const hash = (c: string) => c.repeat(64);
const scopes: TokenScope[] = [{ namespaces: ["app", "web-*"], ops: ["read", "write"] }];

describe("tokens", () => {
  it("stores only the hash, finds a token by it, and advances the revision", () => {
    const d = new Driver();
    const r = expectType(
      d.apply({
        type: "tokenCreate",
        id: "t1",
        hashHex: hash("a"),
        scopes,
        createdAtMs: 5,
        expiresAtMs: 99,
      }),
      "tokenCreated",
    );
    expect(r.revision).toBe(1);
    expect(d.store.tokenByHash(hash("a"))).toEqual({
      id: "t1",
      hashHex: hash("a"),
      scopes,
      createdAtMs: 5,
      expiresAtMs: 99,
    });
    expect(d.store.tokenByHash(hash("b"))).toBeNull();
    expect(d.store.tokens().map((t) => t.id)).toEqual(["t1"]);
  });

  it("rejects a duplicate id or hash, a bad hash and empty scopes", () => {
    const d = new Driver();
    d.apply({ type: "tokenCreate", id: "t1", hashHex: hash("a"), scopes, createdAtMs: 5 });
    expect(
      expectType(
        d.apply({ type: "tokenCreate", id: "t1", hashHex: hash("b"), scopes, createdAtMs: 5 }),
        "invalid",
      ).reason,
    ).toBe("tokenExists");
    expect(
      expectType(
        d.apply({ type: "tokenCreate", id: "t2", hashHex: hash("a"), scopes, createdAtMs: 5 }),
        "invalid",
      ).reason,
    ).toBe("tokenExists");
    expect(
      expectType(
        d.apply({ type: "tokenCreate", id: "t2", hashHex: hash("A"), scopes, createdAtMs: 5 }),
        "invalid",
      ).reason,
    ).toBe("token");
    expect(
      expectType(
        d.apply({ type: "tokenCreate", id: "t2", hashHex: hash("b"), scopes: [], createdAtMs: 5 }),
        "invalid",
      ).reason,
    ).toBe("token");
    expect(d.store.revision).toBe(1);
  });

  it("revokes by id; unknown ids are notFound", () => {
    const d = new Driver();
    d.apply({ type: "tokenCreate", id: "t1", hashHex: hash("a"), scopes, createdAtMs: 5 });
    expect(expectType(d.apply({ type: "tokenRevoke", id: "t1" }), "tokenRevoked").revision).toBe(2);
    expect(d.store.tokenByHash(hash("a"))).toBeNull();
    expectType(d.apply({ type: "tokenRevoke", id: "t1" }), "notFound");
  });

  it("bounds the number of tokens", () => {
    const d = Driver.with({ tokensMax: 1 });
    d.apply({ type: "tokenCreate", id: "t1", hashHex: hash("a"), scopes, createdAtMs: 5 });
    expect(
      expectType(
        d.apply({ type: "tokenCreate", id: "t2", hashHex: hash("b"), scopes, createdAtMs: 5 }),
        "tooLarge",
      ).limit,
    ).toBe("tokensMax");
  });
});

describe("namespace settings", () => {
  it("defaults to private, sets publicRead, and advances the revision only on change", () => {
    const d = new Driver();
    expect(d.store.namespaceSettings("app")).toEqual({ namespace: "app", publicRead: false });
    expect(d.apply({ type: "namespaceSet", namespace: "app", publicRead: true })).toMatchObject({
      type: "namespaceSet",
      revision: 1,
    });
    expect(d.store.namespaceSettings("app").publicRead).toBe(true);
    expect(d.apply({ type: "namespaceSet", namespace: "app", publicRead: true }).revision).toBe(1);
    d.apply({ type: "namespaceSet", namespace: "app", publicRead: false });
    expect(d.store.namespaceSettings("app").publicRead).toBe(false);
    expect(
      expectType(d.apply({ type: "namespaceSet", namespace: "_sys", publicRead: true }), "invalid")
        .reason,
    ).toBe("namespace");
  });
});
