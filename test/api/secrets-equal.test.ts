// The admin token check: equal only for the exact secret, whatever the lengths.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { secretsEqual } from "../../src/api/tokens-crypto.ts";

describe("secretsEqual", () => {
  it("accepts the secret itself", () => {
    expect(secretsEqual("dev-admin-token", "dev-admin-token")).toBe(true);
  });

  it("refuses prefixes, extensions, repetitions and one changed character", () => {
    const secret = "s3cret-token";
    for (const presented of [
      "s3cret",
      "s3cret-token!",
      "s3cret-tokens3cret-token",
      "s3cret-tokem",
      "",
      "S3cret-token",
    ]) {
      expect(secretsEqual(presented, secret), presented).toBe(false);
    }
  });

  it("an empty secret matches nothing", () => {
    expect(secretsEqual("", "")).toBe(false);
  });

  it("agrees with === on random pairs", () => {
    fc.assert(
      fc.property(
        fc.string({ maxLength: 40 }),
        fc.string({ minLength: 1, maxLength: 40 }),
        (a, b) => {
          expect(secretsEqual(a, b)).toBe(a === b);
          expect(secretsEqual(b, b)).toBe(true);
        },
      ),
      { numRuns: 2_000 },
    );
  });
});
