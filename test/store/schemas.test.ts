import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeCommand, encodeCommand } from "../../src/store/codec.ts";
import { storeLimits } from "../../src/store/limits.ts";
import { compileSchema } from "../../src/store/schema-compile.ts";
import { Store } from "../../src/store/store.ts";
import type { PutCommand, SchemaRule } from "../../src/store/types.ts";
import { bytes, Driver, expectType, text } from "./helpers.ts";

const json = "application/json";
const flagSchema = JSON.stringify({
  type: "object",
  properties: { enabled: { type: "boolean" }, percent: { type: "integer", maximum: 100 } },
  required: ["enabled"],
});
const rule = (prefix: string, schema: unknown = flagSchema): SchemaRule => ({
  prefix,
  schema: typeof schema === "string" ? schema : JSON.stringify(schema),
});

function withSchemas(d: Driver, schemas: SchemaRule[], force?: true) {
  return d.apply({
    type: "schemaSet",
    namespace: "app",
    schemas,
    ...(force ? { force } : {}),
  });
}

function putJson(d: Driver, key: string, value: unknown, extra: { idempotencyKey?: string } = {}) {
  return d.put(key, JSON.stringify(value), { contentType: json, ...extra });
}

describe("a put under a schema", () => {
  it("commits a conforming value and refuses a breaking one with key, RFC 6901 pointer and message, writing nothing", () => {
    const d = new Driver();
    expectType(withSchemas(d, [rule("flags/")]), "schemasSet");
    expectType(putJson(d, "app/flags/a", { enabled: true, percent: 5 }), "ok");
    const before = d.store.revision;
    const r = expectType(
      putJson(d, "app/flags/a", { enabled: "yes", percent: 500 }),
      "schemaViolation",
    );
    expect(r.revision).toBe(before);
    expect(r.keys).toBe(1);
    expect(r.errors).toEqual([
      {
        key: "app/flags/a",
        pointer: "/enabled",
        message: 'Instance type "string" is invalid. Expected "boolean"',
      },
      { key: "app/flags/a", pointer: "/percent", message: "500 is greater than 100" },
    ]);
    expect(d.store.revision).toBe(before);
    expect(JSON.parse(d.value("app/flags/a")!)).toEqual({ enabled: true, percent: 5 });
  });

  it("judges a name by every schema whose prefix it starts with, and no other", () => {
    const d = new Driver();
    withSchemas(d, [
      rule("", { type: "object" }),
      rule("flags/", flagSchema),
      rule("limits", { maxProperties: 1 }),
    ]);
    expectType(d.put("app/other", "[1]", { contentType: json }), "schemaViolation");
    expectType(putJson(d, "app/other", { any: 1, thing: 2 }), "ok");
    const both = expectType(putJson(d, "app/flags/x", { percent: 1 }), "schemaViolation");
    expect(both.errors.map((e) => e.pointer)).toEqual([""]);
    expectType(putJson(d, "app/limitsx", { a: 1 }), "ok");
    expectType(putJson(d, "app/limits/y", { a: 1, b: 2 }), "schemaViolation");
    expectType(putJson(d, "other/flags/x", "not an object"), "ok");
  });

  it("refuses a value of another content type under a matching prefix (JSON only), allows it elsewhere", () => {
    const d = new Driver();
    withSchemas(d, [rule("flags/")]);
    const r = expectType(
      d.put("app/flags/a", "enabled=true", { contentType: "text/plain" }),
      "schemaViolation",
    );
    expect(r.errors[0]!.message).toMatch(/JSON values only .*not text\/plain/);
    expectType(
      d.put("app/flags/a", '{"enabled":true}', { contentType: "application/vnd.x+json" }),
      "ok",
    );
    expectType(d.put("app/readme", "hello", { contentType: "text/plain" }), "ok");
  });

  it("never judges a delete: removing a key cannot break a schema", () => {
    const d = new Driver();
    putJson(d, "app/flags/a", { enabled: 1 });
    withSchemas(d, [rule("flags/")], true);
    expectType(d.del("app/flags/a"), "ok");
  });

  it("is not remembered under its Idempotency-Key: the same request succeeds once the schema allows it", () => {
    const d = new Driver();
    withSchemas(d, [rule("flags/")]);
    expectType(
      putJson(d, "app/flags/a", { enabled: 1 }, { idempotencyKey: "k1" }),
      "schemaViolation",
    );
    withSchemas(d, []);
    expectType(putJson(d, "app/flags/a", { enabled: 1 }, { idempotencyKey: "k1" }), "ok");
  });
});

