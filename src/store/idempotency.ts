// Exactly-once writes: the first outcome of a command with an Idempotency-Key is recorded, and a
// retry (same key, same request) gets that outcome back, marked deduplicated, without applying.
// Records are bounded in count and in the value bytes they hold (oldest evicted first), and in
// age; age is judged by the store clock (the max atMs applied so far), never a wall clock, so
// every replica evicts the same records.
import { fnv1a64Hex } from "../base/index.ts";
import { assert } from "./assert.ts";
import { encodeCommand } from "./codec.ts";
import { storeLimits } from "./limits.ts";
import type { IdempotencyRecord, StoreState } from "./state.ts";
import type { Command, TxnOpResult, WriteOutcome } from "./types.ts";
import { invalid } from "./validate.ts";

export function expireIdempotencyRecords(state: StoreState): void {
  const oldestKeptMs = state.clockMs - state.options.idempotencyRecordAgeMsMax;
  for (
    let oldest = state.idempotencyOrder.peek();
    oldest !== undefined;
    oldest = state.idempotencyOrder.peek()
  ) {
    if (oldest.recordedAtMs >= oldestKeptMs) break; // recordedAtMs never decreases along the queue
    evictOldest(state);
  }
}

/** The replayed outcome, an `invalid` outcome for a reused or bad key, or null to apply. */
export function lookupIdempotency(
  state: StoreState,
  command: Command,
  fingerprint: string,
): WriteOutcome | null {
  const key = command.idempotencyKey;
  if (key === undefined) return null;
  if (key.length === 0 || key.length > storeLimits.idempotencyKeyBytesMax) {
    return invalid(
      state,
      "idempotencyKey",
      `Idempotency-Key must be 1 to ${storeLimits.idempotencyKeyBytesMax} characters`,
    );
  }
  const record = state.idempotency.get(key);
  if (record === undefined) return null;
  if (record.fingerprint !== fingerprint) return keyReused(state, key);
  // A cross-shard attempt that aborted wrote nothing: this request runs (txn-keyed.ts).
  if (record.outcome.type === "txnKeyed" && record.outcome.state === "aborted") return null;
  return { ...record.outcome, deduplicated: true };
}

export function keyReused(state: StoreState, key: string): WriteOutcome {
  return invalid(
    state,
    "idempotencyKeyReused",
    `Idempotency-Key ${JSON.stringify(key)} was already used for a different request; use a new key per request`,
  );
}

/**
 * Remembers the outcome of a command with an idempotency key. `invalid` and `tooLarge` outcomes
 * changed nothing and may succeed once the client fixes the request or frees space, so a retry
 * applies again rather than replaying them. The newest record is never evicted by the bounds.
 */
export function recordIdempotency(
  state: StoreState,
  command: Command,
  fingerprint: string,
  outcome: WriteOutcome,
): void {
  const key = command.idempotencyKey;
  if (key === undefined || !recorded(outcome)) return;
  rememberOutcome(state, key, fingerprint, outcome);
}

/**
 * Records `outcome` under `key`, or puts it in place of a cross-shard attempt that aborted
 * (txn-keyed.ts: lookupIdempotency let the request run), then evicts the oldest over the bounds.
 */
export function rememberOutcome(
  state: StoreState,
  key: string,
  fingerprint: string,
  outcome: WriteOutcome,
): void {
  const found = state.idempotency.get(key);
  if (found !== undefined) {
    assert(
      found.outcome.type === "txnKeyed" && found.outcome.state === "aborted",
      `idempotency key ${key} recorded twice`,
    );
    return replaceOutcome(state, found, outcome);
  }
  const record = {
    idempotencyKey: key,
    recordedAtMs: state.clockMs,
    fingerprint,
    outcome,
    valueBytes: outcomeValueBytes(outcome),
  };
  addIdempotencyRecord(state, record);
  evictOverBounds(state, record);
}

/** A record's outcome changed in place (a cross-shard txn's key record); its age is kept. */
export function replaceOutcome(
  state: StoreState,
  record: IdempotencyRecord,
  outcome: WriteOutcome,
): void {
  state.idempotencyValueBytes -= record.valueBytes;
  record.outcome = outcome;
  record.valueBytes = outcomeValueBytes(outcome);
  state.idempotencyValueBytes += record.valueBytes;
  evictOverBounds(state, record);
}

