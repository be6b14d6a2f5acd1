// The cross-shard txn state in snapshots (snapshot.ts): prepared parts (their intents are
// derived and rebuilt), resolve tombstones and transaction records, the last two in the order
// they were made, since that order is state (pruning walks it). Absent while all three are
// empty, so a shard that never took part in a cross-shard txn has the bytes it had before.
import { addIntents } from "./intents.ts";
import type { PreparedTxn, ResolvedTxn, StoreState, TxnRecordState } from "./state.ts";
import type { CommandAudit, TxnBranch, TxnCompare, TxnOp, TxnOpResult } from "./types.ts";

/**
 * [txnId, compare, success, failure, recordNamespace, participants, deadlineMs, held, audit?,
 * staged?]: the last only for a parallel commit's part (older snapshots have no such rows).
 */
type PreparedRow =
  | [string, TxnCompare[], TxnOp[], TxnOp[], string, string[], number, boolean, CommandAudit | null]
  | [
      string,
      TxnCompare[],
      TxnOp[],
      TxnOp[],
      string,
      string[],
      number,
      boolean,
      CommandAudit | null,
      true,
    ];
/** [branch, recordNamespace, participants, namespaces] of a pinned tombstone. */
type PinRow = [TxnBranch, string, string[], string[]];
/** [txnId, decision, committedRevision, results, deadlineMs, pin?] */
type ResolvedRow =
  | [string, "commit" | "abort", number, TxnOpResult[], number]
  | [string, "commit" | "abort", number, TxnOpResult[], number, PinRow];
/** [txnId, decision, branch, deadlineMs, done, recordNamespace, participants, idempotencyKey?] */
type RecordRow =
  | [string, "commit" | "abort" | "staging", TxnBranch | null, number, boolean, string, string[]]
  | [
      string,
      "commit" | "abort" | "staging",
      TxnBranch | null,
      number,
      boolean,
      string,
      string[],
      string,
    ];

export interface TxnsBody {
  prepared: PreparedRow[];
  resolved: ResolvedRow[];
  records: RecordRow[];
}

export function txnsBody(state: StoreState): TxnsBody | undefined {
  if (state.prepared.size + state.resolved.size + state.txnRecords.size === 0) return undefined;
  const sorted = [...state.prepared.values()].sort((a, b) =>
    a.txnId < b.txnId ? -1 : a.txnId > b.txnId ? 1 : 0,
  );
  const prepared = sorted
    .map(
      (p): PreparedRow => [
        p.txnId,
        p.compare,
        p.success,
        p.failure,
        p.recordNamespace,
        p.participants,
        p.deadlineMs,
        p.held,
        p.audit ?? null,
      ],
    )
    .map((row, i) => (sorted[i]!.staged === true ? ([...row, true] as PreparedRow) : row));
  return {
    prepared,
    resolved: [...state.resolved.values()].map(
      (r): ResolvedRow =>
        r.pin === undefined
          ? [r.txnId, r.decision, r.committedRevision, r.results, r.deadlineMs]
          : [
              r.txnId,
              r.decision,
              r.committedRevision,
              r.results,
              r.deadlineMs,
              [r.pin.branch, r.pin.recordNamespace, r.pin.participants, r.pin.namespaces],
            ],
    ),
    records: [...state.txnRecords.values()].map((r): RecordRow => {
      const row: RecordRow = [
        r.txnId,
        r.decision,
        r.branch ?? null,
        r.deadlineMs,
        r.done,
        r.recordNamespace,
        r.participants,
      ];
      return r.idempotencyKey === undefined ? row : [...row, r.idempotencyKey];
    }),
  };
}

export function restoreTxns(state: StoreState, body: TxnsBody | undefined): void {
  if (body === undefined) return;
  for (const [
    txnId,
    compare,
    success,
    failure,
    recordNamespace,
    participants,
    deadlineMs,
    held,
    audit,
    staged,
  ] of body.prepared) {
    const p: PreparedTxn = {
      txnId,
      compare,
      success,
      failure,
      recordNamespace,
      participants,
      deadlineMs,
      held,
      audit: audit ?? undefined,
      ...(staged === true ? { staged } : {}),
    };
    addIntents(state, p);
  }
  for (const [txnId, decision, committedRevision, results, deadlineMs, pinned] of body.resolved) {
    const r: ResolvedTxn = { txnId, decision, committedRevision, results, deadlineMs };
    if (pinned !== undefined) {
      const [branch, recordNamespace, participants, namespaces] = pinned;
      r.pin = { branch, recordNamespace, participants, namespaces };
    }
    state.resolved.set(txnId, r);
  }
  for (const [
    txnId,
    decision,
    branch,
    deadlineMs,
    done,
    recordNamespace,
    participants,
    idempotencyKey,
  ] of body.records) {
    const r: TxnRecordState = {
      txnId,
      decision,
      branch: branch ?? undefined,
      deadlineMs,
      done,
      recordNamespace,
      participants,
      ...(idempotencyKey === undefined ? {} : { idempotencyKey }),
    };
    state.txnRecords.set(txnId, r);
  }
}
