// Invariant checks for programmer errors (TigerBeetle style). Not node:assert: the core also runs
// in workerd. A failed assertion means the core or its caller is broken, never a network fault.

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
