// A quick yes-or-no judge for the JSON Schemas most config values have (types, properties, bounds,
// patterns, enums, formats), built once per schema as closures: no eval, which workerd refuses.
// It answers only "valid?"; the messages of an invalid value still come from @cfworker/json-schema
// (schema-compile.ts), so the two must agree on every value: test/store/schema-fast.test.ts checks
// that against the library on generated schemas and values.
//
// Why: the library interprets the schema afresh for every value (it destructures ~45 keywords per
// node, builds a location string per property, a RegExp per pattern, and counts every string's
// code points), ~75 µs per 4 KiB value of a 20-property schema in workerd: the leader's schema
// check was ~15 % of a write's server CPU (npm run bench, put4kSchema). A schema using any keyword
// outside this subset gets no quick judge (null), and every value goes to the library as before.
import { deepCompareStrict, format, ucs2length } from "@cfworker/json-schema";

/** True when the value satisfies the schema, as @cfworker/json-schema (2020-12) judges it. */
export type QuickJudge = (value: unknown) => boolean;

type Check = (value: unknown) => boolean;
type Node = Record<string, unknown>;

/** Keywords that only annotate (the library ignores them) or hold subschemas nothing refers to. */
const ignored = new Set([
  "$schema",
  "$id",
  "$comment",
  "$defs",
  "definitions",
  "title",
  "description",
  "default",
  "examples",
  "deprecated",
  "readOnly",
  "writeOnly",
  "contentMediaType",
  "contentEncoding",
  "contentSchema",
]);

/**
 * The quick judge of `schema`, or null when it uses a keyword outside the subset here (a $ref,
 * anyOf, if, patternProperties, multipleOf...) or a pattern that is no regular expression.
 */
export function quickJudge(schema: unknown): QuickJudge | null {
  try {
    return compileNode(schema);
  } catch {
    return null; // a pattern the RegExp constructor refuses: the library reports it per value
  }
}

/** Keywords judged together: each group gets one check per schema node. */
const groups: Record<string, "object" | "array"> = {
  required: "object",
  minProperties: "object",
  maxProperties: "object",
  properties: "object",
  additionalProperties: "object",
  items: "array",
  minItems: "array",
  maxItems: "array",
  uniqueItems: "array",
};

function compileNode(schema: unknown): Check | null {
  if (schema === true) return () => true;
  if (schema === false) return () => false;
  if (!isObject(schema)) return null;
  const checks: Check[] = [];
  const grouped = new Set<string>();
  for (const keyword of Object.keys(schema)) {
    if (ignored.has(keyword)) continue;
    const group = Object.hasOwn(groups, keyword) ? groups[keyword] : undefined;
    if (group !== undefined && grouped.has(group)) continue;
    if (group !== undefined) grouped.add(group);
    const built =
      group === "object"
        ? objectCheck(schema)
        : group === "array"
          ? arrayCheck(schema)
          : keywordCheck(keyword, schema[keyword]);
    if (built === null) return null;
    if (built !== undefined) checks.push(built);
  }
  if (checks.length === 0) return () => true;
  if (checks.length === 1) return checks[0]!;
  return (value) => {
    for (let i = 0; i < checks.length; i++) if (!checks[i]!(value)) return false;
    return true;
  };
}

/** The check of one keyword outside the groups; undefined: nothing to check; null: unsupported. */
function keywordCheck(keyword: string, v: unknown): Check | null | undefined {
  switch (keyword) {
    case "type":
      return typeCheck(v);
    case "const":
      return (x) => (isStructured(x) ? deepCompareStrict(x, v) : x === v);
    case "enum":
      return Array.isArray(v) ? enumCheck(v) : null;
    case "minimum":
    case "maximum":
    case "exclusiveMinimum":
    case "exclusiveMaximum":
      return typeof v === "number" ? numberCheck(keyword, v) : null;
    case "minLength":
    case "maxLength":
    case "pattern":
    case "format":
      return stringCheck(keyword, v);
    default:
      return null;
  }
}

const isStructured = (x: unknown): boolean => typeof x === "object" && x !== null;
const isString = (x: unknown): x is string => typeof x === "string";
/** A count bound: a number, undefined when absent, null when it is no number. */
const bound = (x: unknown): number | undefined | null =>
  x === undefined ? undefined : typeof x === "number" ? x : null;
const isObject = (x: unknown): x is Node =>
  typeof x === "object" && x !== null && !Array.isArray(x);