describe("a txn under a schema", () => {
  it("is refused whole when one put of the branch that runs breaks a schema", () => {
    const d = new Driver();
    withSchemas(d, [rule("flags/")]);
    const good = {
      type: "put" as const,
      key: "app/flags/a",
      value: bytes('{"enabled":true}'),
      contentType: json,
    };
    const bad = {
      type: "put" as const,
      key: "app/flags/b",
      value: bytes('{"enabled":0}'),
      contentType: json,
    };
    const r = expectType(d.txn([], [good, bad]), "schemaViolation");
    expect(r.errors.map((e) => e.key)).toEqual(["app/flags/b"]);
    expect(d.value("app/flags/a")).toBeNull();
    // The failure branch is judged only when it runs.
    const never = [
      { key: "app/flags/a", target: "exists" as const, op: "=" as const, value: true },
    ];
    expectType(d.txn(never, [bad], [good]), "txn");
    expect(d.value("app/flags/a")).toBe('{"enabled":true}');
    expectType(d.txn([], [good], [bad]), "txn");
  });
});

describe("a schema change", () => {
  it("is refused while stored values break it, listing them, and set with force (the next write must conform)", () => {
    const d = new Driver();
    putJson(d, "app/flags/a", { enabled: true });
    putJson(d, "app/flags/b", { enabled: "no" });
    d.put("app/flags/c", "plain", { contentType: "text/plain" });
    const before = d.store.revision;
    const r = expectType(withSchemas(d, [rule("flags/")]), "schemaViolation");
    expect(r.keys).toBe(2);
    expect(r.errors.map((e) => [e.key, e.pointer])).toEqual([
      ["app/flags/b", "/enabled"],
      ["app/flags/c", ""],
    ]);
    expect(d.store.revision).toBe(before);
    expect(d.store.namespaceSchemas("app").schemas).toEqual([]);
    const set = expectType(withSchemas(d, [rule("flags/")], true), "schemasSet");
    expect(set.schemas).toEqual({
      namespace: "app",
      revision: before + 1,
      schemas: [rule("flags/")],
    });
    expect(d.value("app/flags/b")).toBe('{"enabled":"no"}');
    expectType(putJson(d, "app/flags/b", { enabled: "still no" }), "schemaViolation");
  });

  it("that sets what is in force changes nothing, and [] removes every schema", () => {
    const d = new Driver();
    withSchemas(d, [rule("flags/")]);
    const r = d.store.revision;
    expect(expectType(withSchemas(d, [rule("flags/")]), "schemasSet").revision).toBe(r);
    expectType(withSchemas(d, []), "schemasSet");
    expect(d.store.namespaceSchemas("app")).toEqual({ namespace: "app", revision: 0, schemas: [] });
    expectType(putJson(d, "app/flags/a", 1), "ok");
  });

  it("refuses what is no JSON Schema the validator can enforce, with the reason", () => {
    const d = new Driver();
    const cases: [unknown, RegExp][] = [
      ["{", /not JSON/],
      [{ type: "objekt" }, /not a JSON Schema 2020-12: at "\/type"/],
      [{ pattern: "((" }, /at "\/pattern" .*regex/],
      [{ $ref: "#/$defs/none" }, /\$ref "#\/\$defs\/none" that points nowhere/],
      [{ $dynamicRef: "#meta" }, /\$dynamicRef/],
      [{ $schema: "http://json-schema.org/draft-07/schema#" }, /write JSON Schema 2020-12/],
      [42, /Expected "object", "boolean"/],
      // The validator throws on these when it is built: a throw inside apply would reset the
      // replica on every replay of the entry.
      [{ $id: "http://[bad" }, /cannot be compiled: Invalid URL/],
      [{ $defs: { a: { $id: "http://x/y" }, b: { $id: "http://x/y" } } }, /Duplicate schema URI/],
    ];
    for (const [schema, reason] of cases) {
      const r = expectType(withSchemas(d, [rule("", schema)]), "invalid");
      expect(r.reason).toBe("schema");
      expect(r.detail).toMatch(reason);
    }
    expect(d.store.revision).toBe(0);
  });

  it("is bounded in count, bytes and prefix syntax (limits.ts), prefixes unique and ordered", () => {
    const d = new Driver();
    const many = Array.from({ length: storeLimits.schemasPerNamespaceMax + 1 }, (_, i) =>
      rule(`p${String(i).padStart(3, "0")}`),
    );
    expect(expectType(withSchemas(d, many), "invalid").detail).toMatch(/at most 64/);
    const big = rule("", { description: "x".repeat(storeLimits.schemaBytesMax) });
    expect(expectType(withSchemas(d, [big]), "invalid").detail).toMatch(
      /bytes of JSON; at most 65536/,
    );
    expect(expectType(withSchemas(d, [rule("a b")]), "invalid").detail).toMatch(
      /no start of a key name/,
    );
    expect(expectType(withSchemas(d, [rule("b"), rule("a")]), "invalid").detail).toMatch(
      /ascending/,
    );
    expect(expectType(withSchemas(d, [rule("a"), rule("a")]), "invalid").detail).toMatch(/unique/);
  });
});

