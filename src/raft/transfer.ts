// Leadership transfer (§3.10 of Ongaro's thesis): bring the transferee up to date, then tell it
// to campaign at once. Proposals are refused meanwhile; the attempt is abandoned after an
// election timeout.
import type { Raft } from "./raft.ts";
import { sendAppend } from "./replication.ts";
import type { NodeId } from "./types.ts";

export function handleTransferLeader(r: Raft, to: NodeId): void {
  if (!r.trk.isVoter(to)) return; // learners and strangers cannot lead
  if (r.leadTransferee !== "") {
    if (r.leadTransferee === to) return;
    r.leadTransferee = "";
  }
  if (to === r.id) return;
  r.electionElapsed = 0; // the transfer must finish within one election timeout
  r.leadTransferee = to;
  // The transferee may win without the followers' promises (§3.10): no lease reads for the rest
  // of this term, even if the transfer is abandoned (its timeoutNow may still arrive).
  r.leaseRevoked = true;
  if (!maybeSendTimeoutNow(r, to)) sendAppend(r, to);
}

/** Sends `timeoutNow` if `to` is the transferee and its log matches ours. */
export function maybeSendTimeoutNow(r: Raft, to: NodeId): boolean {
  if (r.leadTransferee !== to || r.trk.progress.get(to)?.match !== r.log.lastIndex()) return false;
  r.send({ type: "timeoutNow", to });
  return true;
}
