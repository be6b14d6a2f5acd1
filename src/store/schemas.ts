// Schemas per name prefix (http-api.md "Safe publishing"), enforced here, when a write is applied:
// the one place every JSON value passes on its way in (applyPut, txn puts, and any command that
// writes through them). A schema change and a write are entries of the same shard's log, so each
// write is judged by the schemas in force at the revision it commits at, whatever raced it.
import { isJsonMediaType, namespaceOf, validateNamespace } from "./keys.ts";
import { storeLimits } from "./limits.ts";
import { compileSchema, type CompiledSchema } from "./schema-compile.ts";
import type { SchemaState, StoreState } from "./state.ts";
import { liveVersion } from "./state.ts";
import type {
  Command,
  InvalidOutcome,
  NamespaceSchemas,
  SchemaRule,
  SchemaSetCommand,
  SchemaViolation,
  SchemaViolationOutcome,
  WriteOutcome,
} from "./types.ts";
import { invalid } from "./validate.ts";

/** What a command writes: every command that stores values checks its writes with these. */
export interface ValueWrite {
  key: string;
  value: Uint8Array;
  contentType: string;
}

const encoder = new TextEncoder();
const bytes = (text: string): number => encoder.encode(text).length;
const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });
const prefixPattern = /^[A-Za-z0-9._~/-]*$/;

/**
 * The refusal of `writes` by the schemas in force, or null when every write conforms. `vouched`:
 * the schemas revision the leader found them all to satisfy (SchemasVouched), if it still holds.
 */
export function checkSchemas(
  state: StoreState,
  writes: ValueWrite[],
  vouched?: number,
): WriteOutcome | null {
  if (state.schemas.size === 0 || writes.length === 0) return null;
  if (vouched !== undefined && state.schemas.get(namespaceOf(writes[0]!.key))?.revision === vouched)
    return null;
  const errors: SchemaViolation[] = [];
  let keys = 0;
  for (const w of writes) {
    const found = valueViolations(state, w);
    if (found.length === 0) continue;
    keys += 1;
    errors.push(...found);
  }
  return keys === 0 ? null : violation(state, errors, keys);
}

/**
 * The leader's verdict on `c` (SchemasVouched): the schemas revision in force here when every
 * value it may write passes them, so that the replicas applying it need not validate again; null
 * when it writes no values, several namespaces' or any that fail (apply then judges them).
 */
export function verdictOf(state: StoreState, c: Command): number | null {
  if (c.type !== "put" && c.type !== "txn") return null;
  const writes =
    c.type === "put" ? [c] : [...c.success, ...c.failure].filter((op) => op.type === "put");
  const namespace = writes.length === 0 ? "" : namespaceOf(writes[0]!.key);
  const set = state.schemas.get(namespace);
  if (set === undefined || writes.some((w) => namespaceOf(w.key) !== namespace)) return null;
  if (writes.some((w) => judge(set, w, w.key.slice(namespace.length + 1)).length > 0)) return null;
  return set.revision;
}

function violation(state: StoreState, errors: SchemaViolation[], keys: number) {
  const outcome: SchemaViolationOutcome = {
    type: "schemaViolation",
    revision: state.revision,
    errors: errors.slice(0, storeLimits.schemaViolationsListedMax),
    keys,
  };
  return outcome;
}

function valueViolations(state: StoreState, w: ValueWrite): SchemaViolation[] {
  const namespace = namespaceOf(w.key);
  const set = state.schemas.get(namespace);
  if (set === undefined) return [];
  return judge(set, w, w.key.slice(namespace.length + 1));
}

/** The violations of one value under the rules of `set` whose prefix its name starts with. */
function judge(set: SchemaState, w: ValueWrite, name: string): SchemaViolation[] {
  const compiled = compiledRules(set);
  let parsed: { value: unknown } | null = null;
  const out: SchemaViolation[] = [];
  for (let i = 0; i < set.rules.length; i++) {
    const rule = set.rules[i]!;
    if (!name.startsWith(rule.prefix)) continue;
    const where = `the schema of prefix ${JSON.stringify(rule.prefix)}`;
    if (!isJsonMediaType(w.contentType)) {
      const message =
        `${where} admits JSON values only (application/json or +json), ` + `not ${w.contentType}`;
      return [{ key: w.key, pointer: "", message }];
    }
    parsed ??= parse(w.value);
    if (parsed === null) return [{ key: w.key, pointer: "", message: "the value is not JSON" }];
    const schema = compiled[i]!;
    if (typeof schema === "string") {
      out.push({ key: w.key, pointer: "", message: `${where} no longer compiles: it ${schema}` });
    } else out.push(...schema.check(w.key, parsed.value));
  }
  return out;
}

function parse(bytes: Uint8Array): { value: unknown } | null {
  try {
    return { value: JSON.parse(decoder.decode(bytes)) };
  } catch {
    return null;
  }
}

