// The change log the chaos checker reasons over: which change of which key each revision of the
// clients' shard made, gathered from every source that states one (an acknowledged write's
// answer, a read's ETag with its value, a watch event), and which operation made it. Two sources
// that disagree about one revision, a change no operation made, an operation applied at two
// revisions (an idempotent put applied twice), or a txn applied in part are violations here.
import type { Recorded, WatchLog } from "./history.ts";

/** One key's change at a revision: its new value, or null for a delete. */
export interface Change {
  key: string;
  value: string | null;
  /** Who said so, for a violation's message. */
  from: string;
}

export interface Log {
  /** revision -> key -> change. */
  changes: Map<number, Map<string, Change>>;
  /** key -> revisions that changed it, ascending. */
  revisionsOf: Map<string, number[]>;
  /** Revisions whose every change is known: a watch covered them, or a write's answer names them. */
  known: (revision: number) => boolean;
  /** The operation (index into ops) that made each revision's changes. */
  writer: Map<number, number>;
  /** Each writing operation's revision. */
  revisionOf: Map<number, number>;
  /** Acknowledged writes contradicted at their revision, or missed by every watch covering it. */
  lost: Set<number>;
  /** Revisions two sources disagree about. */
  conflicted: Set<number>;
}

export const describeOp = (ops: readonly Recorded[], i: number): string => {
  const op = ops[i]!;
  const when = `[${op.invokeMs.toFixed(0)}, ${op.completeMs === null ? "unknown" : op.completeMs.toFixed(0)}] ms`;
  return `client ${op.client} ${when} ${JSON.stringify(op.input)} -> ${JSON.stringify(op.output)}`;
};

const show = (v: string | null) => (v === null ? "deleted" : JSON.stringify(v));

/** The value each writing operation writes, so a change names the operation that made it. */
function writesOf(op: Recorded): [string, string][] {
  const i = op.input;
  if (i.kind === "put" || i.kind === "cas") return [[i.key, i.value]];
  if (i.kind === "transfer") return Object.entries(i.writes);
  return [];
}

export function buildLog(ops: readonly Recorded[], watches: readonly WatchLog[], v: string[]): Log {
  const changes = new Map<number, Map<string, Change>>();
  const conflicted = new Set<number>();
  const add = (revision: number, c: Change) => {
    let at = changes.get(revision);
    if (at === undefined) changes.set(revision, (at = new Map()));
    const had = at.get(c.key);
    if (had === undefined) at.set(c.key, c);
    else if (had.value !== c.value) {
      conflicted.add(revision);
      v.push(
        `revision ${revision} of ${c.key}: ${had.from} says ${show(had.value)}, ${c.from} says ${show(c.value)}`,
      );
    }
  };
  const acked = new Map<number, number>();
  ops.forEach((op, i) => {
    const out = op.output;
    if (out?.kind === "wrote") {
      acked.set(out.revision, i);
      if (op.input.kind === "delete")
        add(out.revision, { key: op.input.key, value: null, from: `the answer to op ${i}` });
      for (const [key, value] of writesOf(op))
        add(out.revision, { key, value, from: `the answer to op ${i}` });
    }
    if (out?.kind === "read")
      for (const s of out.seen)
        if (s.modRevision !== null && s.value !== undefined)
          add(s.modRevision, { key: s.key, value: s.value, from: `the read of op ${i}` });
  });
  for (const w of watches)
    for (const s of w.sessions)
      for (const e of s.events)
        add(e.revision, { key: e.key, value: e.value, from: `watch ${w.watcher}` });
  const covered = coverage(watches);
  const known = (r: number) => acked.has(r) || covered(r);
  const revisionsOf = new Map<string, number[]>();
  for (const r of [...changes.keys()].sort((a, b) => a - b))
    for (const key of changes.get(r)!.keys()) {
      let revs = revisionsOf.get(key);
      if (revs === undefined) revisionsOf.set(key, (revs = []));
      revs.push(r);
    }
  const log: Log = {
    changes,
    revisionsOf,
    known,
    writer: new Map(),
    revisionOf: new Map(),
    lost: new Set<number>(),
    conflicted,
  };
  assignWriters(ops, log, acked, v);
  findLost(watches, log, acked, covered);
  return log;
}

