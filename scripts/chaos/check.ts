// The chaos run's history check. The store states an order: each write's revision (its answer,
// a read's ETag, a watch event), each read's revision (X-Edgecfg-Revision, or for a stale read
// X-Edgecfg-Applied-Revision). The check takes that order as the linearization to verify, as
// Elle does with version orders, so it is one pass over the history sorted by revision, not a
// search over orders (the Wing & Gong search of test/sim/linearizability.ts took minutes on a
// 20,000-operation key). A history that passes is linearizable: the check places every
// operation at a time inside its own interval, in revision order, and shows each read and each
// precondition saw the state that order gives. A stated order that fails is a violation even if
// some other order might explain the values: the revisions are part of the contract too.
//
// What it checks, beyond the log's own checks (check-log.ts):
//   - real time: writes in revision order, each linearizable read after the write of its
//     revision and before the next, each at a time within [invoke, complete] (an unknown
//     outcome may end at any time; one the log never shows did not happen);
//   - every read saw its key as of the revision it states (a stale read too: never older than
//     it says), a min-revision read states at least the token it sent, a stale read shows no
//     write that began after it ended;
//   - a CAS or txn that succeeded found the versions it compared; one that failed did not;
//   - the txn invariant: the accounts' balances sum to the same total at every revision and in
//     every snapshot;
//   - every watch delivered every change of its prefix once, in order, from where it resumed.
import { buildLog, describeOp, type Log } from "./check-log.ts";
import type { Recorded, Seen, WatchLog } from "./history.ts";

export interface Invariant {
  /** The account keys a transfer moves balance between. */
  accounts: string[];
  /** Their sum, which every transfer keeps. */
  total: number;
}

export interface Verdict {
  ok: boolean;
  violations: string[];
  /** Acknowledged writes the log contradicts or no covering watch delivered. */
  lostWrites: number;
  /** Reads whose key's state could not be told (no watch covered a revision in between). */
  unverified: number;
  operations: number;
  revisions: number;
}

const violationsShownMax = 50;

export function checkHistory(
  ops: readonly Recorded[],
  watches: readonly WatchLog[] = [],
  invariant?: Invariant,
): Verdict {
  const v: string[] = [];
  const log = buildLog(ops, watches, v);
  checkOrder(ops, log, v);
  const unverified = checkStates(ops, log, v);
  for (const w of watches) checkWatch(w, log, v);
  if (invariant) checkInvariant(ops, log, invariant, v);
  return {
    ok: v.length === 0,
    violations: v.slice(0, violationsShownMax),
    lostWrites: log.lost.size,
    unverified,
    operations: ops.length,
    revisions: log.changes.size,
  };
}

/** The revision a linearizable answer was served at, or null (stale reads, unknown outcomes). */
function readRevision(op: Recorded): number | null {
  if (op.output?.kind !== "read") return null;
  if (op.input.kind === "get" && op.input.mode !== "linearizable") return null;
  return op.output.revision;
}

/**
 * Real time against the stated order: each operation at the earliest time its interval and the
 * order allow (a write after every read of an earlier revision began); one that would have to
 * sit after its own return is a violation. Exact for a fixed order: greedy earliest placement.
 */