describe("a schema change racing a write", () => {
  const bad = { enabled: "yes" };

  it("write first: the change that the committed value breaks is refused, so no invalid value is under a schema", () => {
    const d = new Driver();
    expectType(putJson(d, "app/flags/a", bad), "ok");
    expectType(withSchemas(d, [rule("flags/")]), "schemaViolation");
    expect(d.store.namespaceSchemas("app").schemas).toEqual([]);
  });

  it("change first: the write that commits after it is judged by it and refused", () => {
    const d = new Driver();
    expectType(withSchemas(d, [rule("flags/")]), "schemasSet");
    expectType(putJson(d, "app/flags/a", bad), "schemaViolation");
    expect(d.value("app/flags/a")).toBeNull();
  });

  it("in any interleaving of schema changes and writes (txns too), every live value conforms to the schemas in force", () => {
    const value = fc.oneof(
      fc.constant({ enabled: true }),
      fc.constant({ enabled: 1 }),
      fc.constant({ percent: 7 }),
    );
    const step = fc.oneof(
      fc.record({
        kind: fc.constant("put" as const),
        name: fc.constantFrom("flags/a", "flags/b", "x"),
        value,
      }),
      fc.record({ kind: fc.constant("txn" as const), value }),
      fc.record({ kind: fc.constant("schemas" as const), prefixes: fc.subarray(["", "flags/"]) }),
    );
    fc.assert(
      fc.property(fc.array(step, { maxLength: 30 }), (steps) => {
        const d = new Driver();
        for (const s of steps) {
          if (s.kind === "put") putJson(d, `app/${s.name}`, s.value);
          else if (s.kind === "txn") {
            const put = {
              type: "put" as const,
              value: bytes(JSON.stringify(s.value)),
              contentType: json,
            };
            d.txn(
              [],
              [
                { ...put, key: "app/flags/t" },
                { ...put, key: "app/x" },
              ],
            );
          } else
            withSchemas(
              d,
              s.prefixes.map((p) => rule(p)),
            );
          expect(liveBreaking(d)).toEqual([]);
        }
      }),
      { numRuns: 200 },
    );
  });
});

