// JSON Schema 2020-12 with @cfworker/json-schema: it interprets schemas (no eval or new Function,
// which workerd refuses) and is deterministic, so every replica judges a value alike. A schema is
// checked once, when a setting proposes it (the meta-schema, then what the validator cannot run:
// $dynamicRef, a $ref that points nowhere, another draft), so validating a value never throws on
// the apply path. Compiled validators are derived state, built once per settings revision. A valid
// value of a plain schema is recognised by schema-fast.ts's quick judge, without the library.
import { dereference, Validator, type OutputUnit, type Schema } from "@cfworker/json-schema";
import { metaSchema2020 } from "./meta-schema.ts";
import { quickJudge } from "./schema-fast.ts";
import type { SchemaViolation } from "./types.ts";

export const schemaDraft = "https://json-schema.org/draft/2020-12/schema";

/** Errors of one value listed at most (the first ones in schema order). */
export const violationsPerValueMax = 16;

export interface CompiledSchema {
  /** The violations of `value` (parsed JSON) written to `key`; [] when it is valid. */
  check(key: string, value: unknown): SchemaViolation[];
}

let metaValidator: Validator | null = null;

/**
 * A compiled schema, or why `text` (a JSON text) is not a JSON Schema this store can enforce.
 * Never throws: it runs inside apply, where a throw would reset the replica on every replay.
 */
export function compileSchema(text: string): CompiledSchema | string {
  try {
    return compileParsed(JSON.parse(text) as unknown);
  } catch (e) {
    return e instanceof SyntaxError ? "is not JSON" : `cannot be compiled: ${(e as Error).message}`;
  }
}

function compileParsed(schema: unknown): CompiledSchema | string {
  metaValidator ??= new Validator(metaSchema2020 as Schema, "2020-12", false);
  const meta = leafErrors(metaValidator.validate(schema).errors);
  if (meta.length > 0) {
    const first = meta[0]!;
    const at = JSON.stringify(first.pointer || "/");
    return `is not a JSON Schema 2020-12: at ${at} ${first.message}`;
  }
  const unsupported = unsupportedKeyword(schema, "");
  if (unsupported !== null) return unsupported;
  // Before the validator, which annotates the schema's nodes as it dereferences them.
  const quick = quickJudge(schema);
  // Both may throw (an $id that is no URI, two subschemas with one $id): caught by the caller.
  const validator = new Validator(schema as Schema, "2020-12", false);
  const unresolved = unresolvedRef(schema, dereference(schema as Schema));
  if (unresolved !== null) return unresolved;
  return {
    check(key, value) {
      let result;
      try {
        if (quick !== null && quick(value)) return [];
        result = validator.validate(value);
      } catch (e) {
        // Deterministic like any verdict: the same value and schema throw on every replica.
        return [
          { key, pointer: "", message: `the schema cannot judge it: ${(e as Error).message}` },
        ];
      }
      if (result.valid) return [];
      return leafErrors(result.errors)
        .slice(0, violationsPerValueMax)
        .map((e) => ({ key, pointer: e.pointer, message: e.message }));
    },
  };
}

/**
 * The errors that say what is wrong, not that a subschema had errors, as RFC 6901 pointers (the
 * validator gives URI fragments: "#/a%20b" is "/a b").
 */
function leafErrors(units: OutputUnit[]): { pointer: string; message: string }[] {
  const leaves = units.filter((u) => !/subschema|does not match schema/i.test(u.error));
  const chosen = leaves.length > 0 ? leaves : units;
  return chosen.map((u) => ({
    pointer: decodeURIComponent(u.instanceLocation.replace(/^#/, "")),
    message: u.error.replace(/\.$/, ""),
  }));
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
/** Keywords whose values are data, not subschemas: a "$ref" key inside them is no reference. */
const dataKeywords = new Set(["const", "enum", "default", "examples"]);

function unsupportedKeyword(node: unknown, at: string): string | null {
  if (node === null || typeof node !== "object") return null;
  const entries = Array.isArray(node)
    ? node.map((v, i) => [String(i), v] as const)
    : Object.entries(node as Record<string, Json>);
  for (const [k, v] of entries) {
    if (!Array.isArray(node)) {
      if (k === "$dynamicRef" || k === "$dynamicAnchor")
        return (
          `uses ${k} at ${JSON.stringify(at || "/")}, ` +
          "which the validator does not support; use $ref"
        );
      if (k === "$schema" && v !== schemaDraft && at === "")
        return (
          `declares $schema ${JSON.stringify(v)}: ` +
          `write JSON Schema 2020-12 (${schemaDraft}) or leave $schema out`
        );
      if (dataKeywords.has(k)) continue;
    }
    const inner = unsupportedKeyword(v, `${at}/${k.replace(/~/g, "~0").replace(/\//g, "~1")}`);
    if (inner !== null) return inner;
  }
  return null;
}

/** A $ref the validator could not resolve would throw on the first value reaching it: refuse it. */
function unresolvedRef(node: unknown, lookup: Record<string, unknown>): string | null {
  if (node === null || typeof node !== "object") return null;
  const o = node as Record<string, unknown> & { __absolute_ref__?: string };
  if (!Array.isArray(node) && typeof o.$ref === "string") {
    if (lookup[o.__absolute_ref__ ?? o.$ref] === undefined)
      return (
        `has a $ref ${JSON.stringify(o.$ref)} that points nowhere inside it ` +
        "(schemas cannot refer to other documents)"
      );
  }
  for (const [k, v] of Object.entries(o)) {
    if (Array.isArray(node) || !dataKeywords.has(k)) {
      const inner = unresolvedRef(v, lookup);
      if (inner !== null) return inner;
    }
  }
  return null;
}