function checkOrder(ops: readonly Recorded[], log: Log, v: string[]) {
  const readsAt = new Map<number, number[]>();
  ops.forEach((op, i) => {
    const r = readRevision(op);
    if (r === null) return;
    const at = readsAt.get(r);
    if (at === undefined) readsAt.set(r, [i]);
    else at.push(i);
  });
  const revisions = [...new Set([...log.writer.keys(), ...readsAt.keys()])].sort((a, b) => a - b);
  let t = Number.NEGATIVE_INFINITY;
  let by = -1; // the operation that set t
  for (const r of revisions) {
    const w = log.writer.get(r);
    const reads = readsAt.get(r) ?? [];
    if (w !== undefined) {
      const op = ops[w]!;
      if (op.invokeMs > t) [t, by] = [op.invokeMs, w];
      if (op.completeMs !== null && t > op.completeMs)
        v.push(
          `revision ${r} was written by an operation that returned before one its revision ` +
            `order puts earlier began (a read of an older state after a newer write ended, ` +
            `or writes out of real-time order):\n  ${describeOp(ops, w)}\n` +
            `  began later: ${describeOp(ops, by)}`,
        );
    }
    let next = t;
    let nextBy = by;
    for (const i of reads) {
      const op = ops[i]!;
      const at = Math.max(t, op.invokeMs);
      if (at > op.completeMs!)
        v.push(
          `a read of revision ${r} returned before an operation its revision order puts ` +
            `earlier began (it read a state not yet written):\n  ${describeOp(ops, i)}\n` +
            `  began later: ${describeOp(ops, by)}`,
        );
      if (op.invokeMs > next) [next, nextBy] = [op.invokeMs, i];
    }
    [t, by] = [next, nextBy];
  }
}

type State = { revision: number; value: string | null } | null;

/** A key's last change at or before `revision`, from the log. */
function stateAt(log: Log, key: string, revision: number): State {
  const revs = log.revisionsOf.get(key) ?? [];
  let lo = 0;
  let hi = revs.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (revs[mid]! <= revision) [found, lo] = [mid, mid + 1];
    else hi = mid - 1;
  }
  if (found < 0) return null;
  const r = revs[found]!;
  return { revision: r, value: log.changes.get(r)!.get(key)!.value };
}

/** Whether every revision in (from, to] is known: nothing unseen can hide between. */
function allKnown(log: Log, from: number, to: number): boolean {
  for (let r = from + 1; r <= to; r++) if (!log.known(r)) return false;
  return true;
}

/**
 * Whether `seen` is its key's state at `revision`: "ok", "unverified" (an unknown revision lies
 * where a delete could hide), or the reason it is not.
 */
function matches(log: Log, seen: Seen, revision: number): string {
  if (seen.modRevision !== null && seen.modRevision > revision)
    return `it shows version r${seen.modRevision}, newer than its revision ${revision}`;
  const s = stateAt(log, seen.key, revision);
  const present = s !== null && s.value !== null;
  if (seen.modRevision === null) {
    if (!present) return "ok";
    return allKnown(log, s.revision, revision)
      ? `it shows ${seen.key} absent, but r${s.revision} wrote it`
      : "unverified";
  }
  if (s !== null && s.revision > seen.modRevision)
    return `it shows ${seen.key} at r${seen.modRevision}, but r${s.revision} changed it (a stale read)`;
  return "ok";
}

function checkStates(ops: readonly Recorded[], log: Log, v: string[]): number {
  let unverified = 0;
  const judge = (i: number, seen: Seen, revision: number, what: string) => {
    const m = matches(log, seen, revision);
    if (m === "unverified") unverified++;
    else if (m !== "ok") v.push(`${what} at revision ${revision}: ${m}\n  ${describeOp(ops, i)}`);
  };
  ops.forEach((op, i) => {
    const out = op.output;
    if (out?.kind === "read") {
      for (const seen of out.seen) judge(i, seen, out.revision, "a read");
      checkFailedPrecondition(ops, i, v);
      checkStale(ops, i, log, v);
    }
    if (out?.kind === "wrote" || (out === null && log.revisionOf.has(i))) {
      const r = out?.kind === "wrote" ? out.revision : log.revisionOf.get(i)!;
      const compared =
        op.input.kind === "cas"
          ? { [op.input.key]: op.input.ifMatch }
          : op.input.kind === "transfer"
            ? op.input.ifMatch
            : {};
      for (const [key, m] of Object.entries(compared))
        judge(i, { key, modRevision: m }, r - 1, "a precondition that held");
    }
  });
  return unverified;
}

