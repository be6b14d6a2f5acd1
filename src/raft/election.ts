// Leader election (§5.2) with PreVote (§9.6 of Ongaro's thesis): campaigning, answering
// (pre)vote requests, counting answers, and the follower/candidate election timer.
import { votePromised } from "./lease.ts";
import type { Raft } from "./raft.ts";
import type { Message } from "./types.ts";

/** Context of (pre)votes sent on a `timeoutNow`: they override CheckQuorum leases (§3.10). */
export const transferContext = "raft/transfer";

export type CampaignKind = "preElection" | "election" | "transfer";

/** Starts an election unless we are leader or cannot vote (learners and strangers never do). */
export function hup(r: Raft, kind?: CampaignKind): void {
  if (r.role === "leader" || !r.promotable()) return;
  // Our own vote counts too: a read-lease promise (lease.ts) forbids it, except on a transfer.
  if (kind !== "transfer" && votePromised(r)) return;
  campaign(r, kind ?? (r.cfg.preVote ? "preElection" : "election"));
}

export function campaign(r: Raft, kind: CampaignKind): void {
  const pre = kind === "preElection";
  if (pre) r.becomePreCandidate();
  else r.becomeCandidate();
  r.trk.recordVote(r.id, true);
  if (r.trk.voteResult() === "won") return onWon(r);
  // A pre-vote asks about the term we would use, without adopting it.
  const term = pre ? r.term + 1 : r.term;
  for (const to of r.trk.conf.voters) {
    if (to === r.id) continue;
    r.send({
      type: pre ? "preVote" : "vote",
      to,
      term,
      index: r.log.lastIndex(),
      logTerm: r.log.lastTerm(),
      ...(kind === "transfer" ? { context: transferContext } : {}),
    });
  }
}

function onWon(r: Raft): void {
  if (r.role === "preCandidate") return campaign(r, "election");
  r.becomeLeader();
}

/** §5.2, §5.4.1: one vote per term, only for a candidate whose log is at least as up to date. */
export function handleVoteRequest(r: Raft, m: Message): void {
  const pre = m.type === "preVote";
  const promised = m.context !== transferContext && votePromised(r);
  const canVote =
    !promised &&
    (r.vote === m.from ||
      (r.vote === "" && r.lead === "") ||
      // A pre-vote for a future term binds nothing; the lease check in Raft.step already ran.
      (pre && m.term > r.term));
  const respType = pre ? "preVoteResp" : "voteResp";
  if (canVote && r.log.isUpToDate(m.index ?? 0, m.logTerm ?? 0)) {
    // Answer in the candidate's term: it ignores answers from older terms.
    r.send({ type: respType, to: m.from, term: m.term });
    if (!pre) {
      r.electionElapsed = 0;
      r.vote = m.from; // persisted (hardState) before this reply leaves, per the Ready contract
    }
  } else {
    r.send({ type: respType, to: m.from, term: r.term, reject: true });
  }
}

/** Candidate and pre-candidate: count an answer of the current round. */
export function handleVoteResponse(r: Raft, m: Message): void {
  const expected = r.role === "preCandidate" ? "preVoteResp" : "voteResp";
  if (m.type !== expected) return;
  r.trk.recordVote(m.from, m.reject !== true);
  const result = r.trk.voteResult();
  if (result === "won") onWon(r);
  else if (result === "lost") r.becomeFollower(r.term, "");
}

/** Followers and candidates: campaign after a randomized election timeout without a leader. */
export function tickElection(r: Raft): void {
  r.electionElapsed++;
  if (r.promotable() && r.electionElapsed >= r.randomizedElectionTimeoutTicks) {
    // Ticks can end a few ms before the read-lease promise does (the first tick after hearing
    // from the leader comes early): try again next tick rather than after a whole new timeout.
    if (votePromised(r)) return;
    r.electionElapsed = 0;
    hup(r);
  }
}
