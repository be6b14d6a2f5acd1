// Bearer tokens (src/api/tokens-crypto.ts): a minted secret is "ecfg_" and 32 random bytes in
// base64url (RFC 4648 §5, unpadded), a token id is "tok_" and 8 random bytes in hex, only the
// SHA-256 of a secret is stored, and a token's namespace globs match by "*" alone.
// secretsEqual has its own file (secrets-equal.test.ts).
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  globMatches,
  newTokenId,
  newTokenSecret,
  sha256Hex,
  tokenPrefix,
} from "../../src/api/tokens-crypto.ts";

afterEach(() => vi.restoreAllMocks());

/** Makes crypto.getRandomValues fill its array from `bytes` (repeated as needed). */
function randomBytesAre(bytes: number[]): void {
  const fill = (array: Uint8Array) => {
    for (let i = 0; i < array.length; i++) array[i] = bytes[i % bytes.length]!;
    return array;
  };
  vi.spyOn(crypto, "getRandomValues").mockImplementation(
    fill as unknown as typeof crypto.getRandomValues,
  );
}

describe("sha256Hex", () => {
  it("is the SHA-256 digest in lowercase hex, two digits per byte (FIPS 180-2 vectors)", async () => {
    expect(await sha256Hex("abc")).toBe(
      "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
    );
    expect(await sha256Hex("")).toBe(
      "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    );
  });

  it("hashes the text as UTF-8 (\u00e9 is the two bytes c3 a9, not the Latin-1 byte e9)", async () => {
    expect(await sha256Hex("\u00e9")).toBe(
      "4a99557e4033c3539de2eb65472017cad5f9557f7a0625a09f1c3f6e2ba69c4c",
    );
  });
});

describe("newTokenSecret", () => {
  it("is the prefix and 32 random bytes in unpadded base64url, so it survives URLs and headers", () => {
    const bytes = [0xfb, 0xff, 0xbf, 0x00, 0x10, 0x83];
    randomBytesAre(bytes);
    const expected = Buffer.from(Array.from({ length: 32 }, (_, i) => bytes[i % bytes.length]!));
    const secret = newTokenSecret();
    expect(secret).toBe(`ecfg_${expected.toString("base64url")}`);
    expect(secret).toMatch(/^ecfg_[A-Za-z0-9_-]{43}$/);
    expect(secret).toContain("-");
    expect(secret).toContain("_");
  });

  it("is a fresh secret each time, with the prefix secret scanners look for", () => {
    expect(tokenPrefix).toBe("ecfg_");
    const secrets = new Set(Array.from({ length: 50 }, () => newTokenSecret()));
    expect(secrets.size).toBe(50);
    for (const s of secrets) expect(s).toMatch(/^ecfg_[A-Za-z0-9_-]{43}$/);
  });
});

describe("newTokenId", () => {
  it("is tok_ and 8 random bytes in lowercase hex, two digits per byte", () => {
    randomBytesAre([0x00, 0x0f, 0x10, 0xab, 0xff, 0x01, 0x7e, 0x80]);
    expect(newTokenId()).toBe("tok_000f10abff017e80");
  });

  it("is a fresh id each time", () => {
    const ids = new Set(Array.from({ length: 50 }, () => newTokenId()));
    expect(ids.size).toBe(50);
    for (const id of ids) expect(id).toMatch(/^tok_[0-9a-f]{16}$/);
  });
});

describe("globMatches (token scopes' namespaces)", () => {
  it("a glob without * matches only that namespace, whole", () => {
    expect(globMatches("app", "app")).toBe(true);
    for (const ns of ["myapp", "apps", "ap", "", "APP"])
      expect(globMatches("app", ns), ns).toBe(false);
  });

  it("* matches any run of characters, the empty one too, wherever it stands", () => {
    expect(globMatches("*", "")).toBe(true);
    expect(globMatches("*", "anything.at/all")).toBe(true);
    expect(globMatches("app-*", "app-")).toBe(true);
    expect(globMatches("app-*", "app-eu.west")).toBe(true);
    expect(globMatches("app-*", "app")).toBe(false);
    expect(globMatches("app-*", "my-app-eu")).toBe(false);
    expect(globMatches("*-prod", "web-prod")).toBe(true);
    expect(globMatches("*-prod", "web-prod-2")).toBe(false);
    expect(globMatches("a*c*e", "abcde")).toBe(true);
    expect(globMatches("a*c*e", "abde")).toBe(false);
  });

  it("every other character matches itself, regex syntax included", () => {
    for (const glob of [
      "a.b",
      "a+",
      "a?",
      "^a",
      "a$",
      "{1}",
      "(x)",
      "a|b",
      "[ab]",
      "a\\d",
      "a-z",
    ]) {
      expect(globMatches(glob, glob), glob).toBe(true);
    }
    for (const [glob, ns] of [
      ["a.b", "axb"],
      ["a+", "aa"],
      ["a?", "a"],
      ["a|b", "a"],
      ["[ab]", "a"],
      ["(x)", "x"],
      ["a{2}", "aa"],
      ["a\\d", "a1"],
      ["dbs-*", "dbsx"],
    ]) {
      expect(globMatches(glob!, ns!), `${glob} ${ns}`).toBe(false);
    }
    expect(globMatches("dbs-*", "dbs-1")).toBe(true);
    expect(globMatches("w-*", "w-")).toBe(true);
  });
});
