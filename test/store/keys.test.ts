import { describe, expect, it } from "vitest";
import {
  validateKey,
  validateName,
  validateNamespace,
  validatePrefix,
} from "../../src/store/keys.ts";

describe("key validation (http-api.md, Keys)", () => {
  it("accepts namespaces [a-z0-9][a-z0-9_.-]{0,62}", () => {
    for (const ok of ["a", "0", "my-app", "my_app.v2", "a".repeat(63)])
      expect(validateNamespace(ok)).toBeNull();
    for (const bad of ["", "_sys", "-a", ".a", "App", "a/b", "a".repeat(64), "é"])
      expect(validateNamespace(bad)).toMatch(/namespace/);
  });

  it("accepts names of /-separated segments [A-Za-z0-9._~-]{1,128}, never . or ..", () => {
    for (const ok of [
      "a",
      "A/b/c",
      "x.json",
      "~tilde",
      "...",
      "a".repeat(128),
      "feature-flags/beta_1",
    ])
      expect(validateName(ok)).toBeNull();
    for (const bad of [
      "",
      "/a",
      "a/",
      "a//b",
      ".",
      "..",
      "a/./b",
      "a/../b",
      "a b",
      "a?b",
      "é",
      "a".repeat(129),
    ]) {
      expect(validateName(bad)).toEqual(expect.any(String));
    }
  });

  it("bounds the whole key at 512 bytes and explains each error", () => {
    const name = Array.from({ length: 4 }, () => "n".repeat(127)).join("/"); // 511 bytes
    expect(validateKey(`a/${name}`)).toMatch(/at most 512 bytes/);
    expect(validateKey(`a/${name.slice(2)}`)).toBeNull();
    expect(validateKey("noslash")).toMatch(/\{namespace\}\/\{name\}/);
    expect(validateKey("_sys/tokens")).toMatch(/namespace "_sys"/);
    expect(validateKey("app/a/..")).toMatch(/segment ".."/);
  });

  it("validates list prefixes: a namespace, a slash, and a partial name", () => {
    expect(validatePrefix("app/")).toBeNull();
    expect(validatePrefix("app/feat")).toBeNull();
    expect(validatePrefix("app/a/")).toBeNull();
    expect(validatePrefix("app")).toMatch(/must name a namespace/);
    expect(validatePrefix("app/a b")).toMatch(/characters/);
  });
});
