// Parallel commits (CockroachDB, "Parallel Commits", SIGMOD 2020): a cross-shard txn in two Raft
// rounds. Round one prepares every participant in parallel, and the prepare of the record
// namespace's part also writes the transaction record as STAGING with the participant list
// (txn-prepare.ts `stageRecord`); once every prepare is durable the txn is implicitly
// committed. Round two resolves every participant in parallel, the record's shard by
// txnRecordSettle, which marks the record COMMITTED in the same entry; txnForget, off the
// answer's path, then lets the record and the pinned tombstones go (or rides on a later prepare
// to the same shard: txnPrepare `forgets`, so under load it costs no entry of its own).
//
// Design decision: one clock decides what a late message can do, each shard's own store clock
// (the greatest `atMs` applied there: replicated state, so a new leader has it too, and it never
// goes back, whatever the skew of the routers that stamp the entries). A prepare is applied only
// while that clock is before the deadline. Recovery (txnProbe, then txnRecordSettle) runs only
// at or after the deadline, and its probe is an entry stamped then: once applied, the clock of
// that participant has passed the deadline, so a part the probe found absent can never be
// prepared there any more; the clock is the tombstone that refuses it forever, and it cannot be
// pruned. So "every part prepared" is stable once probed: commit; "one absent" is stable: abort.
//
// What a probe reads must outlive every STAGING record that needs it. An intent does (it stays
// until resolved); a commit's tombstone is pinned (not pruned at the deadline, txn-prepare.ts)
// until txnForget, which is sent only once the record is settled; an abort needs no proof (an
// absent part reads as abort, and an abort is only resolved once the record says abort). The
// record shard's own part is prepared by the very entry that wrote STAGING. Late prepares: a
// tombstone (a settle's abort resolves the record shard's part too, prepared or not) or the clock
// past the deadline refuses them, so no intent or STAGING record comes back after an abort.
import type { StoreState, TxnRecordState } from "./state.ts";
import { checkTxnHeader, forgetTxn, pruneResolved, resolvedOutcome } from "./txn-prepare.ts";
import { decision, implicit, pruneRecords, resolveAsDecided } from "./txn-record.ts";
import { keyedAnswer, keyedSettled } from "./txn-keyed.ts";
import type * as t from "./types.ts";
import { invalid } from "./validate.ts";

export function applyTxnProbe(state: StoreState, c: t.TxnProbeCommand): t.WriteOutcome {
  const bad = checkTxnHeader(state, c);
  if (bad !== null) return bad;
  pruneResolved(state);
  pruneRecords(state);
  const p = state.prepared.get(c.txnId);
  const r = state.resolved.get(c.txnId);
  const record = state.txnRecords.get(c.txnId);
  const part: t.TxnProbedOutcome["part"] =
    p !== undefined
      ? "prepared"
      : r === undefined
        ? "absent"
        : r.decision === "commit"
          ? "committed"
          : "aborted";
  return {
    type: "txnProbed",
    revision: state.revision,
    txnId: c.txnId,
    part,
    ...(p === undefined ? {} : { held: p.held }),
    ...(r?.pin === undefined ? {} : { branch: r.pin.branch }),
    final: state.clockMs >= c.deadlineMs,
    ...(record === undefined ? {} : { record: recordOf(record) }),
    ...(r === undefined
      ? {}
      : { resolved: { committedRevision: r.committedRevision, results: r.results } }),
  };
}

function recordOf(r: TxnRecordState): NonNullable<t.TxnProbedOutcome["record"]> {
  return { decision: r.decision, ...(r.branch === undefined ? {} : { branch: r.branch }) };
}

export function applyTxnRecordSettle(
  state: StoreState,
  c: t.TxnRecordSettleCommand,
): t.WriteOutcome {
  const bad = checkTxnHeader(state, c);
  if (bad !== null) return bad;
  if (c.decision === "commit" && c.branch === undefined)
    return invalid(state, "txn", "a commit decision names the branch that runs");
  pruneRecords(state);
  // Recovery decides from probes that are final only from the deadline on.
  if (c.by === "recovery" && state.clockMs < c.deadlineMs)
    return implicit(state, c.txnId, "undecided");
  const done = state.resolved.get(c.txnId);
  if (done !== undefined && !state.txnRecords.has(c.txnId)) {
    // Forgotten after every participant resolved: this shard's tombstone says how it ended.
    const branch = done.pin === undefined ? {} : { branch: done.pin.branch };
    const resolved = resolvedOutcome(state, done);
    return {
      ...implicit(state, c.txnId, "undecided"),
      decision: done.decision,
      ...branch,
      resolved,
    };
  }
  return resolveAsDecided(state, c, settle(state, c));
}

/** The compare-and-set of the record: the first decision wins, a later one gets it back. */
function settle(state: StoreState, c: t.TxnRecordSettleCommand): t.TxnDecisionOutcome {
  const found = state.txnRecords.get(c.txnId);
  if (found !== undefined && found.decision !== "staging") return decision(state, found, false);
  if (found !== undefined) {
    found.decision = c.decision;
    found.branch = c.decision === "commit" ? c.branch : undefined;
    keyedSettled(state, found);
    return decision(state, found, true);
  }
  // No record and no tombstone. Before the deadline nothing was staged yet (a record and the
  // tombstones are kept until then): an abort is recorded, so that a staging prepare still on its
  // way is refused (txn-prepare.ts) and probes read abort. From the deadline on, a commit may
  // have been settled, resolved everywhere, forgotten and dropped: nothing can be decided here
  // (recovery decides an absent record from an intent it met, txn-recovery.ts). Nothing staged
  // cannot commit either.
  if (c.decision === "commit" || state.clockMs >= c.deadlineMs)
    return implicit(state, c.txnId, "undecided");
  const record: TxnRecordState = {
    txnId: c.txnId,
    decision: "abort",
    branch: undefined,
    deadlineMs: c.deadlineMs,
    done: false,
    recordNamespace: c.recordNamespace,
    participants: [...c.participants],
  };
  state.txnRecords.set(c.txnId, record);
  return decision(state, record, true);
}

/** Unpins the commit tombstone here and marks a settled record done; both go at the deadline. */
export function applyTxnForget(state: StoreState, c: t.TxnForgetCommand): t.WriteOutcome {
  keyedAnswer(state, c, state.txnRecords.get(c.txnId)?.idempotencyKey);
  forgetTxn(state, c.txnId);
  pruneResolved(state);
  pruneRecords(state);
  return { type: "txnForgotten", revision: state.revision, txnId: c.txnId };
}
