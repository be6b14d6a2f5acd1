// One evaluation as OFREP 0.3.0 shapes it (evaluationSuccess / evaluationFailure / flagNotFound),
// so the HTTP routes, the Workers binding and the SDK's providers all speak the same result.

export type FlagMetadata = Record<string, string | number | boolean>;

/** A value the flag resolved to; without `value` the caller uses its code default. */
export interface EvaluationSuccess {
  key: string;
  reason: string;
  variant?: string;
  value?: unknown;
  metadata?: FlagMetadata;
}

export type EvaluationErrorCode =
  | "FLAG_NOT_FOUND"
  | "PARSE_ERROR"
  | "TARGETING_KEY_MISSING"
  | "INVALID_CONTEXT"
  | "GENERAL";

export interface EvaluationFailure {
  key: string;
  errorCode: EvaluationErrorCode;
  errorDetails: string;
  metadata?: FlagMetadata;
}

export type Evaluation = EvaluationSuccess | EvaluationFailure;

export function isFailure(e: Evaluation): e is EvaluationFailure {
  return "errorCode" in e;
}

/** The evaluation context: OpenFeature's, a JSON object (targetingKey optional here). */
export type EvaluationContext = Record<string, unknown>;
