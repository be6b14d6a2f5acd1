// Callers waiting on the replica's applied state: a read waiting for its ReadIndex to be applied,
// a read-your-writes read waiting for a revision, a long poll waiting for a change. Each waiter
// is a condition re-checked after every batch of applied entries, and a deadline.
//
// The deadline is a timer tied to the waiting request (it ends with it), never a loop: while no
// one waits, nothing is scheduled and the replica can sleep.

interface Waiter {
  check: () => boolean;
  done: (satisfied: boolean) => void;
}

export class ApplyWaiters {
  readonly #waiters = new Set<Waiter>();

  /** Resolves true once `check()` holds, false when `timeoutMs` passes first. */
  until(check: () => boolean, timeoutMs: number): Promise<boolean> {
    if (check()) return Promise.resolve(true);
    if (timeoutMs <= 0) return Promise.resolve(false);
    return new Promise<boolean>((resolve) => {
      const waiter: Waiter = {
        check,
        done: (satisfied) => {
          clearTimeout(timer);
          this.#waiters.delete(waiter);
          resolve(satisfied);
        },
      };
      const timer = setTimeout(() => waiter.done(false), timeoutMs);
      this.#waiters.add(waiter);
    });
  }

  /** After entries were applied: wake every waiter whose condition now holds. */
  notify(): void {
    for (const w of [...this.#waiters]) if (w.check()) w.done(true);
  }

  /** Ends every wait unsatisfied (the replica stopped). */
  cancelAll(): void {
    for (const w of [...this.#waiters]) w.done(false);
  }

  get size(): number {
    return this.#waiters.size;
  }
}
