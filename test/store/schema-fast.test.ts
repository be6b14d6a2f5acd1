// The quick judge (src/store/schema-fast.ts) must call a value valid exactly when
// @cfworker/json-schema does: a value it waves through that the library would refuse would be
// stored against its schema, and one it refuses that the library accepts would be refused with
// no message. Checked on generated schemas of its subset and on values near their bounds.
import { Validator, type Schema } from "@cfworker/json-schema";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { schema20, value4k } from "../../scripts/bench/schema-put.ts";
import { compileSchema } from "../../src/store/schema-compile.ts";
import { quickJudge } from "../../src/store/schema-fast.ts";

const library = (schema: unknown) => new Validator(schema as Schema, "2020-12", false);

/** Strings near length bounds, with astral characters (two UTF-16 units, one code point). */
const text = fc.oneof(
  fc.string({ maxLength: 8 }),
  fc.string({ unit: "grapheme", maxLength: 6 }),
  fc.constantFrom(
    "",
    "a",
    "ab",
    "😀",
    "😀😀",
    "a😀",
    "\ud83d",
    "team@example.com",
    "x@y",
    "2026-12-02",
  ),
  fc.constantFrom("1.2.3", "abc", "ABC", "a-b", "checkout-api", "9lives"),
);
const scalar = fc.oneof(
  text,
  fc.integer({ min: -5, max: 5 }),
  fc.double({ noNaN: true, noDefaultInfinity: true, min: -5, max: 5 }),
  fc.boolean(),
  fc.constant(null),
);

const leaf = fc.oneof(
  fc.record(
    {
      type: fc.constantFrom("string", ["string", "null"]),
      minLength: fc.integer({ min: 0, max: 3 }),
      maxLength: fc.integer({ min: 0, max: 4 }),
      pattern: fc.constantFrom("^[a-z][a-z0-9-]*$", "a", "^\\p{L}+$", "^[0-9]+\\.[0-9]+\\.[0-9]+$"),
      format: fc.constantFrom("email", "date", "uri", "uuid", "ipv4", "no-such-format"),
    },
    { requiredKeys: [] },
  ),
  fc.record(
    {
      type: fc.constantFrom("integer", "number", ["integer", "string"], ["number", "boolean"]),
      minimum: fc.integer({ min: -3, max: 3 }),
      maximum: fc.integer({ min: -3, max: 3 }),
      exclusiveMinimum: fc.double({ noNaN: true, min: -3, max: 3 }),
      exclusiveMaximum: fc.integer({ min: -3, max: 3 }),
    },
    { requiredKeys: [] },
  ),
  fc.record({
    enum: fc.array(fc.oneof(scalar, fc.constant([1, "a"]), fc.constant({ a: 1 })), {
      minLength: 1,
      maxLength: 4,
    }),
  }),
  fc.record({ const: fc.oneof(scalar, fc.constant({ a: [1] })) }),
  fc.constantFrom(
    true,
    false,
    {},
    { type: "boolean" },
    { type: "null" },
    { title: "t", description: "d" },
  ),
);

const { node } = fc.letrec<{ node: unknown }>((tie) => ({
  node: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    leaf,
    fc.record(
      {
        type: fc.constantFrom("object", ["object", "array"]),
        properties: fc.dictionary(fc.constantFrom("a", "b", "c", "__proto__"), tie("node"), {
          maxKeys: 3,
        }),
        required: fc.uniqueArray(fc.constantFrom("a", "b", "c", "d"), { maxLength: 3 }),
        additionalProperties: fc.oneof(fc.boolean(), tie("node")),
        minProperties: fc.integer({ min: 0, max: 3 }),
        maxProperties: fc.integer({ min: 0, max: 3 }),
      },
      { requiredKeys: [] },
    ),
    fc.record(
      {
        type: fc.constant("array"),
        items: tie("node"),
        minItems: fc.integer({ min: 0, max: 2 }),
        maxItems: fc.integer({ min: 0, max: 3 }),
        uniqueItems: fc.boolean(),
      },
      { requiredKeys: [] },
    ),
  ),
}));

