// Long-poll waiters of one shard: resolved when a write touches their key or namespace, or at
// their timeout. Bounded: beyond `waitersMax` a new waiter is refused (the API answers 503).
import type { Command, WriteOutcome } from "../store/index.ts";
import { lockOfWaitKey, lockWaitKey, namespaceOf } from "../store/index.ts";

export const waitersMax = 10_000;

interface Waiter {
  namespace: string;
  key: string | undefined;
  resolve: (changed: boolean) => void;
  timer: ReturnType<typeof setTimeout>;
}

export class Waiters {
  private readonly waiters = new Set<Waiter>();

  get size(): number {
    return this.waiters.size;
  }

  /** Resolves true when woken by `notify`, false at the timeout; null when full. */
  add(namespace: string, key: string | undefined, timeoutMs: number): Promise<boolean> | null {
    if (this.waiters.size >= waitersMax) return null;
    return new Promise((resolve) => {
      const waiter: Waiter = {
        namespace,
        key,
        resolve,
        timer: setTimeout(() => this.settle(waiter, false), timeoutMs),
      };
      this.waiters.add(waiter);
    });
  }

  /** Wakes the waiters of the keys a command changed. */
  notify(command: Command, outcome: WriteOutcome): void {
    if (this.waiters.size === 0) return;
    const keys = touchedKeys(command, outcome);
    if (keys.size === 0) return;
    const namespaces = new Set([...keys].map(namespaceOf));
    for (const w of this.waiters) {
      if (w.key === undefined ? namespaces.has(w.namespace) : touches(keys, w.key))
        this.settle(w, true);
    }
  }

  private settle(w: Waiter, changed: boolean): void {
    if (!this.waiters.delete(w)) return;
    clearTimeout(w.timer);
    w.resolve(changed);
  }
}

/**
 * A lock's turn (lockTurnKey) is woken by any change of the lock: this one object re-checks
 * cheaply, and the lock route reads again and waits again when it was not its turn.
 */
function touches(keys: Set<string>, key: string): boolean {
  const lock = lockOfWaitKey(key);
  return keys.has(key) || (lock !== undefined && keys.has(lockWaitKey(lock)));
}

function touchedKeys(command: Command, outcome: WriteOutcome): Set<string> {
  if (outcome.type === "ok") return new Set([outcome.entry.key]);
  // A lock's waiters wait on its lockWaitKey; an ending lease deletes keys and frees locks.
  if (outcome.type === "leaseEnded")
    return new Set([...outcome.deletedKeys, ...outcome.releasedLocks.map(lockWaitKey)]);
  if (outcome.type === "lockRelease" && outcome.released)
    return new Set([lockWaitKey(outcome.state.lock)]);
  if (outcome.type === "namespaceWrite") return new Set(outcome.changes.map((ch) => ch.key));
  // A cross-shard txn's commit here (or a decision's that resolved here in the same entry):
  // its results name the keys it wrote.
  const resolved = outcome.type === "txnDecision" ? outcome.resolved : outcome;
  if (resolved?.type === "txnResolved")
    return new Set(
      resolved.results.flatMap((r) =>
        r.type === "put"
          ? [r.entry.key]
          : r.type === "delete" && r.deleted !== null
            ? [r.deleted.key]
            : [],
      ),
    );
  if ((command.type !== "txn" && command.type !== "shardTxn") || outcome.type !== "txn")
    return new Set();
  const branch = outcome.succeeded ? command.success : command.failure;
  return new Set(branch.filter((op) => op.type !== "get").map((op) => op.key));
}
