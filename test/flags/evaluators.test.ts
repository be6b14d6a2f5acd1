// Shared evaluators (flagd's $evaluators) in the namespace entry `.evaluators`: definitions
// refer to them with {"$ref": name}; an unknown reference fails to parse, as in flagd.
import { describe, expect, it } from "vitest";
import { evaluatorsProblems, FlagSet } from "../../src/flags/index.ts";
import { changedFlags, flagsOf } from "../../src/client/openfeature/bundle-flags.ts";

const evaluators = { isStaff: { ends_with: [{ var: "email" }, "@example.com"] } };
const gated = (ref: string) => ({
  state: "ENABLED",
  defaultVariant: "off",
  variants: { on: true, off: false },
  targeting: { if: [{ $ref: ref }, "on", null] },
});

describe("shared evaluators", () => {
  const set = new FlagSet([
    { name: ".evaluators", etag: '"r1"', value: evaluators },
    { name: "beta", etag: '"r2"', value: gated("isStaff") },
    { name: "broken", etag: '"r3"', value: gated("noSuchEvaluator") },
  ]);

  it("are referred to with $ref", () => {
    expect(set.evaluate("beta", { email: "a@example.com" })).toMatchObject({
      value: true,
      reason: "TARGETING_MATCH",
    });
    expect(set.evaluate("beta", { email: "a@else.org" })).toMatchObject({ reason: "DEFAULT" });
  });

  it("a reference to a missing evaluator is a PARSE_ERROR; .evaluators is no flag", () => {
    expect(set.evaluate("broken", {})).toMatchObject({ errorCode: "PARSE_ERROR" });
    expect(set.evaluate(".evaluators", {})).toMatchObject({ errorCode: "FLAG_NOT_FOUND" });
    expect(set.evaluateAll({}).map((e) => e.key)).toEqual(["beta", "broken"]);
  });

  it("are checked against flagd's schema", () => {
    expect(evaluatorsProblems(evaluators)).toEqual([]);
    expect(evaluatorsProblems([1])).toMatchObject([{ pointer: "" }]);
    expect(evaluatorsProblems({ isStaff: { no_such_operator: [1] } }).length).toBeGreaterThan(0);
  });

  it("a change of them changes the flags that refer to them", () => {
    const bundle = (evaluatorsRevision: number) => ({
      namespace: "n",
      revision: evaluatorsRevision,
      entries: { ".evaluators": evaluators, beta: gated("isStaff"), plain: 1 },
      meta: {
        ".evaluators": {
          contentType: "application/json",
          version: 1,
          modRevision: evaluatorsRevision,
        },
        beta: { contentType: "application/json", version: 1, modRevision: 2 },
        plain: { contentType: "application/json", version: 1, modRevision: 3 },
      },
    });
    expect(changedFlags(flagsOf(bundle(4)), flagsOf(bundle(5)))).toEqual(["beta"]);
  });
});