function typeCheck(t: unknown): Check | null {
  const one = (name: unknown): Check | null => {
    switch (name) {
      case "integer":
        return (x) => typeof x === "number" && x % 1 === 0;
      case "number":
        return (x) => typeof x === "number";
      case "string":
      case "boolean":
        return (x) => typeof x === name;
      case "null":
        return (x) => x === null;
      case "array":
        return (x) => Array.isArray(x);
      case "object":
        return isObject;
      default:
        return null;
    }
  };
  if (!Array.isArray(t)) return one(t);
  const each = t.map(one);
  if (each.some((c) => c === null)) return null;
  const checks = each as Check[];
  return (x) => checks.some((c) => c(x));
}

function enumCheck(values: unknown[]): Check {
  const primitives = new Set(values.filter((v) => !isStructured(v)));
  const structured = values.filter(isStructured);
  return (x) =>
    isStructured(x) ? structured.some((v) => deepCompareStrict(x, v)) : primitives.has(x);
}

function objectCheck(node: Node): Check | null {
  const required = node.required;
  if (required !== undefined && !(Array.isArray(required) && required.every(isString))) return null;
  const names = (required ?? []) as string[];
  const min = bound(node.minProperties);
  const max = bound(node.maxProperties);
  if (min === null || max === null) return null;
  const properties = new Map<string, Check>();
  if (node.properties !== undefined) {
    if (!isObject(node.properties)) return null;
    for (const [name, sub] of Object.entries(node.properties)) {
      const check = compileNode(sub);
      if (check === null) return null;
      properties.set(name, check);
    }
  }
  const additional =
    node.additionalProperties === undefined ? null : compileNode(node.additionalProperties);
  if (node.additionalProperties !== undefined && additional === null) return null;
  return (x) => {
    if (!isObject(x)) return true;
    for (const name of names) if (!Object.prototype.hasOwnProperty.call(x, name)) return false;
    if (min !== undefined || max !== undefined) {
      const count = Object.keys(x).length;
      if ((min !== undefined && count < min) || (max !== undefined && count > max)) return false;
    }
    if (properties.size === 0 && additional === null) return true;
    for (const key in x) {
      const own = properties.get(key);
      if (own !== undefined && Object.prototype.hasOwnProperty.call(x, key)) {
        if (!own(x[key])) return false;
      } else if (additional !== null && !additional(x[key])) return false;
    }
    return true;
  };
}

function arrayCheck(node: Node): Check | null {
  const items = node.items === undefined ? null : compileNode(node.items);
  if (node.items !== undefined && items === null) return null;
  const min = bound(node.minItems);
  const max = bound(node.maxItems);
  if (min === null || max === null) return null;
  const unique = node.uniqueItems === true;
  return (x) => {
    if (!Array.isArray(x)) return true;
    if ((min !== undefined && x.length < min) || (max !== undefined && x.length > max))
      return false;
    if (items !== null) for (const item of x) if (!items(item)) return false;
    return !unique || allDistinct(x);
  };
}

function allDistinct(x: unknown[]): boolean {
  for (let j = 0; j < x.length; j++)
    for (let k = j + 1; k < x.length; k++) {
      const a = x[j];
      const b = x[k];
      if (a === b || (isStructured(a) && isStructured(b) && deepCompareStrict(a, b))) return false;
    }
  return true;
}

function numberCheck(keyword: string, bound: number): Check {
  switch (keyword) {
    case "minimum":
      return (x) => typeof x !== "number" || x >= bound;
    case "maximum":
      return (x) => typeof x !== "number" || x <= bound;
    case "exclusiveMinimum":
      return (x) => typeof x !== "number" || x > bound;
    default:
      return (x) => typeof x !== "number" || x < bound;
  }
}

/**
 * Lengths count code points; a string of n UTF-16 units has between n/2 and n of them, so most
 * strings pass a bound without being counted.
 */
function stringCheck(keyword: string, v: unknown): Check | null | undefined {
  if (keyword === "pattern") {
    if (typeof v !== "string") return null;
    const re = new RegExp(v, "u"); // may throw: quickJudge gives up on the schema
    return (x) => typeof x !== "string" || re.test(x);
  }
  if (keyword === "format") {
    if (typeof v !== "string") return null;
    // The library looks names up with format[name]: an inherited name ("toString") it would call
    // as a method, which only the library itself should do.
    if (!Object.hasOwn(format, v)) return v in format ? null : undefined;
    const test = format[v]!;
    return (x) => typeof x !== "string" || test(x);
  }
  if (typeof v !== "number") return null;
  if (keyword === "maxLength")
    return (x) => typeof x !== "string" || x.length <= v || ucs2length(x) <= v;
  return (x) => typeof x !== "string" || x.length >= 2 * v || ucs2length(x) >= v;
}
