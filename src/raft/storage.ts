// The durable log as the core sees it. The core reads from it; the caller writes to it while it
// handles a Ready (in one atomic transaction). All calls are synchronous: Durable Object SQLite
// storage is, and a synchronous interface keeps the core free of awaits.
import type { ConfState, Entry, HardState, Snapshot } from "./types.ts";

export interface InitialState {
  hardState: HardState;
  /** Membership as of the latest snapshot (the core replays conf entries after it). */
  confState: ConfState;
}

/** Thrown when a read asks for an index before `firstIndex()`: the caller needs the snapshot. */
export class CompactedError extends Error {
  constructor(index: number, firstIndex: number) {
    super(`log index ${index} is compacted; the log starts at ${firstIndex}`);
    this.name = "CompactedError";
  }
}

/** Thrown when a read asks for an index after `lastIndex()` (not logged yet, or never). */
export class BeyondLastIndexError extends Error {
  constructor(index: number, lastIndex: number) {
    super(`log index ${index} is not yet available; the log ends at ${lastIndex}`);
    this.name = "BeyondLastIndexError";
  }
}

export interface LogStorage {
  initialState(): InitialState;
  /**
   * Entries in [lo, hi), at least one if lo < hi, then stopping before the total data bytes would
   * exceed `bytesMax`. Throws CompactedError if lo < firstIndex(), BeyondLastIndexError if
   * hi > lastIndex() + 1.
   */
  entries(lo: number, hi: number, bytesMax: number): Entry[];
  /**
   * Term of the entry at `index`. Valid for firstIndex()-1 (the snapshot's index) through
   * lastIndex(); throws CompactedError / BeyondLastIndexError outside that range.
   */
  term(index: number): number;
  /** Index of the first entry still in the log (snapshot index + 1). */
  firstIndex(): number;
  /** Index of the last entry (the snapshot index when the log is empty). */
  lastIndex(): number;
  /** The most recent snapshot (index 0 and empty data when none exists). */
  snapshot(): Snapshot;

  // Writes, performed by the caller while handling a Ready.

  /**
   * Appends entries whose first index is at most lastIndex() + 1, first dropping any existing
   * entries at or after that index (they conflict with the leader's log).
   */
  append(entries: Entry[]): void;
  setHardState(hardState: HardState): void;
  /** Replaces the whole log with `snapshot`: entries up to its index are gone. */
  applySnapshot(snapshot: Snapshot): void;
  /**
   * Records `snapshot` (taken by the application at an applied index ≤ lastIndex()) and drops
   * the entries up to its index. Keeps the entries after it.
   */
  compact(snapshot: Snapshot): void;
}
