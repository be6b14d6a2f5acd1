// An evaluation (OFREP's shape, from src/flags) as OpenFeature resolution details of the type
// the application asked for: a wrong type is TYPE_MISMATCH, a failure the default with its code.
import { ErrorCode, type JsonValue, type ResolutionDetails } from "@openfeature/core";
import { isFailure, type Evaluation } from "../../flags/index.ts";

export type FlagType = "boolean" | "string" | "number" | "object";

function hasType(value: unknown, type: FlagType): boolean {
  if (type === "object") return typeof value === "object" && value !== null;
  return typeof value === type;
}

function failed<T>(defaultValue: T, errorCode: ErrorCode, errorMessage: string) {
  return { value: defaultValue, reason: "ERROR", errorCode, errorMessage };
}

/** `stale`: the answer came from fallback data, not the store (reason STALE). */
export function resolution<T extends boolean | string | number | JsonValue>(
  evaluation: Evaluation,
  type: FlagType,
  defaultValue: T,
  stale: boolean,
): ResolutionDetails<T> {
  if (isFailure(evaluation))
    return failed(defaultValue, evaluation.errorCode as ErrorCode, evaluation.errorDetails);
  const { reason, variant, value, metadata } = evaluation;
  const common = {
    reason: stale ? "STALE" : reason,
    ...(variant ? { variant } : {}),
    ...(metadata ? { flagMetadata: metadata } : {}),
  };
  // No value: the flag defers to the application's default (flagd's DISABLED, or no default).
  if (value === undefined) return { value: defaultValue, ...common };
  if (!hasType(value, type)) {
    const got = Array.isArray(value) ? "array" : value === null ? "null" : typeof value;
    return failed(defaultValue, ErrorCode.TYPE_MISMATCH, `flag is a ${got}, not a ${type}`);
  }
  return { value: value as T, ...common };
}