/** Keys whose live value a schema in force refuses, judged by the validator directly. */
function liveBreaking(d: Driver): string[] {
  const { schemas } = d.store.namespaceSchemas("app");
  const listed = expectType(d.store.list({ prefix: "app/", values: true }), "list");
  const out: string[] = [];
  for (const { entry, value } of listed.items) {
    const name = entry.key.slice("app/".length);
    for (const r of schemas.filter((r) => name.startsWith(r.prefix))) {
      const compiled = compileSchema(r.schema);
      if (typeof compiled === "string") throw new Error(compiled);
      if (compiled.check(entry.key, JSON.parse(text(value)!)).length > 0) out.push(entry.key);
    }
  }
  return out;
}

describe("schemas in the log and in snapshots", () => {
  it("encode canonically and survive a snapshot, still enforced after restore", () => {
    const command = {
      type: "schemaSet" as const,
      atMs: 1,
      namespace: "app",
      schemas: [rule("flags/")],
      force: true as const,
    };
    expect(decodeCommand(encodeCommand(command))).toEqual(command);
    const d = new Driver();
    withSchemas(d, [rule("flags/")]);
    const restored = new Driver(Store.restore(d.store.snapshot()));
    restored.index = d.index;
    expect(restored.store.namespaceSchemas("app")).toEqual(d.store.namespaceSchemas("app"));
    expect(restored.store.snapshot()).toEqual(d.store.snapshot());
    expectType(putJson(restored, "app/flags/a", { enabled: 2 }), "schemaViolation");
  });

  it("leave a store without schemas with the snapshot bytes it had before schemas existed", () => {
    const d = new Driver();
    putJson(d, "app/a", 1);
    expect(text(d.store.snapshot())).not.toMatch(/"schemas"/);
    withSchemas(d, [rule("")], true);
    withSchemas(d, []);
    expect(text(d.store.snapshot())).not.toMatch(/"schemas"/);
  });
});

describe("the leader's schema verdict (Store.vouch)", () => {
  const put = (value: unknown): PutCommand => ({
    type: "put",
    atMs: 1,
    key: "app/flags/a",
    value: bytes(JSON.stringify(value)),
    contentType: json,
  });
  const vouched = (d: Driver, c: PutCommand) => decodeCommand(d.store.vouch(encodeCommand(c)));

  it("is attached only to values that pass, with the schemas' revision, and replaces any it came with", () => {
    const d = new Driver();
    expect(vouched(d, put({ enabled: true }))).toEqual(put({ enabled: true }));
    withSchemas(d, [rule("flags/")]);
    const revision = d.store.namespaceSchemas("app").revision;
    expect(vouched(d, put({ enabled: true }))).toMatchObject({ schemasVouched: revision });
    expect(vouched(d, { ...put({ enabled: 1 }), schemasVouched: revision })).not.toHaveProperty(
      "schemasVouched",
    );
  });

  it("is void once the schemas changed before the write commits: the write is judged again", () => {
    const d = new Driver();
    withSchemas(d, [rule("flags/", { type: "object" })]);
    const c = vouched(d, put({ enabled: 1 }));
    expect(c).toHaveProperty("schemasVouched");
    withSchemas(d, [rule("flags/")]);
    const { atMs: _a, ...command } = c;
    expectType(d.apply(command), "schemaViolation");
    expect(d.value("app/flags/a")).toBeNull();
  });

  it("is no part of the request an Idempotency-Key names: a retry vouched otherwise replays", () => {
    const d = new Driver();
    withSchemas(d, [rule("flags/")]);
    const first = expectType(
      d.apply({ ...put({ enabled: true }), idempotencyKey: "k", schemasVouched: 1 }),
      "ok",
    );
    const again = d.apply({ ...put({ enabled: true }), idempotencyKey: "k" });
    expect(again).toEqual({ ...first, deduplicated: true });
  });
});
