// Assertions guard invariants and catch programmer errors (a malformed command in the log, a
// corrupt snapshot). Bad user input is never asserted: it becomes an `invalid` outcome.
// One AssertionError for every pure layer, so callers catch a single type.
import { AssertionError } from "../raft/assert.ts";

export { AssertionError };

export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new AssertionError(`store invariant violated: ${message}`);
}
