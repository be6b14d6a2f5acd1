// What follows when the commit index advances: committed conf entries can no longer revert;
// a leader releases backpressure and waiting reads, and steps down if its removal committed.
import type { Raft } from "./raft.ts";
import { releasePendingReads } from "./reads.ts";

export function onCommitAdvanced(r: Raft): void {
  r.confLog.commitTo(r.log.committed);
  if (r.role !== "leader") return;
  releaseUncommitted(r);
  if (r.log.term(r.log.committed) === r.term) releasePendingReads(r);
  maybeStepDownRemoved(r);
}

function releaseUncommitted(r: Raft): void {
  while (r.uncommitted.length > 0 && r.uncommitted[0]!.index <= r.log.committed) {
    r.uncommittedBytes -= r.uncommitted.shift()!.bytes;
  }
}

/**
 * A leader removed from the voters keeps leading (without counting itself) until the removal
 * commits (§4.2.2), then hands over to an up-to-date voter and steps down.
 */
function maybeStepDownRemoved(r: Raft): void {
  if (r.trk.isVoter(r.id) || r.pendingConfIndex > r.log.committed) return;
  const last = r.log.lastIndex();
  const successor = r.trk.conf.voters.find((id) => r.trk.progress.get(id)?.match === last);
  if (successor !== undefined) r.send({ type: "timeoutNow", to: successor });
  r.becomeFollower(r.term, "");
}