/** A 412 or a txn's failure branch: what it saw must not be what it compared. */
function checkFailedPrecondition(ops: readonly Recorded[], i: number, v: string[]) {
  const op = ops[i]!;
  if (op.output?.kind !== "read") return;
  const seen = new Map(op.output.seen.map((s) => [s.key, s.modRevision]));
  const compared =
    op.input.kind === "cas"
      ? { [op.input.key]: op.input.ifMatch }
      : op.input.kind === "transfer"
        ? op.input.ifMatch
        : null;
  if (compared === null) return;
  if (Object.entries(compared).every(([key, m]) => seen.get(key) === m))
    v.push(
      `a precondition failed though every version it compared was current:\n  ${describeOp(ops, i)}`,
    );
}

/** A stale read: at least its min-revision, and nothing written after it ended. */
function checkStale(ops: readonly Recorded[], i: number, log: Log, v: string[]) {
  const op = ops[i]!;
  if (op.input.kind !== "get" || op.input.mode === "linearizable" || op.output?.kind !== "read")
    return;
  const { revision, seen } = op.output;
  if (op.input.mode === "min" && revision < op.input.minRevision!)
    v.push(
      `a min-revision read answered from revision ${revision}, older than the token it sent:\n  ${describeOp(ops, i)}`,
    );
  for (const r of [revision, ...seen.map((s) => s.modRevision ?? 0)]) {
    const w = log.writer.get(r);
    if (w !== undefined && ops[w]!.invokeMs > op.completeMs!)
      v.push(
        `a stale read shows revision ${r}, written after it ended:\n  ${describeOp(ops, i)}\n  ${describeOp(ops, w)}`,
      );
  }
}

/** Every change of the watch's prefix exactly once, in order, in every span a session covered. */
function checkWatch(w: WatchLog, log: Log, v: string[]) {
  const delivered = new Set<string>();
  let last = 0;
  for (const s of w.sessions) {
    for (const e of s.events) {
      const id = `${e.revision} ${e.key}`;
      if (delivered.has(id) || e.revision <= s.after)
        v.push(
          `watch ${w.watcher} delivered ${e.key} at revision ${e.revision} again (resumed after ${s.after})`,
        );
      else if (e.revision < last)
        v.push(`watch ${w.watcher} delivered revision ${e.revision} after revision ${last}`);
      delivered.add(id);
      last = Math.max(last, e.revision);
    }
  }
  for (const s of w.sessions)
    for (let r = s.after + 1; r <= s.lastId; r++)
      for (const c of log.changes.get(r)?.values() ?? [])
        if (c.key.startsWith(w.prefix) && !delivered.has(`${r} ${c.key}`))
          v.push(
            `watch ${w.watcher} missed revision ${r} of ${c.key} (${c.from}) in (${s.after}, ${s.lastId}]`,
          );
}

const balance = (value: string | null | undefined): number =>
  value === null || value === undefined ? 0 : (JSON.parse(value) as { b: number }).b;

/** The accounts' sum at every revision the log knows in full, and in every snapshot read. */
function checkInvariant(ops: readonly Recorded[], log: Log, inv: Invariant, v: string[]) {
  const balances = new Map<string, number>();
  const accounts = new Set(inv.accounts);
  let prev = 0;
  for (const r of [...log.changes.keys()].sort((a, b) => a - b)) {
    if (!allKnown(log, prev, r)) break; // an unseen revision: later sums cannot be told
    prev = r;
    const touched = [...log.changes.get(r)!.values()].filter((c) => accounts.has(c.key));
    for (const c of touched) balances.set(c.key, balance(c.value));
    const sum = [...balances.values()].reduce((a, b) => a + b, 0);
    if (touched.length > 0 && balances.size === accounts.size && sum !== inv.total)
      v.push(`the accounts sum to ${sum}, not ${inv.total}, after revision ${r}`);
  }
  ops.forEach((op, i) => {
    if (op.input.kind !== "readAll" || op.output?.kind !== "read") return;
    const sum = op.output.seen.reduce((a, s) => a + balance(s.value), 0);
    if (sum !== inv.total)
      v.push(
        `a snapshot of the accounts sums to ${sum}, not ${inv.total}:\n  ${describeOp(ops, i)}`,
      );
  });
}
