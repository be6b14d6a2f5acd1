// The leader's tick and message handling, dispatching to the files that own each concern.
import { appendProposals, confChangeRefusal } from "./propose.ts";
import { decodeConfChange } from "./confchange.ts";
import type { Raft } from "./raft.ts";
import { noteLeaseAck } from "./lease.ts";
import { paceLearners } from "./pacing.ts";
import { handleReadAck, handleReadIndex } from "./reads.ts";
import { bcastHeartbeat, handleAppendResponse, sendAppend } from "./replication.ts";
import { handleSnapshotResponse, resendStalledSnapshots } from "./snapshot.ts";
import { tickQuiesce } from "./quiesce.ts";
import { handleTransferLeader, maybeSendTimeoutNow } from "./transfer.ts";
import type { Entry, Message } from "./types.ts";

export function tickLeader(r: Raft): void {
  r.trk.ticks++;
  r.electionElapsed++;
  r.heartbeatElapsed++;
  // CheckQuorum (§6.2): a leader that has not heard from a majority within an election timeout
  // steps down, so clients retry elsewhere and followers' leases can expire.
  if (r.cfg.checkQuorum && !r.trk.quorumActive(r.id, r.cfg.electionTimeoutTicks)) {
    return r.becomeFollower(r.term, "");
  }
  paceLearners(r);
  if (r.electionElapsed >= r.cfg.electionTimeoutTicks) {
    r.electionElapsed = 0;
    r.leadTransferee = ""; // a transfer that did not finish in an election timeout is abandoned
  }
  // The quiesce heartbeat replaces this tick's heartbeat: an ordinary one would be answered by
  // responses that arrive after the group went to sleep.
  if (tickQuiesce(r)) return;
  if (r.heartbeatElapsed >= r.cfg.heartbeatIntervalTicks) {
    r.heartbeatElapsed = 0;
    bcastHeartbeat(r, r.readOnly.roundId);
    resendStalledSnapshots(r);
  }
}

export function stepLeader(r: Raft, m: Message): void {
  switch (m.type) {
    case "prop":
      return handleForwardedProposal(r, m.entries ?? []);
    case "readIndex":
      return handleReadIndex(r, m.from, m.context ?? "");
    case "appResp":
      handleAppendResponse(r, m);
      maybeSendTimeoutNow(r, m.from);
      return;
    case "heartbeatResp":
      return handleHeartbeatResponse(r, m);
    case "snapResp":
      return handleSnapshotResponse(r, m);
    case "transferLeader":
      return handleTransferLeader(r, m.transferee ?? "");
    default:
      return; // e.g. a stale timeoutNow or vote answers after winning
  }
}

function handleHeartbeatResponse(r: Raft, m: Message): void {
  const pr = r.trk.progress.get(m.from);
  if (pr === undefined) return;
  r.trk.heardFrom(m.from);
  noteLeaseAck(r, m);
  pr.probeSent = false;
  // The follower is alive: let one more message through a full window.
  if (pr.state === "replicate" && pr.inflights.full()) pr.inflights.freeFirstOne();
  if (pr.match < r.log.lastIndex()) sendAppend(r, m.from);
  handleReadAck(r, m);
}

/** Proposals a follower forwarded. Refused ones are dropped: the client retries on timeout. */
function handleForwardedProposal(r: Raft, entries: readonly Entry[]): void {
  if (r.leadTransferee !== "") return;
  let confSeen = false;
  const accepted = entries.filter((e) => {
    if (e.data.byteLength > r.cfg.messageBytesMax) return false;
    if (e.type !== "conf") return true;
    // At most one conf entry per batch, and only under the leader's conf-change rules.
    const ok = !confSeen && confChangeRefusal(r, decodeConfChange(e.data)) === undefined;
    confSeen ||= ok;
    return ok;
  });
  if (accepted.length > 0) appendProposals(r, accepted);
}
