// Intents of cross-shard txns (txn-prepare.ts) as the other writes meet them. An intent holds a
// key from a txn's prepare until its resolve: no other write may change the key (nor read one
// the txn writes, since its outcome is not known yet), so whatever the txn compared and read
// still holds when it commits. That is what makes cross-shard txns serializable; a write that
// meets an intent changes nothing and gets an `intent` outcome (the API answers 409, or 503
// with Retry-After, or resolves the txn from its record once the deadline has passed).
import type { PreparedTxn, StoreState } from "./state.ts";
import type { IntentOutcome, Key } from "./types.ts";

/**
 * The first intent that blocks a command reading `reads` and writing `writes`: any intent on a
 * written key, a write intent on a read one. O(1) when the shard holds no intent (the hot path).
 */
export function blockingIntent(
  state: StoreState,
  reads: readonly Key[],
  writes: readonly Key[],
): IntentOutcome | null {
  if (state.intents.size === 0) return null;
  for (const key of writes) {
    const outcome = intentOutcome(state, key, false);
    if (outcome !== null) return outcome;
  }
  for (const key of reads) {
    const outcome = intentOutcome(state, key, true);
    if (outcome !== null) return outcome;
  }
  return null;
}

/** The intent on `key` (only a write intent when `writesOnly`), as an outcome; null if none. */
export function intentOutcome(
  state: StoreState,
  key: Key,
  writesOnly: boolean,
  exceptTxn?: string,
): IntentOutcome | null {
  const intent = state.intents.get(key);
  if (intent === undefined || intent.txnId === exceptTxn) return null;
  if (writesOnly && !intent.write) return null;
  const p = state.prepared.get(intent.txnId)!;
  return {
    type: "intent",
    revision: state.revision,
    intent: {
      key,
      txnId: p.txnId,
      write: intent.write,
      deadlineMs: p.deadlineMs,
      recordNamespace: p.recordNamespace,
      participants: [...p.participants],
    },
  };
}

/** Keys a prepared part holds, each once, with whether the txn may write it. */
export function intentKeys(p: Pick<PreparedTxn, "compare" | "success" | "failure">) {
  const keys = new Map<Key, boolean>();
  for (const x of [...p.compare, ...p.success, ...p.failure]) {
    const write = "type" in x && (x.type === "put" || x.type === "delete");
    keys.set(x.key, (keys.get(x.key) ?? false) || write);
  }
  return keys;
}

export function addIntents(state: StoreState, p: PreparedTxn): void {
  state.prepared.set(p.txnId, p);
  for (const [key, write] of intentKeys(p)) state.intents.set(key, { txnId: p.txnId, write });
}

export function dropIntents(state: StoreState, p: PreparedTxn): void {
  state.prepared.delete(p.txnId);
  for (const key of intentKeys(p).keys()) state.intents.delete(key);
}

/** Intents are exactly the keys of the prepared parts, no key held by two, none resolved. */
export function assertIntents(state: StoreState, check: (ok: boolean, what: string) => void): void {
  let held = 0;
  for (const [id, p] of state.prepared) {
    check(p.txnId === id && !state.resolved.has(id), `prepared txn ${id} filed wrongly`);
    for (const [key, write] of intentKeys(p)) {
      const intent = state.intents.get(key);
      check(intent?.txnId === id && intent.write === write, `intent on ${key} of txn ${id}`);
      held += 1;
    }
  }
  check(held === state.intents.size, "intents out of step with prepared txns");
}
