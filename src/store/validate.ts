// Validation of user input that reached the log. The API validates first (with zod) and turns
// errors into 400s, but the state machine cannot trust it: a replica running older or newer API
// code may have proposed the command. Each check returns an `invalid` outcome or null.
import { storeLimits } from "./limits.ts";
import { validateContentType, validateKey } from "./keys.ts";
import type { StoreState } from "./state.ts";
import type { InvalidOutcome } from "./types.ts";

export function invalid(
  state: StoreState,
  reason: InvalidOutcome["reason"],
  detail: string,
): InvalidOutcome {
  return { type: "invalid", revision: state.revision, reason, detail };
}

export function checkKey(state: StoreState, key: string): InvalidOutcome | null {
  const error = validateKey(key);
  return error === null ? null : invalid(state, "key", error);
}

export function checkValue(
  state: StoreState,
  value: Uint8Array,
  contentType: string,
): InvalidOutcome | null {
  if (value.length > storeLimits.valueBytesMax) {
    return invalid(
      state,
      "valueTooLarge",
      `value is ${value.length} bytes; at most ${storeLimits.valueBytesMax} bytes are allowed`,
    );
  }
  const error = validateContentType(contentType);
  return error === null ? null : invalid(state, "contentType", error);
}

export function checkRevisionNumber(
  state: StoreState,
  name: string,
  n: number,
): InvalidOutcome | null {
  if (Number.isSafeInteger(n) && n >= 0) return null;
  return invalid(
    state,
    "preconditions",
    `${name} must be a non-negative integer revision, got ${n}`,
  );
}
