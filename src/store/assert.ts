// Assertions guard invariants and catch programmer errors (a malformed command in the log, a
// corrupt snapshot). Bad user input is never asserted: it becomes an `invalid` outcome.

export class AssertionError extends Error {
  override name = "AssertionError";
}

export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new AssertionError(`store invariant violated: ${message}`);
}