/** Whether a watch session covered a revision: it asked from before it and got an id at or past it. */
function coverage(watches: readonly WatchLog[]): (revision: number) => boolean {
  const spans = watches
    .flatMap((w) => w.sessions.map((s) => [s.after + 1, s.lastId] as const))
    .filter(([a, b]) => a <= b)
    .sort((x, y) => x[0] - y[0]);
  const merged: [number, number][] = [];
  for (const [a, b] of spans) {
    const last = merged.at(-1);
    if (last !== undefined && a <= last[1] + 1) last[1] = Math.max(last[1], b);
    else merged.push([a, b]);
  }
  return (r) => {
    let lo = 0;
    let hi = merged.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const [a, b] = merged[mid]!;
      if (r < a) hi = mid - 1;
      else if (r > b) lo = mid + 1;
      else return true;
    }
    return false;
  };
}

/**
 * Names the operation behind each revision: by the unique value it wrote, by the answer that
 * named the revision, and for a delete nobody acknowledged, the earliest-called delete of that
 * key whose outcome is unknown (all such deletes may end arbitrarily late, so earliest to earliest
 * is as good as any assignment).
 */
function assignWriters(
  ops: readonly Recorded[],
  log: Log,
  acked: Map<number, number>,
  v: string[],
) {
  const byValue = new Map<string, number>();
  ops.forEach((op, i) => {
    for (const [, value] of writesOf(op)) byValue.set(value, i);
  });
  const unknownDeletes = new Map<string, number[]>();
  ops.forEach((op, i) => {
    if (op.input.kind !== "delete" || op.output !== null) return;
    const list = unknownDeletes.get(op.input.key) ?? [];
    unknownDeletes.set(op.input.key, [...list, i]);
  });
  for (const list of unknownDeletes.values())
    list.sort((a, b) => ops[a]!.invokeMs - ops[b]!.invokeMs);
  for (const r of [...log.changes.keys()].sort((a, b) => a - b)) {
    const writers = new Set<number>();
    for (const c of log.changes.get(r)!.values()) {
      const w =
        c.value !== null
          ? byValue.get(c.value)
          : acked.has(r)
            ? acked.get(r)
            : unknownDeletes.get(c.key)?.shift();
      if (w === undefined)
        v.push(`revision ${r}: ${c.key} ${show(c.value)} (${c.from}), which no operation wrote`);
      else writers.add(w);
    }
    if (acked.has(r)) writers.add(acked.get(r)!);
    if (writers.size > 1)
      v.push(
        `revision ${r} holds the changes of ${writers.size} operations:\n  ${[...writers].map((w) => describeOp(ops, w)).join("\n  ")}`,
      );
    for (const w of writers) placeWriter(ops, log, r, w, v);
  }
}

function placeWriter(ops: readonly Recorded[], log: Log, r: number, w: number, v: string[]) {
  const before = log.revisionOf.get(w);
  if (before !== undefined && before !== r)
    v.push(`applied twice, at revisions ${before} and ${r}: ${describeOp(ops, w)}`);
  log.revisionOf.set(w, r);
  log.writer.set(r, w);
  const op = ops[w]!;
  if (op.output?.kind === "wrote" && op.output.revision !== r)
    v.push(`answered revision ${op.output.revision} but applied at ${r}: ${describeOp(ops, w)}`);
  if (op.input.kind === "transfer" && log.known(r))
    for (const key of Object.keys(op.input.writes))
      if (!log.changes.get(r)!.has(key))
        v.push(`a txn applied in part at revision ${r} (${key} unchanged): ${describeOp(ops, w)}`);
}

/**
 * Acknowledged writes contradicted at their revision (another operation's change is there), or
 * missing from every watch that covered the revision (the watch check names the watches).
 */
function findLost(
  watches: readonly WatchLog[],
  log: Log,
  acked: Map<number, number>,
  covered: (revision: number) => boolean,
) {
  const delivered = new Set<number>();
  for (const w of watches)
    for (const s of w.sessions) for (const e of s.events) delivered.add(e.revision);
  for (const [r, i] of acked) {
    const contradicted = log.writer.get(r) !== i || log.conflicted.has(r);
    if (contradicted || (covered(r) && !delivered.has(r))) log.lost.add(i);
  }
}
