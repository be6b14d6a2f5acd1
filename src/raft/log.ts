// The log as the core sees it: what the caller has persisted (LogStorage) followed by what it has
// not yet persisted (Unstable), plus the commit and applied indexes (etcd's raftLog).
import { assert } from "./assert.ts";
import { CompactedError, BeyondLastIndexError, type LogStorage } from "./storage.ts";
import type { Entry, Snapshot } from "./types.ts";
import { Unstable } from "./unstable.ts";

export function entryBytes(entries: readonly Entry[]): number {
  return entries.reduce((sum, e) => sum + e.data.byteLength, 0);
}

/** Keeps a prefix of `entries` (at least one) whose data fits in `bytesMax`. */
export function limitBytes(entries: Entry[], bytesMax: number): Entry[] {
  let bytes = 0;
  for (let i = 0; i < entries.length; i++) {
    bytes += entries[i]!.data.byteLength;
    if (i > 0 && bytes > bytesMax) return entries.slice(0, i);
  }
  return entries;
}

export class RaftLog {
  readonly unstable: Unstable;
  /** Highest index known to be committed. */
  committed: number;
  /** Highest index handed to the application (via Ready) and acknowledged by advance(). */
  applied: number;

  constructor(
    readonly storage: LogStorage,
    appliedIndex: number,
  ) {
    this.unstable = new Unstable(storage.lastIndex() + 1);
    const snapshotIndex = storage.firstIndex() - 1;
    this.committed = Math.max(snapshotIndex, storage.initialState().hardState.commit);
    this.applied = Math.max(snapshotIndex, Math.min(appliedIndex, this.committed));
  }

  firstIndex(): number {
    return this.unstable.maybeFirstIndex() ?? this.storage.firstIndex();
  }

  lastIndex(): number {
    return this.unstable.maybeLastIndex() ?? this.storage.lastIndex();
  }

  lastTerm(): number {
    const t = this.term(this.lastIndex());
    assert(t !== undefined, "log: term of the last index is unknown");
    return t;
  }

  /** Term of the entry at `index`, undefined when compacted or beyond the end. */
  term(index: number): number | undefined {
    if (index < this.firstIndex() - 1 || index > this.lastIndex()) return undefined;
    const t = this.unstable.maybeTerm(index);
    if (t !== undefined) return t;
    try {
      return this.storage.term(index);
    } catch (e) {
      if (e instanceof CompactedError || e instanceof BeyondLastIndexError) return undefined;
      throw e;
    }
  }

  matchTerm(index: number, term: number): boolean {
    return this.term(index) === term;
  }

  /** §5.4.1: a candidate's log is at least as up to date as ours. */
  isUpToDate(lastIndex: number, lastTerm: number): boolean {
    const ourTerm = this.lastTerm();
    return lastTerm > ourTerm || (lastTerm === ourTerm && lastIndex >= this.lastIndex());
  }

  /**
   * Entries in [lo, hi) limited to `bytesMax` (at least one). Throws CompactedError when lo is
   * before the first index: the caller must fall back to a snapshot.
   */
  entries(lo: number, hi: number, bytesMax: number): Entry[] {
    assert(lo <= hi && hi <= this.lastIndex() + 1, `log: bad range [${lo},${hi})`);
    if (lo < this.firstIndex()) throw new CompactedError(lo, this.firstIndex());
    if (lo === hi) return [];
    const offset = this.unstable.offset;
    let result: Entry[] = [];
    if (lo < offset) {
      result = this.storage.entries(lo, Math.min(hi, offset), bytesMax);
      const stored = lo + result.length;
      if (stored < Math.min(hi, offset)) return result; // hit the byte limit inside storage
    }
    if (hi > offset) result = result.concat(this.unstable.slice(Math.max(lo, offset), hi));
    return limitBytes(result, bytesMax);
  }

  /**
   * The follower's side of AppendEntries (§5.3): if our entry at `prevIndex` has `prevTerm`,
   * append `entries` (dropping conflicting ones). Returns the index of the last new entry and
   * the index from which entries were written (0 when all were already present); undefined
   * when the consistency check fails.
   */
  maybeAppend(
    prevIndex: number,
    prevTerm: number,
    entries: readonly Entry[],
  ): { lastNew: number; appendedFrom: number } | undefined {
    if (!this.matchTerm(prevIndex, prevTerm)) return undefined;
    const lastNew = prevIndex + entries.length;
    const conflict = this.findConflict(entries);
    if (conflict !== 0) {
      assert(
        conflict > this.committed,
        `log: conflict at ${conflict} is at or below commit ${this.committed}`,
      );
      this.append(entries.slice(conflict - (prevIndex + 1)));
    }
    return { lastNew, appendedFrom: conflict };
  }

  /** Appends entries that follow on (possibly truncating uncommitted ones); returns lastIndex. */
  append(entries: readonly Entry[]): number {
    const first = entries[0];
    if (first === undefined) return this.lastIndex();
    assert(
      first.index - 1 >= this.committed,
      `log: appending at ${first.index} would overwrite commit ${this.committed}`,
    );
    assert(first.index <= this.lastIndex() + 1, `log: gap before ${first.index}`);
    this.unstable.truncateAndAppend(entries);
    return this.lastIndex();
  }

  /** Index of the first entry of `entries` that is new or conflicts in term, 0 if none. */
  findConflict(entries: readonly Entry[]): number {
    for (const e of entries) if (!this.matchTerm(e.index, e.term)) return e.index;
    return 0;
  }

  /**
   * Fast backtracking (§5.3 optimisation): the largest index ≤ `index` whose term is ≤ `term`,
   * with that term (0 if unknown/compacted). Entries between it and `index` cannot match.
   */
  findConflictByTerm(index: number, term: number): { index: number; term: number } {
    for (let i = index; ; i--) {
      const t = this.term(i);
      if (t === undefined) return { index: i, term: 0 };
      if (t <= term) return { index: i, term: t };
    }
  }

  commitTo(index: number): void {
    if (index <= this.committed) return;
    assert(index <= this.lastIndex(), `log: commit ${index} beyond last index ${this.lastIndex()}`);
    this.committed = index;
  }

  /** Leader commit rule (§5.4.2): only an entry of the current term is committed by counting. */
  maybeCommit(index: number, term: number): boolean {
    if (index > this.committed && this.term(index) === term) {
      this.commitTo(index);
      return true;
    }
    return false;
  }

  appliedTo(index: number): void {
    if (index === 0) return;
    assert(
      index <= this.committed && index >= this.applied,
      `log: applied ${index} out of [${this.applied},${this.committed}]`,
    );
    this.applied = index;
  }

  hasPendingSnapshot(): boolean {
    return this.unstable.snapshot !== undefined;
  }

  /** Committed entries not yet applied, limited to `bytesMax`; none while a snapshot is pending. */
  nextCommittedEntries(bytesMax: number): Entry[] {
    if (this.hasPendingSnapshot() || this.applied >= this.committed) return [];
    const lo = Math.max(this.applied + 1, this.firstIndex());
    return this.entries(lo, this.committed + 1, bytesMax);
  }

  snapshot(): Snapshot {
    return this.unstable.snapshot ?? this.storage.snapshot();
  }

  restore(snapshot: Snapshot): void {
    this.committed = snapshot.metadata.index;
    this.unstable.restore(snapshot);
  }
}
