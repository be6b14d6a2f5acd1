// Safe publishing's parts together: apply, rollback and dry runs meet the schemas in force at
// commit, as every other write path does (http-api.md "Safe publishing": "PUT, txn, apply,
// import, rollback").
import { describe, expect, it } from "vitest";
import type { ApplyEntry } from "../../src/store/types.ts";
import { Driver, bytes, expectType } from "./helpers.ts";

const json = "application/json";
const schema = JSON.stringify({
  type: "object",
  properties: { enabled: { type: "boolean" } },
  required: ["enabled"],
});
const entry = (name: string, value: unknown): ApplyEntry => ({
  name,
  value: bytes(JSON.stringify(value)),
  contentType: json,
});

function strict(d: Driver, force?: true) {
  return d.apply({
    type: "schemaSet",
    namespace: "app",
    schemas: [{ prefix: "flags/", schema }],
    ...(force ? { force } : {}),
  });
}

describe("apply and rollback under a schema", () => {
  it("an apply with one breaking entry is refused whole: nothing written, no revision", () => {
    const d = new Driver();
    expectType(strict(d), "schemasSet");
    const before = d.store.revision;
    const o = expectType(
      d.apply({
        type: "namespaceApply",
        namespace: "app",
        entries: [entry("flags/a", { enabled: true }), entry("flags/b", { enabled: "yes" })],
        prune: false,
      }),
      "schemaViolation",
    );
    expect(o.errors.map((e) => [e.key, e.pointer])).toEqual([["app/flags/b", "/enabled"]]);
    expect(d.store.revision).toBe(before);
    expect(d.value("app/flags/a")).toBeNull();
  });

  it("a rollback to values a later schema forbids is refused", () => {
    const d = new Driver();
    d.put("app/flags/a", JSON.stringify({ enabled: "legacy" }), { contentType: json });
    const old = d.store.revision;
    d.put("app/flags/a", JSON.stringify({ enabled: true }), { contentType: json });
    expectType(strict(d), "schemasSet");
    const before = d.store.revision;
    expectType(
      d.apply({ type: "namespaceRollback", namespace: "app", toRevision: old }),
      "schemaViolation",
    );
    expect(d.store.revision).toBe(before);
  });
});
