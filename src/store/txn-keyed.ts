// Idempotency-Key across shards (http-api.md "Writes are exactly-once"): the key record of a
// cross-shard txn, kept by the shard of its record namespace among its idempotency records
// (idempotency.ts: the same bounds, the same 24 h, moved with the namespace, snapshotted).
//
// Design decision: one shard decides whether a keyed request runs, the record namespace's, in
// the entry of its staging prepare, and every attempt is a txn of its own (a fresh txn id).
// The key record names the attempt that holds the key and follows its record: STAGING while it
// is in flight (a retry meets its intent and waits, or recovers it), committed or aborted in the
// entry that settles the record (txn-staged.ts), so there is no moment at which a second attempt
// can prepare here while the first may still commit. An aborted attempt wrote nothing, so the
// next one runs. A committed one is answered to every retry, deduplicated; its answer (every
// part's results) arrives with the coordinator's forget, which is sent before the other
// participants' forgets unpin their tombstones. Before that (or if that forget is lost) a retry
// assembles the answer from the tombstones' probes. Why not the txn id from the key, as before:
// tombstones go at the deadline and shard by shard, so a late retry found some parts "resolved"
// and prepared the others afresh, under the same id a recovery would then read as one txn.
import { assert } from "./assert.ts";
import { keyReused, rememberOutcome, replaceOutcome } from "./idempotency.ts";
import { intentKeys, intentOutcome } from "./intents.ts";
import type { StoreState, TxnRecordState } from "./state.ts";
import type * as t from "./types.ts";

/**
 * What the record namespace's staging prepare answers instead of preparing: a reused key, the
 * first outcome (deduplicated), or the intent of the attempt in flight. Null: prepare.
 */
export function keyedRefusal(state: StoreState, c: t.TxnPrepareCommand): t.WriteOutcome | null {
  if (c.idempotency === undefined) return null;
  const record = state.idempotency.get(c.idempotency.key);
  if (record === undefined) return null;
  if (record.fingerprint !== c.idempotency.fingerprint) return keyReused(state, c.idempotency.key);
  const o = record.outcome;
  if (o.type !== "txnKeyed") return { ...o, revision: state.revision, deduplicated: true };
  if (o.state === "aborted" || o.txnId === c.txnId) return null;
  if (o.state === "committed") return { ...o, revision: state.revision, deduplicated: true };
  const p = state.prepared.get(o.txnId);
  assert(p !== undefined, `key record of ${o.txnId}: STAGING without its prepare here`);
  const [key] = intentKeys(p).keys();
  const held = intentOutcome(state, key!, false);
  assert(held !== null, `key record of ${o.txnId}: no intent on ${key}`);
  return held;
}

/** The staging prepare of a keyed txn was applied: the key record names this attempt. */
export function keyedStarted(state: StoreState, c: t.TxnPrepareCommand): void {
  if (c.idempotency === undefined) return;
  const outcome: t.TxnKeyedOutcome = {
    type: "txnKeyed",
    revision: state.revision,
    txnId: c.txnId,
    state: "staging",
    recordNamespace: c.recordNamespace,
    participants: [...c.participants],
  };
  // keyedRefusal let it prepare: the key is free, or held by an attempt that aborted.
  rememberOutcome(state, c.idempotency.key, c.idempotency.fingerprint, outcome);
}

/** The key record of this attempt, while it holds the key (not evicted, not taken since). */
function keyRecordOf(state: StoreState, txnId: string, key: string | undefined) {
  if (key === undefined) return undefined;
  const record = state.idempotency.get(key);
  if (record?.outcome.type !== "txnKeyed" || record.outcome.txnId !== txnId) return undefined;
  return { record, outcome: record.outcome };
}

/** A keyed STAGING record was settled: its key record says how the attempt ended. */
export function keyedSettled(state: StoreState, r: TxnRecordState): void {
  const found = keyRecordOf(state, r.txnId, r.idempotencyKey);
  if (found === undefined || found.outcome.state !== "staging") return;
  const ended: t.TxnKeyedOutcome =
    r.decision === "commit"
      ? {
          ...found.outcome,
          state: "committed",
          ...(r.branch === undefined ? {} : { branch: r.branch }),
        }
      : { ...found.outcome, state: "aborted" };
  replaceOutcome(state, found.record, ended);
}

/** A keyed commit's forget brought its answer: kept for the retries (once, as first sent). */
export function keyedAnswer(state: StoreState, c: t.TxnForgetCommand, key: string | undefined) {
  if (c.answer === undefined) return;
  const found = keyRecordOf(state, c.txnId, key);
  if (found === undefined || found.outcome.state !== "committed") return;
  if (found.outcome.answer !== undefined) return;
  replaceOutcome(state, found.record, { ...found.outcome, answer: c.answer });
}
