// Catch-up pacing, as etcd and CockroachDB rate-limit snapshots (and raft's MaxInflight and
// MaxSizePerMsg bound a window): a learner gets at most `learnerBytesPerTick` of entries and
// snapshot chunks per tick, so catching one up is spread over ticks instead of taking every
// member's time at once (bench:replace: on one core, an unpaced catch-up stalled the clients for
// ~0.2 s). Only learners are paced: they count in no quorum, so holding one back delays no commit
// and no election; a promoted member is sent at full speed again. Safety does not depend on it:
// pacing only postpones messages, which Raft already tolerates being late or lost.
import type { Raft } from "./raft.ts";
import { sendAppend } from "./replication.ts";
import { sendSnapshotChunk } from "./snapshot.ts";

/** Leader, every tick: refill each learner's budget and send what the last tick's held back. */
export function paceLearners(r: Raft): void {
  for (const [id, pr] of r.trk.progress) {
    if (id === r.id) continue;
    const budget = r.trk.budgetFor(pr.isLearner);
    if (budget === pr.budgetBytes) continue; // unpaced, or nothing was sent since the last tick
    const heldBack = pr.budgetBytes <= 0;
    pr.budgetBytes = budget;
    if (!heldBack) continue;
    if (pr.state === "snapshot") {
      if (pr.snapshotSend?.owed === true) sendSnapshotChunk(r, id, pr);
    } else {
      while (sendAppend(r, id, false));
    }
  }
}
