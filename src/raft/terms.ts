// The first check every message passes (§5.1): a higher term demotes us to follower, a lower
// term is stale. The exceptions are PreVote's and CheckQuorum's (§9.6, §4.2.3 of the thesis).
import { transferContext } from "./election.ts";
import { votePromised } from "./lease.ts";
import type { Raft } from "./raft.ts";
import type { Message } from "./types.ts";

/** `m` carries a higher term. Returns whether to go on handling it. */
export function acceptHigherTerm(r: Raft, m: Message): boolean {
  if (m.type === "vote" || m.type === "preVote") {
    const force = m.context === transferContext;
    const inLease =
      r.cfg.checkQuorum &&
      r.lead !== "" &&
      r.leaseValid &&
      r.electionElapsed < r.cfg.electionTimeoutTicks;
    // A member that hears from a live leader ignores disruptive candidates; with read leases it
    // also keeps the promise its answers to the leader's heartbeats gave (lease.ts).
    if (!force && (inLease || votePromised(r))) return false;
  }
  if (m.type === "preVote") return true; // a pre-vote never changes our term
  if (m.type === "preVoteResp" && m.reject !== true) return true; // we bump it if we win
  const fromLeader = m.type === "app" || m.type === "heartbeat" || m.type === "snap";
  r.becomeFollower(m.term, fromLeader ? m.from : "");
  return true;
}

/** `m` carries a lower term: drop it, answering where the sender needs to learn our term. */
export function answerStaleTerm(r: Raft, m: Message): void {
  if (m.type === "app" || m.type === "heartbeat" || m.type === "snap") {
    // §5.1: reject with our term, so a deposed leader steps down. With PreVote and CheckQuorum
    // this is also the only way a leader cut off by a partition hears the new term.
    r.send({ type: "appResp", to: m.from });
  } else if (m.type === "preVote") {
    r.send({ type: "preVoteResp", to: m.from, term: r.term, reject: true });
  }
}
