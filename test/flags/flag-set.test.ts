// Flag evaluation without the Worker: flagd definitions through flagd's core (interpreted),
// static values as themselves, and flagd's schema refusing bad definitions with a pointer.
import { describe, expect, it } from "vitest";
import { definitionProblems, FlagSet, isFlagDefinition } from "../../src/flags/index.ts";

const rollout = {
  state: "ENABLED",
  defaultVariant: "off",
  variants: { on: true, off: false },
  targeting: {
    if: [
      { in: [{ var: "country" }, ["DE", "FR"]] },
      "on",
      { if: [{ ends_with: [{ var: "email" }, "@example.com"] }, "on", null] },
    ],
  },
};

const set = new FlagSet([
  { name: "beta", etag: '"r3"', value: rollout },
  { name: "theme", etag: '"r4"', value: { color: "blue" } },
  { name: "nothing", etag: '"r5"', value: null },
  {
    name: "off",
    etag: '"r6"',
    value: { state: "DISABLED", defaultVariant: "a", variants: { a: 1 } },
  },
  { name: "broken", etag: '"r7"', value: { state: "ON", defaultVariant: "a", variants: { a: 1 } } },
  {
    name: "split",
    etag: '"r8"',
    value: {
      state: "ENABLED",
      defaultVariant: "a",
      variants: { a: "A", b: "B" },
      targeting: {
        fractional: [
          ["a", 50],
          ["b", 50],
        ],
      },
    },
  },
]);

describe("FlagSet", () => {
  it("evaluates flagd targeting with flagd's semantics", () => {
    expect(set.evaluate("beta", { country: "DE" })).toEqual({
      key: "beta",
      reason: "TARGETING_MATCH",
      variant: "on",
      value: true,
    });
    expect(set.evaluate("beta", { email: "a@example.com" })).toMatchObject({ value: true });
    expect(set.evaluate("beta", { country: "US" })).toEqual({
      key: "beta",
      reason: "DEFAULT",
      variant: "off",
      value: false,
    });
  });

  it("answers static values with reason STATIC and the ETag as variant", () => {
    expect(set.evaluate("theme", {})).toEqual({
      key: "theme",
      reason: "STATIC",
      variant: '"r4"',
      value: { color: "blue" },
    });
    expect(set.evaluate("nothing", {})).toEqual({
      key: "nothing",
      reason: "STATIC",
      variant: '"r5"',
    });
  });

  it("says DISABLED without a value, FLAG_NOT_FOUND, and PARSE_ERROR for one bad flag", () => {
    expect(set.evaluate("off", {})).toEqual({ key: "off", reason: "DISABLED" });
    expect(set.evaluate("absent", {})).toMatchObject({ errorCode: "FLAG_NOT_FOUND" });
    expect(set.evaluate("broken", {})).toMatchObject({ key: "broken", errorCode: "PARSE_ERROR" });
  });

  it("splits by targetingKey deterministically (fractional)", () => {
    const seen = new Set<unknown>();
    for (let i = 0; i < 40; i++) {
      const a = set.evaluate("split", { targetingKey: `user-${i}` });
      expect(set.evaluate("split", { targetingKey: `user-${i}` })).toEqual(a);
      expect(a).toMatchObject({ reason: "TARGETING_MATCH" });
      seen.add((a as { value: unknown }).value);
    }
    expect([...seen].sort()).toEqual(["A", "B"]);
  });

  it("evaluates every flag in name order", () => {
    const keys = set.evaluateAll({}).map((e) => e.key);
    expect(keys).toEqual(["beta", "theme", "nothing", "off", "broken", "split"]);
  });
});

describe("flagd definitions", () => {
  it("tells definitions from static values", () => {
    expect(isFlagDefinition(rollout)).toBe(true);
    expect(isFlagDefinition({ beta: true })).toBe(false);
    expect(isFlagDefinition([1])).toBe(false);
  });

  it("accepts a valid definition", () => {
    expect(definitionProblems(rollout)).toEqual([]);
  });

  it("refuses by flagd's schema, with a pointer into the definition", () => {
    const badVariant = { state: "ENABLED", defaultVariant: "on", variants: { on: true, off: 3 } };
    expect(definitionProblems(badVariant).map((p) => p.pointer)).toContain("/variants/off");
    const badState = { ...rollout, state: "ON" };
    expect(definitionProblems(badState).map((p) => p.pointer)).toContain("/state");
    const notObject = { state: "ENABLED", defaultVariant: "on", variants: ["on"] };
    expect(definitionProblems(notObject)).toEqual([
      { pointer: "/variants", message: "must be object" },
    ]);
  });

  it("names the one variant of another type than those before it", () => {
    const def = { state: "ENABLED", defaultVariant: "a", variants: { a: "x", b: "y", c: 3 } };
    expect(definitionProblems(def)).toEqual([
      { pointer: "/variants/c", message: "must be of the type of the variants before it" },
    ]);
  });

  it("refuses a default variant that is not a variant", () => {
    const def = { state: "ENABLED", defaultVariant: "x", variants: { on: true } };
    expect(definitionProblems(def)).toEqual([
      { pointer: "/defaultVariant", message: "must name one of the variants" },
    ]);
  });

  it("refuses targeting with an operator flagd does not know", () => {
    const def = { ...rollout, targeting: { no_such_op: [1, 2] } };
    expect(definitionProblems(def).length).toBeGreaterThan(0);
  });
});