/** Evicts the oldest records over the bounds, never `kept`. */
function evictOverBounds(state: StoreState, kept: IdempotencyRecord): void {
  const o = state.options;
  while (state.idempotencyOrder.peek() !== kept) {
    const over =
      state.idempotency.size > o.idempotencyRecordsMax ||
      state.idempotencyValueBytes > o.idempotencyValueBytesMax;
    if (!over) break;
    evictOldest(state);
  }
}

/** Evicts the oldest records while the bounds are exceeded (after a move brought some in). */
export function boundIdempotencyRecords(state: StoreState): void {
  const o = state.options;
  while (
    state.idempotency.size > o.idempotencyRecordsMax ||
    state.idempotencyValueBytes > o.idempotencyValueBytesMax
  )
    evictOldest(state);
}

/** A refusal a fixed request (or a changed schema, or freed space) may turn into a success. */
function recorded(outcome: WriteOutcome): boolean {
  return (
    outcome.type !== "invalid" &&
    outcome.type !== "tooLarge" &&
    outcome.type !== "schemaViolation" &&
    outcome.type !== "intent"
  );
}

export function addIdempotencyRecord(state: StoreState, record: IdempotencyRecord): void {
  assert(
    !state.idempotency.has(record.idempotencyKey),
    `idempotency key ${record.idempotencyKey} recorded twice`,
  );
  state.idempotency.set(record.idempotencyKey, record);
  state.idempotencyOrder.push(record);
  state.idempotencyValueBytes += record.valueBytes;
}

/** Records leave only from the front of the queue, so the map and the queue hold the same set. */
function evictOldest(state: StoreState): void {
  const record = state.idempotencyOrder.shift();
  assert(
    record !== undefined && state.idempotency.get(record.idempotencyKey) === record,
    "idempotency queue out of step",
  );
  state.idempotency.delete(record.idempotencyKey);
  state.idempotencyValueBytes -= record.valueBytes;
}

/**
 * A namespace write's outcome lists every key it changed (up to applyEntriesMax): count its keys
 * and entry metadata (about 64 bytes each) against the same budget, so records stay bounded.
 */
const changeBytes = 64;

export function outcomeValueBytes(outcome: WriteOutcome): number {
  if (outcome.type === "namespaceWrite")
    return outcome.changes.reduce((sum, ch) => sum + ch.key.length + changeBytes, 0);
  if (outcome.type === "txnKeyed")
    return (outcome.answer?.parts ?? []).reduce((sum, p) => sum + resultsBytes(p.results), 0);
  if (outcome.type !== "txn") return 0;
  return resultsBytes(outcome.results);
}

function resultsBytes(results: TxnOpResult[]): number {
  return results.reduce(
    (sum, r) => sum + (r.type === "get" && r.value !== null ? r.value.length : 0),
    0,
  );
}

/**
 * Identifies the request behind an idempotency key: the command without its time, its key and
 * its audit (a retry is a new HTTP request, with a new request id, of the same write).
 * Computed once per command: it hashes the whole value (up to valueBytesMax).
 */
export function requestFingerprint(command: Command): string {
  // Neither the leader's schema verdict nor the audit is part of the request: a retry may be
  // vouched differently, and comes with its own request id.
  const {
    idempotencyKey: _key,
    schemasVouched: _v,
    audit: _audit,
    ...rest
  } = command as Command & {
    schemasVouched?: number;
  };
  return fnv1a64Hex(encodeCommand({ ...rest, atMs: 0 } as Command));
}

const answeredByTxnId = new Set<Command["type"]>([
  "txnPrepare",
  "txnRecordSettle",
  "txnResolve",
  "txnProbe",
  "txnForget",
]);

/**
 * True for the commands that a repeat cannot apply twice, whatever came between: those of
 * parallel commits, each answered by its txn id (txn-prepare.ts, txn-staged.ts): a prepare again
 * answers prepared, or refuses once its txn is resolved or its deadline passed; a settle is a
 * compare-and-set that gives the first decision back; a resolve again reads its tombstone; a
 * probe and a forget change nothing the second time. The txn simulator (test/sim/txn) delivers
 * every one of them twice, up to 12.5 s apart, with no key. So the router gives them no key of
 * its own: a record per command would cost a fingerprint (the command encoded again and hashed)
 * and a lookup on every replica, four records per 2-shard commit that push the callers' own keys
 * out of the shard's bounded table, and their bytes in every snapshot.
 */
export function repeatSafe(command: Command): boolean {
  return answeredByTxnId.has(command.type);
}
