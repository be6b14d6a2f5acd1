// Writes of a flagd flag definition are checked against flagd's schema before they commit, so
// that what OFREP evaluates later parses: 422, problem type schema-violation, with
// errors: [{key, pointer, message}] as http-api.md's schema rule defines them.
import { definitionProblems, isFlagDefinition } from "../flags/index.ts";
import { ApiProblem, problemTypes } from "./problem.ts";

/** Throws 422 if `value` (parsed JSON written to `key`) is an invalid flagd definition. */
export function checkFlagDefinition(key: string, value: unknown): void {
  if (!isFlagDefinition(value)) return;
  const problems = definitionProblems(value);
  if (problems.length === 0) return;
  const first = problems[0]!;
  throw new ApiProblem({
    status: 422,
    type: problemTypes.schemaViolation,
    detail:
      `${key} is a flagd flag definition (it has state and variants) that flagd's schema ` +
      `refuses: at ${JSON.stringify(first.pointer)} it ${first.message}; fix it, or store a ` +
      "static value without both state and variants",
    extensions: { errors: problems.map((p) => ({ key, pointer: p.pointer, message: p.message })) },
  });
}
