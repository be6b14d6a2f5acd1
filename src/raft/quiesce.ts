// Quiescence (CockroachDB range quiescence, TiKV hibernate regions): an idle group stops
// ticking so a Durable Object replica can clear its alarm. The leader decides; a quiesce
// heartbeat tells followers; any activity wakes a member. A quiesced follower holds no leader
// lease, so a dead leader is replaced on demand once a client wakes a follower.
import type { Raft } from "./raft.ts";
import { bcastHeartbeat } from "./replication.ts";
import type { Message, NodeId } from "./types.ts";

/** Leader: nothing in flight and every member holds the whole log and knows the commit. */
function idle(r: Raft): boolean {
  const last = r.log.lastIndex();
  if (r.log.committed !== last || r.leadTransferee !== "" || r.appendPending) return false;
  if (r.readOnly.pendingCount > 0 || r.pendingReads.length > 0) return false;
  for (const [id, pr] of r.trk.progress) {
    if (id === r.id) continue;
    if (pr.match !== last || pr.state !== "replicate" || pr.inflights.count > 0) return false;
  }
  return true;
}

/** Context of the heartbeatResp a woken follower sends to wake its leader. */
export const wakeContext = "raft/wake";

/**
 * Leader, every tick: count idle ticks and put the group to sleep after `quiesceAfterTicks`.
 * Returns true when it just did.
 */
export function tickQuiesce(r: Raft): boolean {
  if (r.cfg.quiesceAfterTicks === 0) return false;
  r.quiesceElapsed = idle(r) ? r.quiesceElapsed + 1 : 0;
  if (r.quiesceElapsed < r.cfg.quiesceAfterTicks) return false;
  // The heartbeat carries the commit index, so followers end up with the leader's exact state.
  bcastHeartbeat(r, undefined, true);
  r.quiesced = true;
  r.leaseValid = false;
  return true;
}

/**
 * Whether `m` wakes a sleeping member: anything but a quiesce heartbeat (and its answer). A
 * sleeping leader ignores late answers to what it sent before it slept (they bring no work),
 * but not a follower's explicit wake-up call. A sleeping follower ignores every answer.
 */
export function wakesUp(r: Raft, m: Message): boolean {
  if (m.quiesce === true) return false;
  // An older term's message is dropped or answered at once: no work that needs ticks.
  if (m.term !== 0 && m.term < r.term) return false;
  if (
    r.role === "leader" &&
    (m.type === "appResp" || m.type === "heartbeatResp" || m.type === "snapResp")
  ) {
    return m.context === wakeContext;
  }
  if (r.role !== "leader" && answerTypes.has(m.type)) return false;
  return !staleFromLeader(r, m);
}

/**
 * What a sleeping follower may receive only late: it leads nothing (answers to appends are for a
 * leader it once was), and a campaign or a forwarded read wakes it, so a (pre)vote answer or a
 * read's answer belongs to one made before the group slept. A read's answer is still stepped, so
 * the read gets its state; serving it needs applying, not ticks. (Found by the simulator: such
 * answers, delayed past the quiesce, woke learners, which nobody put back to sleep.)
 */
const answerTypes: ReadonlySet<Message["type"]> = new Set([
  "appResp",
  "heartbeatResp",
  "snapResp",
  "preVoteResp",
  "voteResp",
  "readIndexResp",
]);

/**
 * Follower: a message its leader sent before the group slept, delayed past the quiesce heartbeat.
 * It brings nothing this member has not already committed, so it must not wake it: the leader
 * sleeps and would never put this member back to sleep (a learner would tick forever).
 */
function staleFromLeader(r: Raft, m: Message): boolean {
  if (r.role !== "follower" || m.from !== r.lead || m.term !== r.term) return false;
  const committed = r.log.committed;
  if ((m.commit ?? 0) > committed) return false;
  switch (m.type) {
    case "heartbeat":
      // Answered all the same (a read round of an awake leader still gets its ack).
      return true;
    case "app":
      return (m.index ?? 0) + (m.entries?.length ?? 0) <= committed;
    case "snap":
      return m.snapshot !== undefined && m.snapshot.metadata.index <= committed;
    default:
      return false;
  }
}

/** Follower: the leader put the group to sleep. */
export function quiesceFollower(r: Raft): void {
  r.quiesced = true;
  r.leaseValid = false;
}

/**
 * Any activity other than a quiesce heartbeat wakes a member. A follower woken by someone
 * other than its leader pokes the leader (an unsolicited heartbeatResp) so it resumes
 * heartbeats; if the leader is dead, the follower campaigns after its election timeout.
 */
export function wake(r: Raft, from?: NodeId): void {
  if (!r.quiesced) return;
  r.quiesced = false;
  r.electionElapsed = 0;
  r.heartbeatElapsed = 0;
  r.quiesceElapsed = 0;
  if (r.role === "leader") {
    // CheckQuorum starts afresh: followers must answer within an election timeout.
    r.trk.heardFromAll();
    r.leaseValid = true;
    return;
  }
  r.leaseValid = false;
  if (r.lead !== "" && from !== r.lead)
    r.send({ type: "heartbeatResp", to: r.lead, context: wakeContext });
}
