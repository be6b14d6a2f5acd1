// The cross-shard txn state in snapshots (snapshot.ts): prepared parts (their intents are
// derived and rebuilt), resolve tombstones and transaction records, the last two in the order
// they were made, since that order is state (pruning walks it). Absent while all three are
// empty, so a shard that never took part in a cross-shard txn has the bytes it had before.
import { addIntents } from "./intents.ts";
import type { PreparedTxn, ResolvedTxn, StoreState, TxnRecordState } from "./state.ts";
import type { CommandAudit, TxnBranch, TxnCompare, TxnOp, TxnOpResult } from "./types.ts";

/** [txnId, compare, success, failure, recordNamespace, participants, deadlineMs, held, audit?] */
type PreparedRow = [
  string,
  TxnCompare[],
  TxnOp[],
  TxnOp[],
  string,
  string[],
  number,
  boolean,
  CommandAudit | null,
];
/** [txnId, decision, committedRevision, results, deadlineMs] */
type ResolvedRow = [string, "commit" | "abort", number, TxnOpResult[], number];
/** [txnId, decision, branch, deadlineMs, done] */
type RecordRow = [string, "commit" | "abort", TxnBranch | null, number, boolean, string, string[]];

export interface TxnsBody {
  prepared: PreparedRow[];
  resolved: ResolvedRow[];
  records: RecordRow[];
}

export function txnsBody(state: StoreState): TxnsBody | undefined {
  if (state.prepared.size + state.resolved.size + state.txnRecords.size === 0) return undefined;
  const prepared = [...state.prepared.values()]
    .sort((a, b) => (a.txnId < b.txnId ? -1 : a.txnId > b.txnId ? 1 : 0))
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
    );
  return {
    prepared,
    resolved: [...state.resolved.values()].map(
      (r): ResolvedRow => [r.txnId, r.decision, r.committedRevision, r.results, r.deadlineMs],
    ),
    records: [...state.txnRecords.values()].map(
      (r): RecordRow => [
        r.txnId,
        r.decision,
        r.branch ?? null,
        r.deadlineMs,
        r.done,
        r.recordNamespace,
        r.participants,
      ],
    ),
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
    };
    addIntents(state, p);
  }
  for (const [txnId, decision, committedRevision, results, deadlineMs] of body.resolved) {
    const r: ResolvedTxn = { txnId, decision, committedRevision, results, deadlineMs };
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
  ] of body.records) {
    const r: TxnRecordState = {
      txnId,
      decision,
      branch: branch ?? undefined,
      deadlineMs,
      done,
      recordNamespace,
      participants,
    };
    state.txnRecords.set(txnId, r);
  }
}
