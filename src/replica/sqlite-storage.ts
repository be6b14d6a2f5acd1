// The Raft log on a Durable Object's SQLite database (`ctx.storage.sql`), behind the core's
// synchronous LogStorage interface. The caller wraps the writes of one Ready in one
// `ctx.storage.transactionSync`, so a crash never leaves half a Ready on disk.
//
// Why chunks: one SQLite value on Durable Objects is limited to ~2 MB, and a snapshot holds a whole
// shard (up to 64 MiB), so snapshots (and the rare oversized entry) are split into rows of
// ≤ rowBytesMax.
import { assert } from "../base/index.ts";
import {
  CompactedError,
  BeyondLastIndexError,
  type InitialState,
  type LogStorage,
} from "../raft/index.ts";
import {
  emptyHardState,
  type ConfState,
  type Entry,
  type EntryType,
  type HardState,
  type Snapshot,
  type SnapshotMetadata,
} from "../raft/index.ts";

export const sqliteStorageLimits = {
  /** Bytes of one stored value (a snapshot chunk or an entry part); the platform allows ~2 MB. */
  rowBytesMax: 1024 * 1024,
} as const;

/** How much of the newest log is also kept in memory (see `SqliteLogStorage`'s tail). */
export interface LogTailLimits {
  entriesMax: number;
  bytesMax: number;
}

export const logTailDefaults: LogTailLimits = {
  /** Far more than one round of appends, acks and applies reaches back under load. */
  entriesMax: 1_024,
  bytesMax: 8 * 1024 * 1024,
};

const schema = [
  `CREATE TABLE IF NOT EXISTS raft_entry (
     idx INTEGER PRIMARY KEY, term INTEGER NOT NULL, type INTEGER NOT NULL,
     parts INTEGER NOT NULL, bytes INTEGER NOT NULL, data BLOB NOT NULL)`,
  // Parts 1.. of entries larger than rowBytesMax (part 0 is raft_entry.data).
  `CREATE TABLE IF NOT EXISTS raft_entry_part (
     idx INTEGER NOT NULL, part INTEGER NOT NULL, data BLOB NOT NULL, PRIMARY KEY (idx, part))`,
  `CREATE TABLE IF NOT EXISTS raft_hard_state (
     id INTEGER PRIMARY KEY CHECK (id = 0), term INTEGER NOT NULL, vote TEXT NOT NULL,
     commit_index INTEGER NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS raft_snapshot_meta (
     id INTEGER PRIMARY KEY CHECK (id = 0), idx INTEGER NOT NULL, term INTEGER NOT NULL,
     conf TEXT NOT NULL, bytes INTEGER NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS raft_snapshot_chunk (seq INTEGER PRIMARY KEY, data BLOB NOT NULL)`,
  // Read leases: until when this member promised the leader not to vote (src/raft/lease.ts).
  `CREATE TABLE IF NOT EXISTS raft_vote_promise (id INTEGER PRIMARY KEY CHECK (id = 0), until_ms REAL NOT NULL)`,
];

const entryTypeCode: Record<EntryType, number> = { normal: 0, conf: 1 };
const entryTypeOf = ["normal", "conf"] as const;

type EntryRow = {
  idx: number;
  term: number;
  type: number;
  parts: number;
  bytes: number;
  data: ArrayBuffer;
};

export class SqliteLogStorage implements LogStorage {
  // Cached: every Raft step consults these, and only this class writes the tables.
  #first = 1;
  #last = 0;
  #hardState: HardState = emptyHardState;
  #snapMeta: SnapshotMetadata = { index: 0, term: 0, conf: { voters: [], learners: [] } };
  /** The assembled snapshot, read lazily: a leader sends it chunk by chunk to a lagging peer. */
  #snapshotCache: Snapshot | null = null;
  /**
   * Where each term starts among the entries after the snapshot, ascending. Terms never decrease
   * along a Raft log, so a handful of runs answers term(i), which the core asks on every append,
   * ack and read round, without a query.
   */
  #termStarts: { index: number; term: number }[] = [];
  /**
   * The newest entries, also in memory: a replica reads back what it appended moments ago (to
   * apply it once committed, or to send it to a peer), and reading it from SQLite cost ~40 µs of a
   * replicated write's CPU (profiled). Always exactly the last `#tail.length` rows of raft_entry.
   */
  #tail: Entry[] = [];
  #tailBytes = 0;

