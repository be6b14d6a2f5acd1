// Invariant checks for programmer errors (TigerBeetle style). Not node:assert: every layer also
// runs in workerd. A failed assertion means the code or its caller is broken, never a network
// fault or bad input (bad input becomes a typed answer). One AssertionError for every layer, so a
// caller (the replica resetting itself, a test) catches a single type.

export class AssertionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "AssertionError";
  }
}

export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new AssertionError(message);
}

export function unreachable(value: never, what: string): never {
  throw new AssertionError(`unreachable ${what}: ${String(value)}`);
}
