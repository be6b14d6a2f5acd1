// The transaction record of a cross-shard txn (txn-prepare.ts has the participants' side): the
// durable decision, kept by one shard (the record namespace's), so the commit point is one Raft
// entry. Whoever meets an old intent resolves it from here. This file is the three-round
// protocol's record (txnRecordDecide, txnRecordForget), kept for the entries already in logs;
// the router now runs parallel commits (txn-staged.ts), whose STAGING records share the map.
//
// Design decision: the first decision wins, and time decides who may make it. The coordinator may
// decide commit only before the deadline (a commit applied at or after it records abort), and
// recovery may decide abort only at or after it; both judged on this shard's store clock, which
// only moves forward. So a coordinator that is merely slow loses to recovery cleanly, and once a
// record is forgotten (every participant resolved, then the deadline passed) no late message can
// record a different decision for intents that still exist: none exist, and none can be prepared
// after the deadline (txn-prepare.ts). From the deadline on, an absent record means abort (no
// commit can be recorded any more), so recovery's abort then records nothing, and abort records
// are dropped at the deadline: only a commit whose participants are not all resolved is kept.
import type { StoreState, TxnRecordState } from "./state.ts";
import { applyTxnResolve, checkTxnHeader } from "./txn-prepare.ts";
import type * as t from "./types.ts";
import { invalid } from "./validate.ts";

export function applyTxnRecordDecide(
  state: StoreState,
  c: t.TxnRecordDecideCommand,
): t.WriteOutcome {
  const outcome = decide(state, c);
  if (c.resolveHere !== true || outcome.type !== "txnDecision") return outcome;
  return resolveAsDecided(state, c, outcome);
}

/** The record shard's own part resolved as the record decided, in the deciding entry. */
export function resolveAsDecided(
  state: StoreState,
  c: { atMs: number; txnId: string; deadlineMs: number },
  outcome: t.TxnDecisionOutcome,
): t.WriteOutcome {
  if (outcome.decision === "undecided") return outcome;
  const resolved = applyTxnResolve(state, {
    type: "txnResolve",
    atMs: c.atMs,
    txnId: c.txnId,
    decision: outcome.decision,
    ...(outcome.branch === undefined ? {} : { branch: outcome.branch }),
    deadlineMs: c.deadlineMs,
  });
  if (resolved.type !== "txnResolved") return resolved;
  return { ...outcome, revision: state.revision, resolved };
}

function decide(state: StoreState, c: t.TxnRecordDecideCommand): t.WriteOutcome {
  pruneRecords(state);
  const bad = checkTxnHeader(state, c);
  if (bad !== null) return bad;
  if (c.decision === "commit" && c.branch === undefined)
    return invalid(state, "txn", "a commit decision names the branch that runs");
  const found = state.txnRecords.get(c.txnId);
  // A parallel commit's record is settled by txnRecordSettle only (txn-staged.ts).
  if (found?.decision === "staging") return implicit(state, c.txnId, "undecided");
  if (found !== undefined) return decision(state, found, false);
  // From the deadline on no commit can be recorded any more, so no record means abort: nothing
  // is kept for it (a late or repeated message cannot leave a record behind).
  if (state.clockMs >= c.deadlineMs) return implicit(state, c.txnId, "abort");
  if (c.decision === "abort" && c.by === "recovery") return implicit(state, c.txnId, "undecided");
  const record: TxnRecordState = {
    txnId: c.txnId,
    decision: c.decision,
    branch: c.decision === "commit" ? c.branch : undefined,
    deadlineMs: c.deadlineMs,
    done: false,
    recordNamespace: c.recordNamespace,
    participants: [...c.participants],
  };
  state.txnRecords.set(c.txnId, record);
  return decision(state, record, true);
}

/** Marks the record done; it is dropped once the store clock reaches its deadline. */
export function applyTxnRecordForget(
  state: StoreState,
  c: t.TxnRecordForgetCommand,
): t.WriteOutcome {
  pruneRecords(state);
  const found = state.txnRecords.get(c.txnId);
  if (found === undefined || found.decision === "staging")
    return { type: "notFound", revision: state.revision };
  found.done = true;
  pruneRecords(state);
  return decision(state, found, false);
}

/** A decision no record holds: abort past the deadline, undecided before it. */
export function implicit(
  state: StoreState,
  txnId: string,
  decision: "abort" | "undecided",
): t.TxnDecisionOutcome {
  return { type: "txnDecision", revision: state.revision, txnId, decision, first: false };
}

/** The outcome of a record: a STAGING one is not decided yet. */
export function decision(
  state: StoreState,
  r: TxnRecordState,
  first: boolean,
): t.TxnDecisionOutcome {
  return {
    type: "txnDecision",
    revision: state.revision,
    txnId: r.txnId,
    decision: r.decision === "staging" ? "undecided" : r.decision,
    ...(r.branch === undefined ? {} : { branch: r.branch }),
    first,
  };
}

/** The decision in force for `txnId`, or null when there is no record (none yet, or forgotten). */
export function txnRecord(state: StoreState, txnId: string): TxnRecordState | null {
  return state.txnRecords.get(txnId) ?? null;
}

/**
 * Records go once the clock reaches their deadline: past it an abort record says what its
 * absence says; a commit record stays until every participant has resolved (done). The walk
 * stops at the first record still before its deadline (records are made in about deadline
 * order, as tombstones are: pruneResolved), so a settle costs the records due, not every record
 * in flight: the full walk was ~2 % of a 2-shard commit's server CPU at 64 clients (profiled,
 * ~1,000 records live). A record behind a later deadline waits for it: memory, never meaning
 * (kept or gone, a settle and a probe answer the same decision). The order is the Map's, which
 * snapshots keep (snapshot-txn.ts), so every replica prunes the same records.
 */
export function pruneRecords(state: StoreState): void {
  for (const [id, r] of state.txnRecords) {
    if (r.deadlineMs > state.clockMs) return;
    if (r.done || r.decision === "abort") state.txnRecords.delete(id);
  }
}
