// Recovery of parallel commits (src/store/txn-staged.ts) and the rounds the coordinator shares
// with it (txn-coordinator.ts): whoever meets an intent past its deadline finishes its txn, so a
// coordinator that vanished never blocks a key for longer than the deadline.
//
// Design decision: recovery learns the outcome, it never guesses it. It probes every participant
// in parallel with an entry stamped now (at or after the deadline), which moves each one's store
// clock past the deadline first, so what a probe finds cannot change any more: a part that is
// absent can never be prepared. Then the record decides: settled (commit or abort) is final; no
// record past the deadline is an abort (nothing can stage it any more; a commit forgotten after
// every participant resolved leaves the record shard's tombstone, which says commit); STAGING is
// settled by a compare-and-set, commit when every part is prepared (or already committed, its
// pinned tombstone names the branch), abort when one is absent. The first decision wins, so
// recovery racing the coordinator's own settle gets the coordinator's commit back, and the
// coordinator only settles commit once every prepare answered prepared: no recovery can abort
// that txn (its parts stay prepared until resolved), so an implicit commit is never undone.
import type { TxnBranch, TxnIntent, TxnOpResult, TxnProbedOutcome } from "../store/index.ts";
import { forgetWithAnswer } from "./txn-keyed.ts";
import type { Router } from "./types.ts";

export interface CoordinatorIo {
  nowMs(): number;
  newTxnId(): string;
  /** Lets work finish after the answer (a Worker's waitUntil); absent: it is awaited. */
  defer?(work: Promise<unknown>): void;
}

/** A cross-shard txn as its prepares named it: enough to probe, settle and resolve it. */
export interface TxnRef {
  txnId: string;
  deadlineMs: number;
  /** One namespace per participant shard; the record's shard first. */
  participants: string[];
  recordNamespace: string;
}

export interface Settled {
  decision: "commit" | "abort";
  branch?: TxnBranch;
}

/** The record's compare-and-set (the record's own part resolved in the same entry). */
export function settleCommand(
  t: TxnRef,
  s: Settled,
  by: "coordinator" | "recovery",
  io: CoordinatorIo,
) {
  return {
    type: "txnRecordSettle" as const,
    atMs: io.nowMs(),
    txnId: t.txnId,
    decision: s.decision,
    ...(s.branch === undefined ? {} : { branch: s.branch }),
    deadlineMs: t.deadlineMs,
    by,
    recordNamespace: t.recordNamespace,
    participants: t.participants,
  };
}

/** Resolves each of `namespaces` as settled: each shard's results and commit revision. */
export function resolveAll(
  router: Router,
  t: TxnRef,
  s: Settled,
  namespaces: string[],
  io: CoordinatorIo,
): Promise<{ results: TxnOpResult[]; revision: number }[]> {
  return Promise.all(
    namespaces.map(async (namespace) => {
      const w = await router.write(namespace, {
        type: "txnResolve",
        atMs: io.nowMs(),
        txnId: t.txnId,
        decision: s.decision,
        ...(s.branch === undefined ? {} : { branch: s.branch }),
        deadlineMs: t.deadlineMs,
      });
      const o = w.outcome;
      if (o.type !== "txnResolved") throw new Error(`txnResolve answered ${o.type}`);
      return { results: o.results, revision: o.committedRevision };
    }),
  );
}

/**
 * Every participant has resolved and the record is settled: each shard unpins its tombstone and
 * marks the record done. Off the answer's path when the request can outlive its response
 * (waitUntil): what a lost forget leaves costs only memory until recovery forgets it.
 */
export async function forgetAll(router: Router, t: TxnRef, io: CoordinatorIo): Promise<void> {
  const forget = Promise.all(
    t.participants.map((namespace) =>
      router.write(namespace, { type: "txnForget", atMs: io.nowMs(), txnId: t.txnId }),
    ),
  );
  if (io.defer === undefined) await forget;
  else io.defer(forget.catch(() => undefined));
}

/**
 * Whoever meets an intent past its deadline finishes its txn: probe every participant, take the
 * record's decision or settle it, resolve every participant, forget. False when the deadline
 * has not passed or a participant did not answer (the caller retries later).
 */
