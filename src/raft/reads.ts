// Linearizable reads by ReadIndex (§6.4 of Ongaro's thesis) on the leader, and the follower's
// side (ask the leader, receive the index).
import { hasQuorum, majority } from "./quorum.ts";
import type { ReadRequest } from "./readonly.ts";
import type { Raft } from "./raft.ts";
import { sendHeartbeat } from "./replication.ts";
import type { Message, NodeId } from "./types.ts";

/** Leader: a read arrived (locally or from a follower). */
export function handleReadIndex(r: Raft, from: string, context: string): void {
  const request: ReadRequest = { index: r.log.committed, from, context };
  // Until an entry of its term commits, the leader may not know the true commit index.
  if (r.log.term(r.log.committed) !== r.term) {
    r.pendingReads.push(request);
    return;
  }
  r.readOnly.add(request); // the round starts at the next flush, batching reads that arrive together
}

export function releasePendingReads(r: Raft): void {
  const pending = r.pendingReads;
  if (pending.length === 0) return;
  r.pendingReads = [];
  for (const req of pending) r.readOnly.add({ ...req, index: r.log.committed });
}

/**
 * Leader, once per Ready: confirm leadership for every read waiting (one heartbeat round). The
 * round asks only as many voters as complete a quorum, those that answered the last round first
 * (on a WAN, the nearest): with 3 replicas one follower, so a read round costs one request, not
 * two. Everyone else hears the round on the periodic heartbeat, which carries it (leader.ts), so a
 * silent follower delays a round by at most one heartbeat interval.
 */
export function startReadRound(r: Raft): void {
  const id = r.readOnly.maybeStartRound(r.id);
  if (id === undefined) return;
  // A lone voter is its own quorum.
  if (finishRound(r, id, r.id)) return;
  for (const to of readRoundPeers(r)) sendHeartbeat(r, to, id);
}

/** The voters a read round asks: enough for a quorum with the leader, fastest last time first. */
function readRoundPeers(r: Raft): NodeId[] {
  const voters = r.trk.conf.voters;
  const others = voters.filter((v) => v !== r.id);
  const needed = majority(voters.length) - (voters.includes(r.id) ? 1 : 0);
  const fastest = r.readOnly.fastestAckers.filter((id) => others.includes(id));
  const active = others.filter(
    (id) => !fastest.includes(id) && r.trk.recentlyActive(id, r.id, r.cfg.electionTimeoutTicks),
  );
  const rest = others.filter((id) => !fastest.includes(id) && !active.includes(id));
  return [...fastest, ...active, ...rest].slice(0, needed);
}

/** Leader: a heartbeat of read round `id` was acknowledged by `from`; true if the round ended. */
function finishRound(r: Raft, id: string, from: string): boolean {
  const released = r.readOnly.ack(id, from, (acks) =>
    hasQuorum(r.trk.conf.voters, (v) => acks.has(v)),
  );
  if (released.length === 0) return false;
  for (const req of released) respond(r, req);
  return true;
}

export function handleReadAck(r: Raft, m: Message): void {
  if (m.context !== undefined) finishRound(r, m.context, m.from);
}

function respond(r: Raft, req: ReadRequest): void {
  if (req.from === r.id) r.readStates.push({ index: req.index, context: req.context });
  else r.send({ type: "readIndexResp", to: req.from, index: req.index, context: req.context });
}
