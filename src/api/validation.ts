// Turns zod failures into one readable 400 detail, naming the parameter or field and what to do.
import type { z } from "@hono/zod-openapi";
import { badRequest, type ApiProblem } from "./problem.ts";

function describeIssue(where: string, issue: z.core.$ZodIssue): string {
  const path = issue.path.map(String).join(".");
  if (issue.code === "unrecognized_keys") {
    const keys = issue.keys.map((k) => JSON.stringify(k)).join(", ");
    return where === "query"
      ? `unknown query parameter(s) ${keys}; remove them (see GET /v1/openapi.json for this endpoint's parameters)`
      : `unknown field(s) ${keys}${path ? ` in ${path}` : ""}`;
  }
  if (issue.code === "invalid_value") {
    const allowed = issue.values.map((v) => JSON.stringify(v)).join(", ");
    return `${where} ${JSON.stringify(path)} must be one of ${allowed}`;
  }
  return `${where} ${path ? JSON.stringify(path) : "value"}: ${issue.message}`;
}

export function validationProblem(where: "query" | "body", error: z.ZodError): ApiProblem {
  const details = error.issues.slice(0, 5).map((issue) => describeIssue(where, issue));
  return badRequest(details.join("; "));
}

/** The query string as a record; a parameter given twice is an error (which value would win?). */
export function queryRecord(url: string): Record<string, string> {
  const record: Record<string, string> = {};
  const at = url.indexOf("?");
  if (at < 0) return record;
  for (const [name, value] of new URLSearchParams(url.slice(at + 1))) {
    if (Object.hasOwn(record, name))
      throw badRequest(`query parameter ${JSON.stringify(name)} is given twice; give it once`);
    record[name] = value;
  }
  return record;
}
