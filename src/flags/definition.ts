// flagd flag definitions: which stored values are one, and whether one is valid against flagd's
// own schema. The schema check is flagd-core's (its precompiled validator, no eval), reached
// through a strict parse; its error list names the failing place as an instance path, which is
// turned into a JSON pointer relative to the definition (RFC 6901).
import { MemoryStorage } from "@openfeature/flagd-core";
import { flagdOptions, silentLogger } from "./logger.ts";

/** A JSON object with `state` and `variants` is a flagd definition; anything else is static. */
export function isFlagDefinition(value: unknown): value is Record<string, unknown> {
  return (
    typeof value === "object" &&
    value !== null &&
    !Array.isArray(value) &&
    "state" in value &&
    "variants" in value
  );
}

export interface DefinitionProblem {
  /** RFC 6901 pointer into the definition ("" = the definition itself). */
  pointer: string;
  message: string;
}

const listPrefix = "invalid flagd flag configuration: ";
const flagPointer = "/flags/definition";

interface SchemaError {
  instancePath?: string;
  message?: string;
  keyword?: string;
  params?: Record<string, unknown>;
}

function schemaProblems(message: string, prefix = flagPointer): DefinitionProblem[] | undefined {
  if (!message.startsWith(listPrefix)) return undefined;
  let errors: SchemaError[];
  try {
    errors = JSON.parse(message.slice(listPrefix.length)) as SchemaError[];
  } catch {
    return undefined;
  }
  // anyOf/oneOf summaries repeat what their branches said; keep them only if alone.
  const specific = errors.filter((e) => e.keyword !== "anyOf" && e.keyword !== "oneOf");
  const seen = new Set<string>();
  return (specific.length > 0 ? specific : errors).flatMap((e) => {
    const path = e.instancePath ?? "";
    const pointer = path.startsWith(prefix) ? path.slice(prefix.length) : path;
    const extra = e.params?.["additionalProperty"];
    const text = `${e.message ?? "is invalid"}${extra === undefined ? "" : ` (${String(extra)})`}`;
    const id = `${pointer} ${text}`;
    if (seen.has(id)) return [];
    seen.add(id);
    return [{ pointer, message: text }];
  });
}

/** Structural errors flagd-core raises itself, after its schema passed. */
function structuralProblem(cause: unknown): DefinitionProblem {
  const text = cause instanceof Error ? cause.message : String(cause);
  if (/default variant/i.test(text))
    return { pointer: "/defaultVariant", message: "must name one of the variants" };
  if (/state/i.test(text)) return { pointer: "/state", message: 'must be "ENABLED" or "DISABLED"' };
  return { pointer: "", message: text };
}

/**
 * flagd's schema takes variants of one type as an anyOf of four branches, and each branch names
 * the first variant it refuses: the branch that got furthest names the variant that is wrong.
 */
function furthestVariant(problems: DefinitionProblem[], variants: unknown): DefinitionProblem[] {
  if (problems.length < 2 || typeof variants !== "object" || variants === null) return problems;
  const names = Object.keys(variants).map(
    (n) => `/variants/${n.replace(/~/g, "~0").replace(/\//g, "~1")}`,
  );
  if (!problems.every((p) => names.includes(p.pointer))) return problems;
  const furthest = Math.max(...problems.map((p) => names.indexOf(p.pointer)));
  const name = names[furthest]!;
  return [{ pointer: name, message: "must be of the type of the variants before it" }];
}

/** Why a flagd definition is invalid (empty: it is valid), by flagd's schema and rules. */
export function definitionProblems(definition: Record<string, unknown>): DefinitionProblem[] {
  const storage = new MemoryStorage(silentLogger, flagdOptions);
  try {
    storage.setConfigurations(JSON.stringify({ flags: { definition } }), true);
    return [];
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const cause = error instanceof Error ? error.cause : undefined;
    const problems = schemaProblems(message);
    if (problems === undefined) return [structuralProblem(cause ?? error)];
    return furthestVariant(problems, definition["variants"]);
  }
}

/** Why a `.evaluators` value is invalid: an object of name → JsonLogic rule (flagd's schema). */
export function evaluatorsProblems(value: unknown): DefinitionProblem[] {
  if (typeof value !== "object" || value === null || Array.isArray(value))
    return [{ pointer: "", message: "must be an object of evaluator name → JsonLogic rule" }];
  const storage = new MemoryStorage(silentLogger, flagdOptions);
  try {
    storage.setConfigurations(JSON.stringify({ flags: {}, $evaluators: value }), true);
    return [];
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const problems = schemaProblems(message, "/$evaluators") ?? [{ pointer: "", message }];
    return problems;
  }
}
