// Followers, pre-candidates and candidates: accept the leader's messages, forward nothing they
// did not originate, count votes.
import { handleVoteResponse, hup } from "./election.ts";
import { promiseToLeader } from "./lease.ts";
import { quiesceFollower } from "./quiesce.ts";
import type { Raft } from "./raft.ts";
import { handleAppend, handleHeartbeat } from "./replication.ts";
import { handleSnapshotChunk } from "./snapshot.ts";
import type { Message } from "./types.ts";

export function stepFollower(r: Raft, m: Message): void {
  switch (m.type) {
    case "app":
      heardFromLeader(r, m);
      return handleAppend(r, m);
    case "heartbeat":
      heardFromLeader(r, m);
      handleHeartbeat(r, m);
      if (m.quiesce === true) quiesceFollower(r);
      return;
    case "snap":
      heardFromLeader(r, m);
      return handleSnapshotChunk(r, m);
    case "timeoutNow":
      // §3.10: the leader chose us; campaign at once, skipping PreVote and others' leases.
      return hup(r, "transfer");
    case "readIndexResp":
      r.readStates.push({ index: m.index ?? 0, context: m.context ?? "" });
      return;
    default:
      // prop/readIndex/transferLeader relayed by another member are dropped, not forwarded
      // again: two members with stale views could bounce them forever. Clients retry.
      return;
  }
}

function heardFromLeader(r: Raft, m: Message): void {
  r.electionElapsed = 0;
  r.lead = m.from;
  // A sleeping member's clock stands still, so a lease taken now would never expire and it
  // would refuse every vote after the leader dies (a stale message can arrive while asleep).
  r.leaseValid = !r.quiesced;
  promiseToLeader(r);
}

export function stepCandidate(r: Raft, m: Message): void {
  switch (m.type) {
    case "app":
    case "heartbeat":
    case "snap":
      // Another member won this term (§5.2).
      r.becomeFollower(m.term, m.from);
      return stepFollower(r, m);
    case "preVoteResp":
    case "voteResp":
      return handleVoteResponse(r, m);
    default:
      return;
  }
}