/** Values of every shape, and objects and arrays built from the names the schemas use. */
const value = fc.letrec<{ v: unknown }>((tie) => ({
  v: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    scalar,
    fc.array(tie("v"), { maxLength: 4 }),
    fc.dictionary(fc.constantFrom("a", "b", "c", "d", "__proto__"), tie("v"), { maxKeys: 4 }),
  ),
})).v;

describe("the quick judge of a value", () => {
  it("says valid exactly when @cfworker/json-schema does, on every schema of its subset", () => {
    fc.assert(
      fc.property(node, fc.array(value, { minLength: 1, maxLength: 8 }), (schema, values) => {
        // JSON round trip: schemas and values reach the store as JSON text.
        const s = JSON.parse(JSON.stringify(schema)) as unknown;
        const quick = quickJudge(s);
        expect(quick).not.toBeNull();
        const v = library(s);
        for (const x of values) {
          const instance = JSON.parse(JSON.stringify(x)) as unknown;
          expect(quick!(instance), JSON.stringify({ schema: s, instance })).toBe(
            v.validate(instance).valid,
          );
        }
      }),
      { numRuns: 3000 },
    );
  });

  it("counts a string's length in code points, as the library does, astral characters and lone surrogates too", () => {
    const strings = ["", "a", "😀", "a😀", "😀😀", "😀a😀", "\ud83d", "\ud83da", "ab😀cd"];
    for (let bound = 0; bound <= 5; bound++)
      for (const keyword of ["minLength", "maxLength"]) {
        const schema = { [keyword]: bound };
        const quick = quickJudge(schema)!;
        for (const s of strings)
          expect(quick(s), `${keyword} ${bound} ${JSON.stringify(s)}`).toBe(
            library(schema).validate(s).valid,
          );
      }
  });

  it("agrees on the benchmark's 20-property config value and on each of its breaking edits", () => {
    const quick = quickJudge(schema20)!;
    const v = library(schema20);
    const good = JSON.parse(value4k()) as Record<string, unknown>;
    const edits: Record<string, unknown>[] = [
      good,
      { ...good, service: "Checkout" },
      { ...good, rollout: 1.5 },
      { ...good, region: "mars" },
      { ...good, at: 1.5 },
      { ...good, owner: "not an email" },
      { ...good, tags: ["x".repeat(33)] },
      { ...good, extra: 1 },
      { ...good, version: "2.14" },
      { ...good, sampleRate: 0 },
      Object.fromEntries(Object.entries(good).filter(([k]) => k !== "enabled")),
    ];
    for (const e of edits) expect(quick(e)).toBe(v.validate(e).valid);
    expect(edits.map((e) => quick(e))).toEqual([true, ...edits.slice(1).map(() => false)]);
  });

  it("gives way to the library for keywords outside its subset, and for names it must not call", () => {
    for (const schema of [
      { $ref: "#/$defs/a", $defs: { a: {} } },
      { anyOf: [{ type: "string" }] },
      { properties: { a: { not: {} } } },
      { patternProperties: { "^a": {} } },
      { multipleOf: 0.1 },
      { items: { if: {}, then: {} } },
      { format: "toString" },
      { pattern: "(" },
      { dependentRequired: { a: ["b"] } },
    ])
      expect(quickJudge(schema), JSON.stringify(schema)).toBeNull();
  });

  it("leaves the messages of an invalid value to the library", () => {
    const compiled = compileSchema(JSON.stringify(schema20));
    if (typeof compiled === "string") throw new Error(compiled);
    const good = JSON.parse(value4k()) as Record<string, unknown>;
    expect(compiled.check("app/a", good)).toEqual([]);
    expect(compiled.check("app/a", { ...good, rollout: 2 })).toEqual([
      { key: "app/a", pointer: "/rollout", message: "2 is greater than 1" },
    ]);
  });
});