  constructor(
    private readonly sql: SqlStorage,
    private readonly tailLimits: LogTailLimits = logTailDefaults,
  ) {
    for (const statement of schema) sql.exec(statement);
    this.reload();
  }

  /** Re-reads the cached values; call after a transaction that threw (it was rolled back). */
  reload(): void {
    this.#snapshotCache = null;
    this.#dropTail();
    const hs = this.sql
      .exec<{ term: number; vote: string; commit_index: number }>(
        "SELECT term, vote, commit_index FROM raft_hard_state WHERE id = 0",
      )
      .toArray()[0];
    this.#hardState = hs
      ? { term: hs.term, vote: hs.vote, commit: hs.commit_index }
      : emptyHardState;
    const sm = this.sql
      .exec<{ idx: number; term: number; conf: string }>(
        "SELECT idx, term, conf FROM raft_snapshot_meta WHERE id = 0",
      )
      .toArray()[0];
    this.#snapMeta = sm
      ? { index: sm.idx, term: sm.term, conf: JSON.parse(sm.conf) as ConfState }
      : { index: 0, term: 0, conf: { voters: [], learners: [] } };
    this.#first = this.#snapMeta.index + 1;
    const last = this.sql
      .exec<{ m: number | null }>("SELECT max(idx) AS m FROM raft_entry")
      .one().m;
    this.#last = last ?? this.#snapMeta.index;
    assert(this.#last >= this.#snapMeta.index, "the log ends before the snapshot");
    this.#loadTermStarts();
  }

  #loadTermStarts(): void {
    this.#termStarts = this.sql
      .exec<{ idx: number; term: number }>(
        "SELECT min(idx) AS idx, term FROM raft_entry GROUP BY term ORDER BY idx",
      )
      .toArray()
      .map((r) => ({ index: r.idx, term: r.term }));
    this.#termStarts.forEach((run, i) =>
      assert(
        i === 0 || run.term > this.#termStarts[i - 1]!.term,
        `terms decrease along the log at ${run.index}`,
      ),
    );
  }

  initialState(): InitialState {
    return { hardState: { ...this.#hardState }, confState: cloneConf(this.#snapMeta.conf) };
  }

  firstIndex(): number {
    return this.#first;
  }

  lastIndex(): number {
    return this.#last;
  }

  term(index: number): number {
    if (index === this.#snapMeta.index) return this.#snapMeta.term;
    if (index < this.#snapMeta.index) throw new CompactedError(index, this.#first);
    if (index > this.#last) throw new BeyondLastIndexError(index, this.#last);
    // The last run starting at or before `index`.
    const runs = this.#termStarts;
    let lo = 0;
    let hi = runs.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (runs[mid]!.index <= index) lo = mid;
      else hi = mid - 1;
    }
    const run = runs[lo];
    assert(
      run !== undefined && run.index <= index,
      `entry ${index} is missing between ${this.#first} and ${this.#last}`,
    );
    return run.term;
  }

  entries(lo: number, hi: number, bytesMax: number): Entry[] {
    if (lo < this.#first) throw new CompactedError(lo, this.#first);
    if (hi > this.#last + 1) throw new BeyondLastIndexError(hi - 1, this.#last);
    const out: Entry[] = [];
    let bytes = 0;
    const tailStart = this.#tail[0]?.index;
    if (tailStart !== undefined && lo >= tailStart) {
      for (let i = lo - tailStart; i < this.#tail.length; i++) {
        const e = this.#tail[i]!;
        if (e.index >= hi || (out.length > 0 && bytes + e.data.byteLength > bytesMax)) break;
        bytes += e.data.byteLength;
        out.push(e);
      }
      return out;
    }
    // Iterate the cursor lazily: a byte limit usually stops long before `hi`.
    const cursor = this.sql.exec<EntryRow>(
      "SELECT idx, term, type, parts, bytes, data FROM raft_entry WHERE idx >= ? AND idx < ? ORDER BY idx",
      lo,
      hi,
    );
    for (const row of cursor) {
      if (out.length > 0 && bytes + row.bytes > bytesMax) break;
      bytes += row.bytes;
      out.push(this.#entryOf(row));
    }
    assert(out.length > 0 || lo >= hi, `entries [${lo}, ${hi}) are missing`);
    assert(out[0] === undefined || out[0].index === lo, `entry ${lo} is missing`);
    return out;
  }

  snapshot(): Snapshot {
    if (this.#snapshotCache === null) {
      const chunks = this.sql
        .exec<{ data: ArrayBuffer }>("SELECT data FROM raft_snapshot_chunk ORDER BY seq")
        .toArray()
        .map((r) => new Uint8Array(r.data));
      this.#snapshotCache = { metadata: cloneMeta(this.#snapMeta), data: concat(chunks) };
    }
    return this.#snapshotCache;
  }

  append(entries: Entry[]): void {
    const firstNew = entries[0];
    if (firstNew === undefined) return;
    assert(
      firstNew.index <= this.#last + 1,
      `append at ${firstNew.index} leaves a gap after ${this.#last}`,
    );
    entries.forEach((e, i) =>
      assert(e.index === firstNew.index + i, "appended entries are not contiguous"),
    );
    // Entries already folded into the snapshot are not rewritten.
    const kept = entries.filter((e) => e.index >= this.#first);
    const first = kept[0];
    if (first === undefined) return;
    if (first.index <= this.#last) this.#truncateFrom(first.index);
    const runs = this.#termStarts;
    while (runs.length > 0 && runs[runs.length - 1]!.index >= first.index) runs.pop();
    for (const e of kept) {
      this.#insert(e);
      const lastRun = runs[runs.length - 1];
      if (lastRun?.term === e.term) continue;
      assert(
        lastRun === undefined || e.term > lastRun.term,
        `entry ${e.index} has term ${e.term}, older than the entry before it`,
      );
      runs.push({ index: e.index, term: e.term });
    }
    this.#last = first.index + kept.length - 1;
    this.#appendTail(kept);
  }

  /** After `kept` replaced the table's entries from its first index on. */
  #appendTail(kept: Entry[]): void {
    const from = kept[0]!.index;
    const tailStart = this.#tail[0]?.index;
    if (tailStart !== undefined) {
      if (from <= tailStart) this.#dropTail();
      else this.#trimTail(from - tailStart);
    }
    assert(
      this.#tail.length === 0 || this.#tail[this.#tail.length - 1]!.index === from - 1,
      "the log tail has a gap",
    );
    for (const e of kept) {
      this.#tail.push(e);
      this.#tailBytes += e.data.byteLength;
    }
    // Over a limit: the oldest quarter goes (the table still has it). In quarters, not one by
    // one, so that the array is shifted once per many appends rather than on every one.
    const { entriesMax, bytesMax } = this.tailLimits;
    if (this.#tail.length <= entriesMax && this.#tailBytes <= bytesMax) return;
    let drop = 0;
    let bytes = this.#tailBytes;
    while (
      drop < this.#tail.length &&
      (this.#tail.length - drop > (entriesMax * 3) / 4 || bytes > (bytesMax * 3) / 4)
    ) {
      bytes -= this.#tail[drop]!.data.byteLength;
      drop++;
    }
    this.#removeFromTail(0, drop);
  }

  /** Keeps the first `length` entries of the tail. */
  #trimTail(length: number): void {
    this.#removeFromTail(length, this.#tail.length - length);
  }

  #removeFromTail(start: number, count: number): void {
    for (const e of this.#tail.splice(start, count)) this.#tailBytes -= e.data.byteLength;
  }

  #dropTail(): void {
    this.#tail = [];
    this.#tailBytes = 0;
  }

  /** Read leases: the persisted end of this member's vote promise (none: -Infinity). */
  votePromiseUntilMs(): number {
    const row = this.sql
      .exec<{ until_ms: number }>("SELECT until_ms FROM raft_vote_promise WHERE id = 0")
      .toArray()[0];
    return row?.until_ms ?? Number.NEGATIVE_INFINITY;
  }

  setVotePromiseUntilMs(untilMs: number): void {
    this.sql.exec("INSERT OR REPLACE INTO raft_vote_promise (id, until_ms) VALUES (0, ?)", untilMs);
  }

  setHardState(hardState: HardState): void {
    this.sql.exec(
      "INSERT OR REPLACE INTO raft_hard_state (id, term, vote, commit_index) VALUES (0, ?, ?, ?)",
      hardState.term,
      hardState.vote,
      hardState.commit,
    );
    this.#hardState = { ...hardState };
  }

  applySnapshot(snapshot: Snapshot): void {
    const index = snapshot.metadata.index;
    assert(
      index >= this.#snapMeta.index,
      `applySnapshot: ${index} is older than the snapshot at ${this.#snapMeta.index}`,
    );
    this.sql.exec("DELETE FROM raft_entry");
    this.sql.exec("DELETE FROM raft_entry_part");
    this.#writeSnapshot(snapshot);
    this.#last = snapshot.metadata.index;
    this.#termStarts = [];
    this.#dropTail();
  }

  compact(snapshot: Snapshot): void {
    const index = snapshot.metadata.index;
    assert(
      index >= this.#snapMeta.index,
      `compact: ${index} is older than the snapshot at ${this.#snapMeta.index}`,
    );
    assert(index <= this.#last, `compact: ${index} is beyond the last index ${this.#last}`);
    assert(
      this.term(index) === snapshot.metadata.term,
      `compact: the snapshot's term does not match the log at ${index}`,
    );
    this.sql.exec("DELETE FROM raft_entry WHERE idx <= ?", index);
    this.sql.exec("DELETE FROM raft_entry_part WHERE idx <= ?", index);
    this.#writeSnapshot(snapshot);
    this.#loadTermStarts();
    const kept = this.#tail.findIndex((e) => e.index > index);
    this.#removeFromTail(0, kept < 0 ? this.#tail.length : kept);
  }

  #writeSnapshot(snapshot: Snapshot): void {
    const { metadata, data } = snapshot;
    this.sql.exec("DELETE FROM raft_snapshot_chunk");
    split(data).forEach((chunk, seq) =>
      this.sql.exec("INSERT INTO raft_snapshot_chunk (seq, data) VALUES (?, ?)", seq, chunk),
    );
    this.sql.exec(
      "INSERT OR REPLACE INTO raft_snapshot_meta (id, idx, term, conf, bytes) VALUES (0, ?, ?, ?, ?)",
      metadata.index,
      metadata.term,
      JSON.stringify(metadata.conf),
      data.byteLength,
    );
    this.#snapMeta = cloneMeta(metadata);
    this.#first = metadata.index + 1;
    // Keep the bytes the caller handed over: the leader may ship this snapshot next.
    this.#snapshotCache = { metadata: cloneMeta(metadata), data };
  }

  #truncateFrom(index: number): void {
    this.sql.exec("DELETE FROM raft_entry WHERE idx >= ?", index);
    this.sql.exec("DELETE FROM raft_entry_part WHERE idx >= ?", index);
  }

  #insert(e: Entry): void {
    const parts = split(e.data);
    this.sql.exec(
      "INSERT INTO raft_entry (idx, term, type, parts, bytes, data) VALUES (?, ?, ?, ?, ?, ?)",
      e.index,
      e.term,
      entryTypeCode[e.type],
      parts.length,
      e.data.byteLength,
      parts[0] ?? new Uint8Array(0),
    );
    for (let p = 1; p < parts.length; p++) {
      this.sql.exec(
        "INSERT INTO raft_entry_part (idx, part, data) VALUES (?, ?, ?)",
        e.index,
        p,
        parts[p],
      );
    }
  }

  #entryOf(row: EntryRow): Entry {
    const type = entryTypeOf[row.type];
    assert(type !== undefined, `entry ${row.idx} has unknown type code ${row.type}`);
    let data: Uint8Array = new Uint8Array(row.data);
    if (row.parts > 1) {
      const rest = this.sql
        .exec<{ data: ArrayBuffer }>(
          "SELECT data FROM raft_entry_part WHERE idx = ? ORDER BY part",
          row.idx,
        )
        .toArray()
        .map((r) => new Uint8Array(r.data));
      assert(rest.length === row.parts - 1, `entry ${row.idx} is missing parts`);
      data = concat([data, ...rest]);
    }
    assert(
      data.byteLength === row.bytes,
      `entry ${row.idx} has ${data.byteLength} bytes, expected ${row.bytes}`,
    );
    return { term: row.term, index: row.idx, type, data };
  }
}

function split(data: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let at = 0; at < data.byteLength; at += sqliteStorageLimits.rowBytesMax) {
    out.push(data.subarray(at, at + sqliteStorageLimits.rowBytesMax));
  }
  return out;
}

function concat(chunks: Uint8Array[]): Uint8Array {
  if (chunks.length === 1 && chunks[0] !== undefined) return chunks[0];
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

function cloneConf(conf: ConfState): ConfState {
  return { voters: [...conf.voters], learners: [...conf.learners] };
}

function cloneMeta(m: SnapshotMetadata): SnapshotMetadata {
  return { index: m.index, term: m.term, conf: cloneConf(m.conf) };
}
