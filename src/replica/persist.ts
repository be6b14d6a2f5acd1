// Step 1 of every Ready: make it durable in one synchronous SQLite transaction (no await inside),
// so the output gate holds every reply and message until the write is on disk.
import type { HardState, Ready, Snapshot } from "../raft/index.ts";
import type { SqliteLogStorage } from "./sqlite-storage.ts";
import type { ReplicaStats } from "./stats.ts";

export class ReadyPersister {
  /** The hard state on disk, and the newest one the core handed out (ahead only in commit). */
  #durable: HardState;
  #latest: HardState;

  constructor(
    private readonly storage: DurableObjectStorage,
    private readonly log: SqliteLogStorage,
    private readonly stats: ReplicaStats,
  ) {
    this.#durable = log.initialState().hardState;
    this.#latest = this.#durable;
  }

  /**
   * A Ready that only moves the commit index is not written on its own: the commit index is
   * volatile state in Raft (§5, Figure 2), recomputed from a quorum after a restart, so it rides
   * along with the next write. That keeps the leader at one transaction per round and lets its
   * answer to the client leave without waiting. Term and vote are never deferred: they must be
   * durable before any message that relies on them leaves.
   */
  persist(rd: Ready): void {
    if (rd.hardState !== undefined) this.#latest = pick(rd.hardState);
    const voteChanged =
      this.#latest.term !== this.#durable.term || this.#latest.vote !== this.#durable.vote;
    // A read-lease promise (src/raft/lease.ts) is written ahead, about once per refusal window.
    const promise = rd.votePromiseUntilMs;
    if (
      rd.snapshot === undefined &&
      rd.entries.length === 0 &&
      !voteChanged &&
      promise === undefined
    )
      return;
    this.#transaction(() => {
      if (rd.snapshot !== undefined) this.log.applySnapshot(rd.snapshot);
      if (rd.entries.length > 0) this.log.append(rd.entries);
      if (promise !== undefined) this.log.setVotePromiseUntilMs(promise);
    });
    this.stats.readies++;
  }

  /** Records a snapshot of the applied state and drops the log entries it covers. */
  compact(snapshot: Snapshot): void {
    this.#transaction(() => this.log.compact(snapshot));
    this.stats.snapshotsTaken++;
  }

  /** One transaction that also writes the newest hard state, if it is not yet durable. */
  #transaction(write: () => void): void {
    const hard = this.#latest;
    try {
      this.storage.transactionSync(() => {
        write();
        if (!same(hard, this.#durable)) this.log.setHardState(hard);
      });
    } catch (error) {
      // Rolled back: the core now believes more than the disk holds. Only a reload is safe.
      this.log.reload();
      throw error;
    }
    this.#durable = hard;
    this.stats.storageTransactions++;
  }
}

function pick(h: HardState): HardState {
  return { term: h.term, vote: h.vote, commit: h.commit };
}

function same(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commit === b.commit;
}
