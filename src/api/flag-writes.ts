// Writes of a flagd flag definition are checked against flagd's schema before they commit, so
// that what OFREP evaluates later parses: 422, problem type schema-violation, with
// errors: [{key, pointer, message}] as http-api.md's schema rule defines them.
import {
  definitionProblems,
  evaluatorsName,
  evaluatorsProblems,
  isFlagDefinition,
} from "../flags/index.ts";
import { ApiProblem, problemTypes } from "./problem.ts";

/** Throws 422 if `value` (parsed JSON written to `key`) is an invalid flagd definition. */
export function checkFlagDefinition(key: string, value: unknown): void {
  const shared = key.slice(key.indexOf("/") + 1) === evaluatorsName;
  let problems;
  if (shared) problems = evaluatorsProblems(value);
  else if (isFlagDefinition(value)) problems = definitionProblems(value);
  else return;
  if (problems.length === 0) return;
  const first = problems[0]!;
  const what = shared
    ? `${key} holds the namespace's shared flagd evaluators ($evaluators), which`
    : `${key} is a flagd flag definition (it has state and variants) that`;
  const fix = shared ? "" : ", or store a static value without both state and variants";
  throw new ApiProblem({
    status: 422,
    type: problemTypes.schemaViolation,
    detail:
      `${what} flagd's schema refuses: at ${JSON.stringify(first.pointer)} it ` +
      `${first.message}; fix it${fix}`,
    extensions: { errors: problems.map((p) => ({ key, pointer: p.pointer, message: p.message })) },
  });
}
