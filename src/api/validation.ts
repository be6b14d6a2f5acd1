// Turns zod failures into one readable 400 detail in plain words: which parameter or field, what
// to send instead, and (cut to a short prefix) what was sent. Never zod's own wording.
import type { z } from "@hono/zod-openapi";
import { badRequest, excerpt, type ApiProblem } from "./problem.ts";

type Where = "query" | "body";

/** `scopes[0].ops` for the path ["scopes", 0, "ops"]. */
function pathText(path: readonly PropertyKey[]): string {
  return path
    .map((p, i) => (typeof p === "number" ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`))
    .join("");
}

function subject(where: Where, path: readonly PropertyKey[]): string {
  if (path.length === 0) return where === "query" ? "the query" : "the body";
  return `${where === "query" ? "query parameter" : "field"} ${JSON.stringify(pathText(path))}`;
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let v = input;
  for (const p of path) v = v !== null && typeof v === "object" ? (v as never)[p] : undefined;
  return v;
}

const nouns: Record<string, string> = {
  number: "a number",
  int: "a whole number",
  string: "a string",
  boolean: "true or false",
  object: "a JSON object",
  array: "a JSON array",
};

function kindOf(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "number" && !Number.isInteger(value)) return "a fraction";
  return { string: "a string", number: "a number", boolean: "a boolean", object: "an object" }[
    typeof value as "string"
  ];
}

function got(value: unknown): string {
  return value === undefined ? "" : ` (got ${excerpt(value)})`;
}

function listed(values: readonly unknown[]): string {
  return values.map((v) => JSON.stringify(v)).join(", ");
}

function bound(issue: z.core.$ZodIssueTooSmall | z.core.$ZodIssueTooBig): string {
  const small = issue.code === "too_small";
  const n = Number(small ? issue.minimum : issue.maximum);
  const limit = `${small ? "at least" : "at most"} ${n}`;
  if (issue.origin === "array") return `must list ${limit} item${n === 1 ? "" : "s"}`;
  if (issue.origin === "string") return `must be ${limit} character${n === 1 ? "" : "s"} long`;
  return `must be ${issue.inclusive ? limit : `${small ? "more" : "less"} than ${n}`}`;
}

function describeIssue(where: Where, issue: z.core.$ZodIssue, input: unknown): string {
  const what = subject(where, issue.path);
  const value = valueAt(input, issue.path);
  switch (issue.code) {
    case "unrecognized_keys": {
      const keys = issue.keys.map((k) => excerpt(k)).join(", ");
      return where === "query"
        ? `unknown query parameter(s) ${keys}; remove them ` +
            "(GET /v1/openapi.json lists this endpoint's parameters)"
        : `unknown field(s) ${keys}${issue.path.length ? ` in ${what}` : ""}; remove them`;
    }
    case "invalid_type": {
      const noun = nouns[issue.expected] ?? issue.expected;
      if (value === undefined) return `${what} is missing: send ${noun}`;
      return `${what} must be ${noun}, not ${kindOf(value)}${got(value)}`;
    }
    case "invalid_value":
      return `${what} must be one of ${listed(issue.values)}${got(value)}`;
    case "invalid_union": {
      const options = (issue as { options?: unknown[] }).options;
      if (options) return `${what} must be one of ${listed(options)}${got(value)}`;
      return `${what} has none of the accepted shapes${got(value)}; see GET /v1/openapi.json`;
    }
    case "too_small":
    case "too_big":
      return `${what} ${bound(issue)}${got(value)}`;
    case "invalid_format":
    case "custom":
      return `${what} ${issue.message}${got(value)}`;
    default:
      return `${what} is not valid${got(value)}; see GET /v1/openapi.json`;
  }
}

export function validationProblem(where: Where, error: z.ZodError, input: unknown): ApiProblem {
  const details = error.issues.slice(0, 5).map((issue) => describeIssue(where, issue, input));
  return badRequest(details.join("; "));
}

/** The query string as a record; a parameter given twice is an error (which value would win?). */
export function queryRecord(url: string): Record<string, string> {
  const record: Record<string, string> = {};
  const at = url.indexOf("?");
  if (at < 0) return record;
  for (const [name, value] of new URLSearchParams(url.slice(at + 1))) {
    if (Object.hasOwn(record, name))
      throw badRequest(`query parameter ${excerpt(name)} is given twice; give it once`);
    record[name] = value;
  }
  return record;
}
