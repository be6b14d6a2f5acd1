// The application-facing wrapper (etcd's RawNode): inputs are ticks, messages and proposals;
// the output is a Ready the caller handles (persist → send → apply → advance, see types.ts).
import { assert } from "./assert.ts";
import { hup, tickElection } from "./election.ts";
import { leaseReadIndex, observeTime } from "./lease.ts";
import { propose, proposeConfChange, type ProposeResult } from "./propose.ts";
import { wake } from "./quiesce.ts";
import { Raft } from "./raft.ts";
import { handleReadIndex, startReadRound } from "./reads.ts";
import { sendAppend } from "./replication.ts";
import { tickLeader } from "./leader.ts";
import type { LogStorage } from "./storage.ts";
import { handleTransferLeader } from "./transfer.ts";
import type {
  ConfChange,
  HardState,
  Message,
  NodeId,
  RaftConfig,
  Ready,
  SoftState,
} from "./types.ts";

import { basicStatusOf, statusOf, type BasicStatus, type Status } from "./status.ts";

export type { ProposeRefusal, ProposeResult } from "./propose.ts";
export type { BasicStatus, ProgressStatus, Status } from "./status.ts";
export { bootstrap, bootstrapIndex } from "./bootstrap.ts";

/** What a Ready handed out, so advance() acknowledges exactly that. */
interface Handed {
  hardState?: HardState;
  softState?: SoftState;
  needsTicks: boolean;
  lastEntry?: { index: number; term: number };
  snapshotIndex?: number;
  appliedIndex?: number;
  votePromiseUntilMs?: number;
}

export class RawNode {
  private readonly raft: Raft;
  private prevSoftState: SoftState;
  private prevHardState: HardState;
  private prevNeedsTicks = true;
  /** The persisted end of this member's vote promise (read leases), as last handed out. */
  private prevVotePromiseMs: number;
  private handed: Handed | undefined = undefined;

  constructor(config: RaftConfig, storage: LogStorage) {
    this.raft = new Raft(config, storage, config.appliedIndex ?? 0);
    this.prevSoftState = this.softState();
    this.prevHardState = this.hardState();
    this.prevVotePromiseMs = this.raft.votePromiseStoredMs;
  }

  /**
   * Advances logical time by one tick. Ignored while quiescent (`Ready.needsTicks` false).
   * `nowMs`: the caller's clock, required when read leases are on (lease.ts).
   */
  tick(nowMs?: number): void {
    const r = this.raft;
    observeTime(r, nowMs);
    if (r.quiesced) return;
    if (r.role === "leader") tickLeader(r);
    else tickElection(r);
  }

  /**
   * Delivers a message from another member. Messages addressed to someone else are ignored.
   * `nowMs`: the caller's clock when the message arrived, required when read leases are on.
   */
  step(m: Message, nowMs?: number): void {
    if (m.to !== this.raft.id) return;
    observeTime(this.raft, nowMs);
    this.raft.step(m);
  }

  /** Proposes a command; `{ok:true}` means accepted (leader) or forwarded (follower), not committed. */
  propose(data: Uint8Array): ProposeResult {
    return propose(this.raft, "normal", data);
  }

  proposeConfChange(cc: ConfChange): ProposeResult {
    return proposeConfChange(this.raft, cc);
  }

  /** Asks for a linearizable read; the answer is a ReadState tagged `context` in a later Ready. */
  readIndex(context: string): ProposeResult {
    const r = this.raft;
    wake(r);
    if (r.role === "leader") {
      handleReadIndex(r, r.id, context);
      return { ok: true };
    }
    if (r.role === "follower" && r.lead !== "") {
      r.send({ type: "readIndex", to: r.lead, context });
      return { ok: true };
    }
    return {
      ok: false,
      reason: "noLeader",
      message: "no leader is known (an election may be running); retry shortly",
    };
  }

  transferLeadership(to: NodeId): void {
    const r = this.raft;
    wake(r);
    if (r.role === "leader") handleTransferLeader(r, to);
    else if (r.role === "follower" && r.lead !== "")
      r.send({ type: "transferLeader", to: r.lead, transferee: to });
  }

  /** Starts an election now (with PreVote when configured), unless a read-lease promise forbids it. */
  campaign(nowMs?: number): void {
    observeTime(this.raft, nowMs);
    wake(this.raft);
    hup(this.raft);
  }

  /**
   * Read leases: the index a linearizable read may be served at right now without a round (the
   * caller must have applied up to it), or null when the lease does not hold: then use readIndex.
   */
  leaseRead(nowMs: number): number | null {
    observeTime(this.raft, nowMs);
    return leaseReadIndex(this.raft);
  }

