// The consensus state machine of one member: its term, vote, role and log, the transitions
// between roles, and the first stage of `step` that every message passes (term checks, §5.1).
// Role-specific handling lives in leader.ts / follower.ts; RawNode wraps this in Ready/advance.
import { assert } from "./assert.ts";
import { messageBytesCeiling, validateConfig } from "./config.ts";
import { ConfLog } from "./conflog.ts";
import { handleVoteRequest } from "./election.ts";
import { acceptHigherTerm, answerStaleTerm } from "./terms.ts";
import { stepLeader } from "./leader.ts";
import { stepCandidate, stepFollower } from "./follower.ts";
import { RaftLog } from "./log.ts";
import { onCommitAdvanced } from "./commit.ts";
import { wake, wakesUp } from "./quiesce.ts";
import { Rand } from "./rand.ts";
import { ReadOnly, type ReadRequest } from "./readonly.ts";
import type { SnapshotReceive } from "./snapshot.ts";
import type { LogStorage } from "./storage.ts";
import { ProgressTracker } from "./tracker.ts";
import type { Entry, Message, NodeId, RaftConfig, ReadState, Role } from "./types.ts";

/** A message as a handler writes it: `from` and (usually) `term` are filled in by `send`. */
export type Outgoing = Omit<Message, "from" | "term"> & { term?: number };

export class Raft {
  readonly id: NodeId;
  readonly log: RaftLog;
  readonly trk: ProgressTracker;
  readonly confLog: ConfLog;
  readonly rand: Rand;

  term = 0;
  vote: NodeId = "";
  role: Role = "follower";
  lead: NodeId = "";

  electionElapsed = 0;
  heartbeatElapsed = 0;
  randomizedElectionTimeoutTicks = 0;
  /** CheckQuorum lease: heard from the leader (or, as leader, from a quorum) and not asleep. */
  leaseValid = false;
  quiesced = false;
  /** Leader: consecutive ticks with nothing in flight. */
  quiesceElapsed = 0;

  leadTransferee: NodeId = "";
  /** Leader: index of the newest conf entry it may not yet have committed. */
  pendingConfIndex = 0;
  /** Leader: (index, bytes) of entries it appended and not yet committed, for backpressure. */
  uncommitted: { index: number; bytes: number }[] = [];
  uncommittedBytes = 0;
  readOnly: ReadOnly;
  /** Read leases (lease.ts): the latest clock reading the caller gave. */
  nowMs = Number.NEGATIVE_INFINITY;
  /** Read leases, follower: no vote or campaign before this (by this member's clock). */
  refuseVotesUntilMs: number;
  /** Read leases: the promise's end as it must be persisted (written ahead, see lease.ts). */
  votePromiseStoredMs: number;
  /** Read leases, leader: per voter, the newest heartbeat stamp it answered in this term. */
  leaseAcks = new Map<NodeId, number>();
  /** Read leases, leader: a leadership transfer began this term, so the lease is given up. */
  leaseRevoked = false;
  /** Leader: reads waiting until it has committed an entry of its term (§6.4 step 1). */
  pendingReads: ReadRequest[] = [];
  /** Leader: proposals appended but not yet broadcast; flushed once per Ready (batching). */
  appendPending = false;
  incomingSnapshot: SnapshotReceive | undefined = undefined;

  msgs: Message[] = [];
  readStates: ReadState[] = [];

  constructor(
    readonly cfg: RaftConfig,
    storage: LogStorage,
    appliedIndex = 0,
  ) {
    validateConfig(cfg);
    this.id = cfg.id;
    this.refuseVotesUntilMs = this.votePromiseStoredMs =
      cfg.votesRefusedUntilMs ?? Number.NEGATIVE_INFINITY;
    this.rand = new Rand(cfg.seed);
    const { hardState, confState } = storage.initialState();
    this.log = new RaftLog(storage, appliedIndex);
    assert(
      hardState.commit <= this.log.lastIndex(),
      `hardState.commit ${hardState.commit} beyond the log's last index`,
    );
    this.confLog = new ConfLog(confState);
    this.replayConfEntries(storage);
    this.trk = new ProgressTracker(cfg.inflightMessagesMax, cfg.learnerBytesPerTick);
    this.trk.setConf(this.confLog.current(), this.log.lastIndex() + 1);
    this.readOnly = new ReadOnly(hardState.term);
    this.becomeFollower(hardState.term, "");
    this.vote = hardState.vote;
  }

  /** The snapshot gives the membership at its index; conf entries after it change it further. */
  private replayConfEntries(storage: LogStorage): void {
    const last = storage.lastIndex();
    for (let lo = storage.firstIndex(); lo <= last; ) {
      const batch = storage.entries(lo, last + 1, messageBytesCeiling);
      this.confLog.append(batch);
      lo += batch.length;
    }
    this.confLog.commitTo(this.log.committed);
  }

  promotable(): boolean {
    return this.trk.isVoter(this.id);
  }

