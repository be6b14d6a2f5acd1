// LogStorage in memory: the simulator's durable state and the reference implementation of the
// storage contract (test/raft/storage-contract.ts).
import { assert } from "./assert.ts";
import { limitBytes } from "./log.ts";
import {
  CompactedError,
  BeyondLastIndexError,
  type InitialState,
  type LogStorage,
} from "./storage.ts";
import { emptyHardState, type Entry, type HardState, type Snapshot } from "./types.ts";

function emptySnapshot(): Snapshot {
  return {
    metadata: { index: 0, term: 0, conf: { voters: [], learners: [] } },
    data: new Uint8Array(),
  };
}

export class MemoryStorage implements LogStorage {
  private hardState: HardState = { ...emptyHardState };
  private snap: Snapshot = emptySnapshot();
  /** Entries after the snapshot's index: ents[0] has index firstIndex(). */
  private ents: Entry[] = [];

  initialState(): InitialState {
    const conf = this.snap.metadata.conf;
    return {
      hardState: { ...this.hardState },
      confState: { voters: [...conf.voters], learners: [...conf.learners] },
    };
  }

  firstIndex(): number {
    return this.snap.metadata.index + 1;
  }

  lastIndex(): number {
    return this.snap.metadata.index + this.ents.length;
  }

  term(index: number): number {
    const snapIndex = this.snap.metadata.index;
    if (index < snapIndex) throw new CompactedError(index, this.firstIndex());
    if (index > this.lastIndex()) throw new BeyondLastIndexError(index, this.lastIndex());
    if (index === snapIndex) return this.snap.metadata.term;
    return this.ents[index - this.firstIndex()]!.term;
  }

  entries(lo: number, hi: number, bytesMax: number): Entry[] {
    if (lo < this.firstIndex()) throw new CompactedError(lo, this.firstIndex());
    if (hi > this.lastIndex() + 1) throw new BeyondLastIndexError(hi - 1, this.lastIndex());
    if (lo >= hi) return [];
    const first = this.firstIndex();
    return limitBytes(this.ents.slice(lo - first, hi - first), bytesMax);
  }

  snapshot(): Snapshot {
    return this.snap;
  }

  append(entries: Entry[]): void {
    const firstNew = entries[0];
    if (firstNew === undefined) return;
    assert(
      firstNew.index <= this.lastIndex() + 1,
      `append: gap between ${this.lastIndex()} and ${firstNew.index}`,
    );
    for (let i = 1; i < entries.length; i++)
      assert(entries[i]!.index === firstNew.index + i, "append: indexes not contiguous");
    // Entries already folded into the snapshot are not rewritten.
    const kept = entries.filter((e) => e.index >= this.firstIndex());
    const start = kept[0];
    if (start === undefined) return;
    this.ents = [...this.ents.slice(0, start.index - this.firstIndex()), ...kept];
  }

  setHardState(hardState: HardState): void {
    this.hardState = { ...hardState };
  }

  applySnapshot(snapshot: Snapshot): void {
    assert(
      snapshot.metadata.index >= this.snap.metadata.index,
      `applySnapshot: ${snapshot.metadata.index} is older than ${this.snap.metadata.index}`,
    );
    this.snap = snapshot;
    this.ents = [];
  }

  compact(snapshot: Snapshot): void {
    const index = snapshot.metadata.index;
    assert(
      index >= this.snap.metadata.index,
      `compact: ${index} is older than the snapshot at ${this.snap.metadata.index}`,
    );
    assert(
      index <= this.lastIndex(),
      `compact: ${index} is beyond the last index ${this.lastIndex()}`,
    );
    assert(
      this.term(index) === snapshot.metadata.term,
      `compact: the snapshot's term does not match the log at ${index}`,
    );
    this.ents = this.ents.slice(index - this.firstIndex() + 1);
    this.snap = snapshot;
  }
}
