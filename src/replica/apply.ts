// The replica's applied state: the store fed with committed entries in log order, and the
// membership as of the same index (a snapshot must record both).
import { assert } from "../base/index.ts";
import {
  applyConfChange,
  decodeConfChange,
  type ConfChange,
  type ConfState,
  type Entry,
  type Snapshot,
} from "../raft/index.ts";
import { Store } from "../store/index.ts";
import type { WriteOutcome } from "../store/index.ts";
import { decodePayload } from "./payload.ts";

export type OnApplied = (proposalId: string, outcome: WriteOutcome) => void;

export class AppliedState {
  store: Store;
  /** Membership as of `index`. */
  conf: ConfState;
  /** Last index applied (a snapshot's index counts: its entries are in the store). */
  index: number;

  constructor(snapshot: Snapshot) {
    this.store = storeOf(snapshot);
    this.conf = copyConf(snapshot.metadata.conf);
    this.index = snapshot.metadata.index;
  }

  /** Replaces everything with a snapshot the leader sent. */
  restore(snapshot: Snapshot): void {
    this.store = storeOf(snapshot);
    this.conf = copyConf(snapshot.metadata.conf);
    this.index = snapshot.metadata.index;
  }

  /** Applies committed entries in order; the outcome of each command goes to `onApplied`. */
  apply(
    entries: readonly Entry[],
    onApplied: OnApplied,
    onConfChange?: (cc: ConfChange) => void,
  ): number {
    let applied = 0;
    for (const e of entries) {
      if (e.index <= this.index) continue; // already in the store (replayed after a snapshot)
      assert(
        e.index === this.index + 1,
        `entry ${e.index} applied after ${this.index}: the log has a gap`,
      );
      this.#applyOne(e, onApplied, onConfChange);
      this.index = e.index;
      applied++;
    }
    return applied;
  }

  /** The state as a Raft snapshot at `index`, whose entry has `term`. */
  snapshot(term: number): Snapshot {
    return {
      metadata: { index: this.index, term, conf: copyConf(this.conf) },
      data: this.store.snapshot(),
    };
  }

  #applyOne(e: Entry, onApplied: OnApplied, onConfChange?: (cc: ConfChange) => void): void {
    if (e.type === "conf") {
      const cc = decodeConfChange(e.data);
      this.conf = applyConfChange(this.conf, cc);
      onConfChange?.(cc);
      this.store.skip(e.index);
      return;
    }
    const payload = decodePayload(e.data);
    if (payload === null) {
      this.store.skip(e.index); // a new leader's no-op
      return;
    }
    onApplied(payload.proposalId, this.store.apply(e.index, payload.command));
  }
}

function storeOf(snapshot: Snapshot): Store {
  // Index 0 (or a bootstrap snapshot without data): nothing has been applied yet.
  if (snapshot.data.byteLength === 0) return new Store();
  const store = Store.restore(snapshot.data);
  assert(
    store.appliedIndex === snapshot.metadata.index,
    `snapshot at index ${snapshot.metadata.index} holds a store applied to ${store.appliedIndex}`,
  );
  return store;
}

function copyConf(conf: ConfState): ConfState {
  return { voters: [...conf.voters], learners: [...conf.learners] };
}