  /** The transport failed to reach `id`: stop pipelining to it and probe instead. */
  reportUnreachable(id: NodeId): void {
    const pr = this.raft.role === "leader" ? this.raft.trk.progress.get(id) : undefined;
    if (pr?.state === "replicate") pr.becomeProbe();
  }

  hasReady(): boolean {
    this.flush();
    const r = this.raft;
    if (!sameSoftState(this.softState(), this.prevSoftState)) return true;
    if (!sameHardState(this.hardState(), this.prevHardState)) return true;
    if (r.log.hasPendingSnapshot() || r.log.unstable.entries.length > 0) return true;
    if (r.msgs.length > 0 || r.readStates.length > 0) return true;
    if (r.votePromiseStoredMs !== this.prevVotePromiseMs) return true;
    if (!r.log.hasPendingSnapshot() && r.log.applied < r.log.committed) return true;
    return !r.quiesced !== this.prevNeedsTicks;
  }

  ready(): Ready {
    assert(this.handed === undefined, "ready() called again before advance()");
    this.flush();
    const r = this.raft;
    const soft = this.softState();
    const hard = this.hardState();
    const rd: Ready = {
      entries: [...r.log.unstable.entries],
      committedEntries: r.log.nextCommittedEntries(r.cfg.messageBytesMax),
      messages: r.msgs,
      readStates: r.readStates,
      needsTicks: !r.quiesced,
    };
    r.msgs = [];
    r.readStates = [];
    const handed: Handed = { needsTicks: rd.needsTicks };
    if (!sameSoftState(soft, this.prevSoftState)) rd.softState = handed.softState = soft;
    if (!sameHardState(hard, this.prevHardState)) rd.hardState = handed.hardState = hard;
    if (r.votePromiseStoredMs !== this.prevVotePromiseMs)
      rd.votePromiseUntilMs = handed.votePromiseUntilMs = r.votePromiseStoredMs;
    const snapshot = r.log.unstable.snapshot;
    if (snapshot !== undefined) {
      rd.snapshot = snapshot;
      handed.snapshotIndex = snapshot.metadata.index;
    }
    const last = rd.entries[rd.entries.length - 1];
    if (last !== undefined) handed.lastEntry = { index: last.index, term: last.term };
    const lastCommitted = rd.committedEntries[rd.committedEntries.length - 1];
    if (lastCommitted !== undefined) handed.appliedIndex = lastCommitted.index;
    this.handed = handed;
    return rd;
  }

  /** The caller handled the last Ready (persisted, sent, applied). */
  advance(): void {
    const handed = this.handed;
    assert(handed !== undefined, "advance() without a preceding ready()");
    this.handed = undefined;
    const log = this.raft.log;
    if (handed.softState !== undefined) this.prevSoftState = handed.softState;
    if (handed.hardState !== undefined) this.prevHardState = handed.hardState;
    if (handed.votePromiseUntilMs !== undefined) this.prevVotePromiseMs = handed.votePromiseUntilMs;
    this.prevNeedsTicks = handed.needsTicks;
    if (handed.snapshotIndex !== undefined) {
      log.unstable.stableSnapTo(handed.snapshotIndex);
      log.applied = Math.max(log.applied, handed.snapshotIndex);
    }
    if (handed.lastEntry !== undefined)
      log.unstable.stableTo(handed.lastEntry.index, handed.lastEntry.term);
    if (handed.appliedIndex !== undefined) log.appliedTo(handed.appliedIndex);
  }

  status(): Status {
    return statusOf(this.raft);
  }

  /** The role, leader and term without the copies status() makes: for every client request. */
  basicStatus(): BasicStatus {
    return basicStatusOf(this.raft);
  }

  /**
   * Work batched per Ready: proposals since the last Ready go out as one `app` per follower,
   * and reads since the last Ready share one heartbeat round.
   */
  private flush(): void {
    const r = this.raft;
    if (r.role !== "leader") return;
    startReadRound(r);
    if (!r.appendPending) return;
    r.appendPending = false;
    for (const id of r.trk.progress.keys()) if (id !== r.id) while (sendAppend(r, id, false));
  }

  private softState(): SoftState {
    return { leader: this.raft.lead, role: this.raft.role };
  }

  private hardState(): HardState {
    return { term: this.raft.term, vote: this.raft.vote, commit: this.raft.log.committed };
  }
}

function sameSoftState(a: SoftState, b: SoftState): boolean {
  return a.leader === b.leader && a.role === b.role;
}

function sameHardState(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commit === b.commit;
}
