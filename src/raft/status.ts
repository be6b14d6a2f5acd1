// A read-only snapshot of a member's state for callers, tests and operators.
import type { ProgressState } from "./progress.ts";
import type { Raft } from "./raft.ts";
import type { ConfState, NodeId, Role } from "./types.ts";

export interface ProgressStatus {
  match: number;
  next: number;
  state: ProgressState;
  inflightMessages: number;
  /** Heard from within the last election timeout (CheckQuorum's view). */
  recentActive: boolean;
  isLearner: boolean;
  /** Snapshot mode: the index of the snapshot being sent (0 otherwise). */
  pendingSnapshot: number;
  /** Snapshot mode: the bytes the follower confirmed of the snapshot's data, and its size. */
  snapshotBytes?: { done: number; total: number };
}

export interface Status {
  id: NodeId;
  term: number;
  vote: NodeId;
  role: Role;
  leader: NodeId;
  commit: number;
  applied: number;
  firstIndex: number;
  lastIndex: number;
  conf: ConfState;
  quiesced: boolean;
  leadTransferee: NodeId;
  /** Leader only: one entry per member, itself included. */
  progress?: Record<NodeId, ProgressStatus>;
}

/** What callers on a hot path need (etcd's BasicStatus): no copies of the config or progress. */
export interface BasicStatus {
  id: NodeId;
  term: number;
  role: Role;
  leader: NodeId;
  quiesced: boolean;
}

export function basicStatusOf(r: Raft): BasicStatus {
  return { id: r.id, term: r.term, role: r.role, leader: r.lead, quiesced: r.quiesced };
}

export function statusOf(r: Raft): Status {
  const status: Status = {
    id: r.id,
    term: r.term,
    vote: r.vote,
    role: r.role,
    leader: r.lead,
    commit: r.log.committed,
    applied: r.log.applied,
    firstIndex: r.log.firstIndex(),
    lastIndex: r.log.lastIndex(),
    conf: { voters: [...r.trk.conf.voters], learners: [...r.trk.conf.learners] },
    quiesced: r.quiesced,
    leadTransferee: r.leadTransferee,
  };
  if (r.role === "leader") status.progress = progressOf(r);
  return status;
}

function progressOf(r: Raft): Record<NodeId, ProgressStatus> {
  const out: Record<NodeId, ProgressStatus> = {};
  for (const [id, pr] of r.trk.progress) {
    out[id] = {
      match: pr.match,
      next: pr.next,
      state: pr.state,
      inflightMessages: pr.inflights.count,
      recentActive: r.trk.recentlyActive(id, r.id, r.cfg.electionTimeoutTicks),
      isLearner: pr.isLearner,
      pendingSnapshot: pr.pendingSnapshot,
      ...(pr.snapshotSend === undefined
        ? {}
        : {
            snapshotBytes: {
              done: pr.snapshotSend.offset,
              total: pr.snapshotSend.snapshot.data.byteLength,
            },
          }),
    };
  }
  return out;
}
