// Log replication (§5.3): the leader's sending side (app, heartbeats, flow control per
// follower) and the follower's consistency check with fast-backtracking hints.
import { heartbeatStamp } from "./lease.ts";
import { entryBytes } from "./log.ts";
import type { Raft } from "./raft.ts";
import { sendSnapshot } from "./snapshot.ts";
import { CompactedError } from "./storage.ts";
import type { Entry, Message, NodeId } from "./types.ts";

/**
 * Sends `to` the entries after its `next` (one message of ≤ messageBytesMax), or a snapshot when
 * they are compacted. Returns whether a message was sent.
 */
export function sendAppend(r: Raft, to: NodeId, sendIfEmpty = true): boolean {
  const pr = r.trk.progress.get(to);
  // A paced learner whose budget this tick is spent waits for the next tick (pacing.ts).
  if (pr === undefined || pr.isPaused() || pr.budgetBytes <= 0) return false;
  const prevIndex = pr.next - 1;
  const prevTerm = r.log.term(prevIndex);
  if (prevTerm === undefined) return sendSnapshot(r, to, pr);
  let entries;
  try {
    const bytesMax = Math.min(r.cfg.messageBytesMax, pr.budgetBytes);
    entries = r.log.entries(pr.next, r.log.lastIndex() + 1, bytesMax);
  } catch (e) {
    if (e instanceof CompactedError) return sendSnapshot(r, to, pr);
    throw e;
  }
  if (entries.length === 0 && !sendIfEmpty) return false;
  r.send({
    type: "app",
    to,
    index: prevIndex,
    logTerm: prevTerm,
    entries,
    commit: r.log.committed,
  });
  const bytes = entryBytes(entries);
  pr.budgetBytes -= bytes;
  pr.sentEntries(prevIndex + entries.length, entries.length, bytes);
  return true;
}

export function bcastAppend(r: Raft): void {
  for (const id of r.trk.progress.keys()) if (id !== r.id) sendAppend(r, id);
}

export function sendHeartbeat(r: Raft, to: NodeId, context?: string, quiesce = false): void {
  const pr = r.trk.progress.get(to);
  // Never tell a follower to commit beyond what it is known to hold: its log may still differ.
  const commit = Math.min(pr?.match ?? 0, r.log.committed);
  r.send({
    type: "heartbeat",
    to,
    commit,
    ...(context !== undefined ? { context } : {}),
    ...(quiesce ? { quiesce: true } : {}),
    ...heartbeatStamp(r),
  });
}

export function bcastHeartbeat(r: Raft, context?: string, quiesce = false): void {
  for (const id of r.trk.progress.keys()) if (id !== r.id) sendHeartbeat(r, id, context, quiesce);
}

/** Follower: AppendEntries receiver implementation, Figure 2 of the paper. */
export function handleAppend(r: Raft, m: Message): void {
  const prevIndex = m.index ?? 0;
  if (prevIndex < r.log.committed) {
    // Everything up to our commit is already settled; tell the leader where we are.
    r.send({ type: "appResp", to: m.from, index: r.log.committed });
    return;
  }
  const entries = m.entries ?? [];
  const appended = r.log.maybeAppend(prevIndex, m.logTerm ?? 0, entries);
  if (appended !== undefined) {
    if (appended.appendedFrom !== 0) syncConfAfterAppend(r, entries, appended.appendedFrom);
    r.commitTo(Math.min(m.commit ?? 0, appended.lastNew));
    r.send({ type: "appResp", to: m.from, index: appended.lastNew });
    return;
  }
  // Consistency check failed: hint the largest index whose term is ≤ the leader's term there,
  // so the leader can skip a whole term of conflicting entries per round trip.
  const hint = r.log.findConflictByTerm(Math.min(prevIndex, r.log.lastIndex()), m.logTerm ?? 0);
  r.send({
    type: "appResp",
    to: m.from,
    index: prevIndex,
    reject: true,
    rejectHint: hint.index,
    rejectTerm: hint.term,
  });
}

/** Membership follows the log's tail: revert truncated conf entries, adopt appended ones. */
function syncConfAfterAppend(r: Raft, entries: readonly Entry[], from: number): void {
  const truncated = r.confLog.truncateFrom(from);
  const added = r.confLog.append(entries.filter((e) => e.index >= from));
  if (truncated || added) r.syncConf();
}

export function handleHeartbeat(r: Raft, m: Message): void {
  r.commitTo(m.commit ?? 0);
  r.send({
    type: "heartbeatResp",
    to: m.from,
    ...(m.context !== undefined ? { context: m.context } : {}),
    ...(m.quiesce === true ? { quiesce: true } : {}),
    ...(m.sentAtMs !== undefined ? { sentAtMs: m.sentAtMs } : {}),
  });
}

/** Leader: a follower answered an `app`. */
export function handleAppendResponse(r: Raft, m: Message): void {
  const pr = r.trk.progress.get(m.from);
  if (pr === undefined) return;
  r.trk.heardFrom(m.from);
  if (m.reject === true) {
    let hint = m.rejectHint ?? 0;
    // Skip our entries of terms the follower cannot hold at its hint.
    if ((m.rejectTerm ?? 0) > 0) hint = r.log.findConflictByTerm(hint, m.rejectTerm ?? 0).index;
    if (pr.maybeDecrTo(m.index ?? 0, hint)) {
      if (pr.state === "replicate") pr.becomeProbe();
      sendAppend(r, m.from);
    }
    return;
  }
  const index = m.index ?? 0;
  const wasPaused = pr.isPaused();
  if (!pr.maybeUpdate(index)) return;
  if (pr.state === "probe") pr.becomeReplicate();
  else if (pr.state === "snapshot") {
    pr.becomeProbe();
    if (pr.match + 1 >= r.log.firstIndex()) pr.becomeReplicate();
  } else pr.inflights.freeLE(index);
  if (r.maybeCommit()) bcastAppend(r);
  // A follower we could not send to may have missed the latest commit index.
  else if (wasPaused) sendAppend(r, m.from);
  // The window may have opened: send as much as it allows.
  while (sendAppend(r, m.from, false));
}
