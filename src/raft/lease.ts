// Read leases (§6.4.1 of Ongaro's thesis): a leader that a quorum acknowledged recently serves
// linearizable reads from its own state, with no heartbeat round per read.
//
// The promise that makes it safe is the followers': a member that heard from the leader at time
// t grants no (pre)vote and starts no election of its own before t + voteRefusalMs, by its own
// clock. The leader stamps each heartbeat with its clock when it builds it; an answer to a
// heartbeat stamped s proves that a quorum will elect nobody before s + voteRefusalMs, so the
// leader may serve until s + readLeaseMs (< voteRefusalMs). Only the clocks' rates matter, never
// their offsets: each side measures an interval on its own clock, and the difference between the
// two windows absorbs rate drift and the time a clock reading lags behind the real time.
//
// Time is an input, like ticks: the caller passes its clock's reading to the calls that need it.
// A member that restarts has lost what it heard; the promise's end is therefore persisted
// (Ready.votePromiseUntilMs, written ahead, rarely) and given back through the config.
import { assert } from "./assert.ts";
import { hasQuorum } from "./quorum.ts";
import type { Raft } from "./raft.ts";
import type { Message, NodeId } from "./types.ts";

export function leasesOn(r: Raft): boolean {
  return (r.cfg.readLeaseMs ?? 0) > 0;
}

/** The caller's clock reading; must be given to every call that can depend on it once leases are on. */
export function observeTime(r: Raft, nowMs: number | undefined): void {
  if (!leasesOn(r)) return;
  assert(
    nowMs !== undefined && Number.isFinite(nowMs),
    "read leases are on: pass the clock's reading (nowMs)",
  );
  // A clock reading never moves the member's time back (a stale reading is ignored).
  if (nowMs > r.nowMs) r.nowMs = nowMs;
}

/** Follower: a message of the current leader arrived now; promise not to help elect another. */
export function promiseToLeader(r: Raft): void {
  if (!leasesOn(r)) return;
  const refusalMs = r.cfg.voteRefusalMs ?? 0;
  const until = r.nowMs + refusalMs;
  if (until > r.refuseVotesUntilMs) r.refuseVotesUntilMs = until;
  // Written ahead by a whole window, so a busy follower writes about once per window, not per beat.
  if (until > r.votePromiseStoredMs) r.votePromiseStoredMs = until + refusalMs;
}

/** Whether a promise forbids voting (or campaigning) now. A transfer (§3.10) overrides it. */
export function votePromised(r: Raft): boolean {
  return leasesOn(r) && r.nowMs < r.refuseVotesUntilMs;
}

/** Leader: the clock reading to stamp on a heartbeat, when leases are on. */
export function heartbeatStamp(r: Raft): { sentAtMs: number } | Record<string, never> {
  return leasesOn(r) ? { sentAtMs: r.nowMs } : {};
}

/** Leader: `from` answered a heartbeat stamped `m.sentAtMs`. */
export function noteLeaseAck(r: Raft, m: Message): void {
  const stamp = m.sentAtMs;
  if (stamp === undefined || !leasesOn(r)) return;
  const prev = r.leaseAcks.get(m.from) ?? Number.NEGATIVE_INFINITY;
  if (stamp > prev) r.leaseAcks.set(m.from, stamp);
}

/**
 * The index a read may be served at now without a round (the commit index, already known to be
 * this term's), or null when the lease does not hold: not leader, nothing of this term committed
 * yet, a leadership transfer begun this term, or no quorum heard within readLeaseMs. Asleep
 * (quiesced), the answer is null too: the read then takes a round, which wakes the group, and
 * reads served here count as activity, so a group under read load stays awake to renew its lease.
 */
export function leaseReadIndex(r: Raft): number | null {
  if (!leasesOn(r) || r.role !== "leader" || r.leaseRevoked || r.quiesced) return null;
  if (r.log.term(r.log.committed) !== r.term) return null;
  // Judged at the newest reading seen (observeTime): a stale one must not revive an expired lease.
  const since = r.nowMs - (r.cfg.readLeaseMs ?? 0);
  const fresh = (id: NodeId) =>
    id === r.id || (r.leaseAcks.get(id) ?? Number.NEGATIVE_INFINITY) > since;
  if (!hasQuorum(r.trk.conf.voters, fresh)) return null;
  r.quiesceElapsed = 0;
  return r.log.committed;
}
