// The leader's view of one follower (etcd's tracker.Progress): how far its log matches, what to
// send next, and in which mode — probing for the match point, replicating optimistically with a
// window of messages in flight, or installing a snapshot.
import { assert } from "./assert.ts";
import { Inflights } from "./inflights.ts";
import type { Snapshot } from "./types.ts";

export type ProgressState = "probe" | "replicate" | "snapshot";

/** A snapshot being streamed in chunks to this follower. */
export interface SnapshotSend {
  snapshot: Snapshot;
  /** Bytes the follower has confirmed; the next chunk starts here. */
  offset: number;
  /** A snapResp arrived since the last heartbeat round (else the chunk is resent). */
  acked: boolean;
  /** The next chunk waits for the tick: this tick's budget was spent (pacing.ts). */
  owed?: boolean;
}

export class Progress {
  match = 0;
  next: number;
  state: ProgressState = "probe";
  /** Probe mode: an `app` is in flight; wait for its answer (or a heartbeat) before the next. */
  probeSent = false;
  /** Snapshot mode: index of the snapshot being sent. */
  pendingSnapshot = 0;
  snapshotSend: SnapshotSend | undefined = undefined;
  /** Leader tick (ProgressTracker.ticks) when this member last answered; for CheckQuorum. */
  lastHeardTick = 0;
  /**
   * Entry and snapshot bytes this member may still be sent this tick: finite for a paced
   * learner (pacing.ts), infinite otherwise. At 0 or below, nothing more leaves until the tick.
   */
  budgetBytes = Number.POSITIVE_INFINITY;
  readonly inflights: Inflights;

  constructor(
    next: number,
    inflightMessagesMax: number,
    public isLearner: boolean,
  ) {
    this.next = next;
    this.inflights = new Inflights(inflightMessagesMax);
  }

  private resetState(state: ProgressState): void {
    this.state = state;
    this.probeSent = false;
    this.pendingSnapshot = 0;
    this.snapshotSend = undefined;
    this.inflights.reset();
  }

  becomeProbe(): void {
    // After a snapshot, the follower has at least the snapshot's entries.
    const next =
      this.state === "snapshot"
        ? Math.max(this.match + 1, this.pendingSnapshot + 1)
        : this.match + 1;
    this.resetState("probe");
    this.next = next;
  }

  becomeReplicate(): void {
    this.resetState("replicate");
    this.next = this.match + 1;
  }

  becomeSnapshot(snapshot: Snapshot): void {
    this.resetState("snapshot");
    this.pendingSnapshot = snapshot.metadata.index;
    this.snapshotSend = { snapshot, offset: 0, acked: true };
  }

  /** The follower acknowledged entries through `index`. Returns false for a stale ack. */
  maybeUpdate(index: number): boolean {
    let updated = false;
    if (this.match < index) {
      this.match = index;
      updated = true;
      this.probeSent = false;
    }
    this.next = Math.max(this.next, index + 1);
    return updated;
  }

  /**
   * The follower rejected an `app` whose previous index was `rejected`, hinting that its log may
   * match at `matchHint`. Returns false when the rejection is stale (out of order).
   */
  maybeDecrTo(rejected: number, matchHint: number): boolean {
    if (this.state === "replicate") {
      if (rejected <= this.match) return false;
      this.next = this.match + 1;
      return true;
    }
    if (this.next - 1 !== rejected) return false;
    this.next = Math.max(Math.min(rejected, matchHint + 1), this.match + 1);
    this.probeSent = false;
    return true;
  }

  isPaused(): boolean {
    switch (this.state) {
      case "probe":
        return this.probeSent;
      case "replicate":
        return this.inflights.full();
      case "snapshot":
        return true;
    }
  }

  /** Records an `app` carrying entries up to `lastIndex` (`count` entries, `bytes` of data). */
  sentEntries(lastIndex: number, count: number, bytes: number): void {
    if (this.state === "replicate") {
      if (count > 0) {
        assert(lastIndex >= this.next, "progress: sent entries behind next");
        this.next = lastIndex + 1;
        this.inflights.add(lastIndex, bytes);
      }
    } else if (this.state === "probe") {
      this.probeSent = true;
    } else {
      assert(false, "progress: sending entries in snapshot state");
    }
  }
}