  send(m: Outgoing): void {
    const local = m.type === "prop" || m.type === "readIndex" || m.type === "transferLeader";
    const votes =
      m.type === "vote" ||
      m.type === "preVote" ||
      m.type === "voteResp" ||
      m.type === "preVoteResp";
    if (votes) assert(m.term !== undefined && m.term > 0, `${m.type} needs an explicit term`);
    const term = m.term ?? (local ? 0 : this.term);
    this.msgs.push({ ...m, from: this.id, term });
  }

  // Role transitions.

  private reset(term: number): void {
    if (term !== this.term) {
      this.term = term;
      this.vote = "";
    }
    this.lead = "";
    this.leaseValid = false;
    this.quiesced = false;
    this.quiesceElapsed = 0;
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.randomizedElectionTimeoutTicks =
      this.cfg.electionTimeoutTicks + this.rand.intBelow(this.cfg.electionTimeoutTicks);
    this.leadTransferee = "";
    this.leaseAcks = new Map();
    this.leaseRevoked = false;
    this.trk.votes.clear();
    this.readOnly = new ReadOnly(term);
    this.pendingReads = [];
    this.pendingConfIndex = 0;
    this.uncommitted = [];
    this.uncommittedBytes = 0;
    this.appendPending = false;
  }

  becomeFollower(term: number, lead: NodeId): void {
    this.reset(term);
    this.role = "follower";
    this.lead = lead;
    this.leaseValid = lead !== "";
  }

  /** PreVote (§9.6): ask without disturbing anyone; neither the term nor the vote changes. */
  becomePreCandidate(): void {
    assert(this.role !== "leader", "a leader cannot become a pre-candidate");
    this.role = "preCandidate";
    this.lead = "";
    this.electionElapsed = 0; // a pre-election gets a full timeout too
    this.leaseValid = false;
    this.trk.votes.clear();
  }

  becomeCandidate(): void {
    assert(this.role !== "leader", "a leader cannot become a candidate");
    this.reset(this.term + 1);
    this.vote = this.id;
    this.role = "candidate";
  }

  becomeLeader(): void {
    assert(this.role === "candidate", "only a candidate becomes leader");
    this.reset(this.term);
    this.role = "leader";
    this.lead = this.id;
    this.leaseValid = true;
    this.trk.resetProgress(this.id, this.log.lastIndex());
    // Conservatively treat any conf entry in the inherited tail as uncommitted.
    this.pendingConfIndex = this.log.lastIndex();
    // §5.4.2 / §8: an entry of the new term lets the leader commit what it inherited and learn
    // the commit index, which ReadIndex needs.
    this.appendEntries([{ type: "normal", data: new Uint8Array() }]);
  }

  /**
   * Leader: appends new entries (assigning term and index); false when the uncommitted-bytes
   * limit refuses them. The broadcast happens at the next flush.
   */
  appendEntries(proposals: readonly Pick<Entry, "type" | "data">[]): boolean {
    const bytes = proposals.reduce((sum, p) => sum + p.data.byteLength, 0);
    if (this.uncommittedBytes > 0 && this.uncommittedBytes + bytes > this.cfg.uncommittedBytesMax)
      return false;
    let index = this.log.lastIndex();
    const entries = proposals.map(
      (p): Entry => ({ term: this.term, index: ++index, type: p.type, data: p.data }),
    );
    const last = this.log.append(entries);
    this.uncommitted.push({ index: last, bytes });
    this.uncommittedBytes += bytes;
    if (this.confLog.append(entries)) this.trk.setConf(this.confLog.current(), last);
    this.trk.progress.get(this.id)?.maybeUpdate(last);
    this.appendPending = true;
    this.maybeCommit();
    return true;
  }

  /** Leader: advance the commit index to what a quorum of voters holds, if of this term. */
  maybeCommit(): boolean {
    if (!this.log.maybeCommit(this.trk.committed(), this.term)) return false;
    onCommitAdvanced(this);
    return true;
  }

  /** Follower: the leader says `index` is committed (bounded by what we hold). */
  commitTo(index: number): void {
    if (index <= this.log.committed) return;
    this.log.commitTo(index);
    onCommitAdvanced(this);
  }

  /** Re-derives membership after the log's tail changed (append or truncation). */
  syncConf(): void {
    this.trk.setConf(this.confLog.current(), this.log.lastIndex() + 1);
  }

  // Stepping.

  step(m: Message): void {
    if (this.quiesced && wakesUp(this, m)) wake(this, m.from);
    if (m.term > this.term && !acceptHigherTerm(this, m)) return;
    if (m.term !== 0 && m.term < this.term) return answerStaleTerm(this, m);
    switch (m.type) {
      case "vote":
      case "preVote":
        return handleVoteRequest(this, m);
    }
    switch (this.role) {
      case "leader":
        return stepLeader(this, m);
      case "candidate":
      case "preCandidate":
        return stepCandidate(this, m);
      case "follower":
        return stepFollower(this, m);
    }
  }
}
