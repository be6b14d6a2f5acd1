// Feature flags: which stored values are flags, how they evaluate (flagd's core for flagd
// definitions, static values as themselves), and OFREP's shape of the answer. No I/O: the API,
// the Workers binding and the SDK's OpenFeature providers feed it what they read.
export {
  definitionProblems,
  evaluatorsProblems,
  isFlagDefinition,
  type DefinitionProblem,
} from "./definition.ts";
export {
  isFailure,
  type Evaluation,
  type EvaluationContext,
  type EvaluationErrorCode,
  type EvaluationFailure,
  type EvaluationSuccess,
  type FlagMetadata,
} from "./evaluation.ts";
export { FlagSet, type FlagSource, type FlagSummary } from "./flag-set.ts";
export { flagSourcesOf, type BundleFlagSource, type BundleLike } from "./bundle.ts";
export { evaluatorsName, usesEvaluators } from "./evaluators.ts";
