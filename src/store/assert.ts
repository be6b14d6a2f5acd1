// Assertions guard invariants and catch programmer errors (a malformed command in the log, a
// corrupt snapshot). Bad user input is never asserted: it becomes an `invalid` outcome.
// The AssertionError is the one every layer shares (src/base), so callers catch a single type.
import { AssertionError } from "../base/index.ts";

export { AssertionError };

export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new AssertionError(`store invariant violated: ${message}`);
}
