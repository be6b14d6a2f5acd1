// Shared evaluators: flagd's `$evaluators`, JsonLogic rules that definitions reuse with
// {"$ref": "name"}. A namespace keeps them in the entry named `.evaluators` (a name cannot
// start with `$`), a JSON object of name → rule; it is no flag itself. References are replaced
// as flagd-core replaces them (in the definition's normalized JSON text), so a reference to an
// evaluator that does not exist stays and fails to parse, as in flagd.

export const evaluatorsName = ".evaluators";

export type Evaluators = Record<string, unknown>;

export function evaluatorsOf(value: unknown): Evaluators {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as Evaluators)
    : {};
}

/** The definition with every {"$ref": name} of a known evaluator replaced by the rule. */
export function withEvaluators(definition: unknown, evaluators: Evaluators): unknown {
  const names = Object.keys(evaluators);
  if (names.length === 0) return definition;
  let text = JSON.stringify(definition);
  if (!text.includes('"$ref"')) return definition;
  for (const name of names)
    text = text.replaceAll(`{"$ref":${JSON.stringify(name)}}`, JSON.stringify(evaluators[name]));
  return JSON.parse(text);
}

/** Whether a definition refers to shared evaluators (so it changes when they do). */
export function usesEvaluators(definition: unknown): boolean {
  return JSON.stringify(definition).includes('"$ref"');
}