export async function recoverIntent(
  router: Router,
  intent: TxnIntent,
  io: CoordinatorIo,
): Promise<boolean> {
  if (io.nowMs() < intent.deadlineMs) return false;
  const t: TxnRef = intent;
  const atMs = io.nowMs();
  const probes = await Promise.all(
    t.participants.map(async (namespace) => {
      const w = await router.write(namespace, {
        type: "txnProbe",
        atMs,
        txnId: t.txnId,
        deadlineMs: t.deadlineMs,
      });
      return w.outcome;
    }),
  );
  if (!probes.every((p): p is TxnProbedOutcome => p.type === "txnProbed")) return false;
  const settled = await decideFrom(router, t, probes, io);
  if (settled === null) return false;
  if (settled === "resolved") return true;
  const resolved = await resolveAll(router, t, settled, t.participants, io);
  const namespaces = probes.map((p) => p.namespaces);
  if (settled.decision === "abort" || namespaces.some((n) => n === undefined))
    await forgetAll(router, t, io);
  else {
    // A keyed txn's retry replays this answer (src/store/txn-keyed.ts); unkeyed, it is ignored.
    const parts = resolved.map((r, i) => ({ namespaces: namespaces[i]!, ...r }));
    const now = { nowMs: io.nowMs, newTxnId: io.newTxnId };
    const rest = (n: string[]) => forgetAll(router, { ...t, participants: n }, now);
    const work = forgetWithAnswer(router, t, { parts }, io, rest);
    if (io.defer === undefined) await work;
    else io.defer(work.catch(() => undefined));
  }
  return true;
}

/**
 * The record's decision, settled from the probes while it is STAGING; null: not known yet;
 * "resolved": committed and forgotten, so resolved everywhere (nothing is left to do).
 */
async function decideFrom(
  router: Router,
  t: TxnRef,
  probes: TxnProbedOutcome[],
  io: CoordinatorIo,
): Promise<Settled | "resolved" | null> {
  const here = probes[t.participants.indexOf(t.recordNamespace)]!;
  const r = here.record;
  if (r !== undefined && r.decision !== "staging") return settledOf({ ...r, decision: r.decision });
  const committed = probes.find((p) => p.branch !== undefined)?.branch;
  if (r === undefined) return absentRecord(here, committed, probes);
  const missing = probes.filter((p) => p.part === "absent" || p.part === "aborted");
  if (missing.some((p) => !p.final)) return null;
  const held = probes.every((p) => p.held !== false);
  const want: Settled =
    missing.length === 0
      ? { decision: "commit", branch: committed ?? (held ? "success" : "failure") }
      : { decision: "abort" };
  const w = await router.write(t.recordNamespace, settleCommand(t, want, "recovery", io));
  const o = w.outcome;
  if (o.type !== "txnDecision" || o.decision === "undecided") return null;
  // Settled, resolved and forgotten since the probes (the unpinned tombstone names no branch).
  if (o.decision === "commit" && o.branch === undefined) return "resolved";
  return settledOf({
    decision: o.decision,
    ...(o.branch === undefined ? {} : { branch: o.branch }),
  });
}

/**
 * No record: forgotten after a commit every participant resolved (the record shard's tombstone
 * says commit), or never staged and, past the deadline, never to be: abort. A commit whose
 * tombstones are unpinned was forgotten, so resolved everywhere: nothing to do. Resolving it as
 * aborted (as before) left an abort tombstone where a participant's had gone meanwhile, which a
 * late settle then read back: a client told aborted of a committed txn (the txn simulator,
 * keyed sweep, seed 2421).
 */
function absentRecord(
  here: TxnProbedOutcome,
  committed: TxnBranch | undefined,
  probes: TxnProbedOutcome[],
): Settled | "resolved" | null {
  if (here.part !== "committed") return here.final ? { decision: "abort" } : null;
  if (committed !== undefined) return { decision: "commit", branch: committed };
  return probes.some((p) => p.part === "prepared") ? null : "resolved";
}

function settledOf(r: { decision: "commit" | "abort"; branch?: TxnBranch }): Settled {
  return { decision: r.decision, ...(r.branch === undefined ? {} : { branch: r.branch }) };
}