function compiledRules(set: SchemaState): (CompiledSchema | string)[] {
  set.compiled ??= set.rules.map((r) => compileSchema(r.schema));
  return set.compiled;
}

export function namespaceSchemas(state: StoreState, namespace: string): NamespaceSchemas {
  const set = state.schemas.get(namespace);
  return {
    namespace,
    revision: set?.revision ?? 0,
    schemas: set === undefined ? [] : set.rules.map((r) => ({ ...r })),
  };
}

export function applySchemaSet(state: StoreState, c: SchemaSetCommand): WriteOutcome {
  const bad = checkRules(state, c);
  if (bad !== null) return bad;
  const compiled: CompiledSchema[] = [];
  for (const rule of c.schemas) {
    const schema = compileSchema(rule.schema);
    if (typeof schema === "string")
      return invalid(
        state,
        "schema",
        `the schema of prefix ${JSON.stringify(rule.prefix)} ${schema}`,
      );
    compiled.push(schema);
  }
  const next: SchemaState = { revision: state.revision + 1, rules: c.schemas, compiled };
  if (sameRules(state.schemas.get(c.namespace)?.rules ?? [], c.schemas)) {
    return {
      type: "schemasSet",
      revision: state.revision,
      schemas: namespaceSchemas(state, c.namespace),
    };
  }
  if (c.force !== true) {
    const refused = storedViolations(state, c.namespace, next);
    if (refused !== null) return refused;
  }
  state.revision += 1;
  // Only namespaces with schemas are kept: equal states then have equal snapshots.
  if (c.schemas.length === 0) state.schemas.delete(c.namespace);
  else state.schemas.set(c.namespace, next);
  return {
    type: "schemasSet",
    revision: state.revision,
    schemas: namespaceSchemas(state, c.namespace),
  };
}

/** The live values of the namespace that `next` would refuse, in key order. */
function storedViolations(state: StoreState, namespace: string, next: SchemaState) {
  const ns = state.namespaces.get(namespace);
  if (ns === undefined || next.rules.length === 0) return null;
  const errors: SchemaViolation[] = [];
  let keys = 0;
  for (const key of [...ns.records.keys()].sort()) {
    const live = liveVersion(state, key);
    if (live === null) continue;
    const found = judge(next, { key, ...live }, key.slice(namespace.length + 1));
    if (found.length === 0) continue;
    keys += 1;
    if (errors.length < storeLimits.schemaViolationsListedMax) errors.push(...found);
  }
  return keys === 0 ? null : violation(state, errors, keys);
}

function sameRules(a: SchemaRule[], b: SchemaRule[]): boolean {
  return (
    a.length === b.length &&
    a.every((r, i) => r.prefix === b[i]!.prefix && r.schema === b[i]!.schema)
  );
}

function checkRules(state: StoreState, c: SchemaSetCommand): InvalidOutcome | null {
  const nsError = validateNamespace(c.namespace);
  if (nsError !== null) return invalid(state, "namespace", nsError);
  const limits = storeLimits;
  if (c.schemas.length > limits.schemasPerNamespaceMax)
    return invalid(
      state,
      "schema",
      `${c.schemas.length} schemas; a namespace may have at most ${limits.schemasPerNamespaceMax}`,
    );
  let total = 0;
  for (let i = 0; i < c.schemas.length; i++) {
    const { prefix, schema } = c.schemas[i]!;
    const error = ruleError(
      c.namespace,
      prefix,
      bytes(schema),
      i === 0 ? null : c.schemas[i - 1]!.prefix,
    );
    if (error !== null) return invalid(state, "schema", error);
    total += bytes(schema);
  }
  if (total > limits.namespaceSchemaBytesMax)
    return invalid(
      state,
      "schema",
      `the schemas are ${total} bytes of JSON; ` +
        `at most ${limits.namespaceSchemaBytesMax} are allowed per namespace`,
    );
  return null;
}

function ruleError(
  namespace: string,
  prefix: string,
  bytes: number,
  before: string | null,
): string | null {
  const name = JSON.stringify(prefix);
  if (!prefixPattern.test(prefix) || namespace.length + 1 + prefix.length > storeLimits.keyBytesMax)
    return (
      `schema prefix ${name} is no start of a key name (characters [A-Za-z0-9._~/-], ` +
      `the whole key at most ${storeLimits.keyBytesMax} bytes)`
    );
  if (before !== null && !(before < prefix))
    return (
      "schema prefixes must be unique and in ascending order " +
      `(${name} after ${JSON.stringify(before)})`
    );
  if (bytes > storeLimits.schemaBytesMax)
    return (
      `the schema of prefix ${name} is ${bytes} bytes of JSON; ` +
      `at most ${storeLimits.schemaBytesMax} are allowed`
    );
  return null;
}
