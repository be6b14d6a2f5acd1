// The vocabulary of the consensus core: ids, log entries, persistent state, messages and Ready.
// Nothing here does I/O. Shapes follow etcd-io/raft (raftpb) so that readers of that codebase
// feel at home; ids are strings because a replica is named by its Durable Object name.

export type NodeId = string;

/** Durable state every member must persist before it sends the messages of the same Ready. */
export interface HardState {
  term: number;
  /** Who this member voted for in `term`; "" when it has not voted. */
  vote: NodeId;
  commit: number;
}

export const emptyHardState: HardState = { term: 0, vote: "", commit: 0 };

/** Membership: voters decide; learners only receive the log (e.g. read replicas near users). */
export interface ConfState {
  voters: NodeId[];
  learners: NodeId[];
}

export type ConfChangeType =
  | "addVoter"
  | "removeVoter"
  | "addLearner"
  | "promoteLearner"
  | "removeLearner";

/** One-server-at-a-time membership change, carried by an entry of type "conf". */
export interface ConfChange {
  type: ConfChangeType;
  nodeId: NodeId;
}

export type EntryType = "normal" | "conf";

/**
 * A log entry. `data` of a "normal" entry is the application's command (empty for the no-op a
 * new leader appends); of a "conf" entry it is `encodeConfChange(change)`.
 */
export interface Entry {
  term: number;
  index: number;
  type: EntryType;
  data: Uint8Array;
}

export interface SnapshotMetadata {
  index: number;
  term: number;
  /** Membership as of `index`; the log after `index` may change it further. */
  conf: ConfState;
}

/** The application's state machine at `metadata.index`, opaque to the core. */
export interface Snapshot {
  metadata: SnapshotMetadata;
  data: Uint8Array;
}

/** A piece of a snapshot in flight; a follower assembles chunks until `done`. */
export interface SnapshotChunk {
  metadata: SnapshotMetadata;
  /** Byte offset of `data` within the whole snapshot. */
  offset: number;
  data: Uint8Array;
  done: boolean;
}

export type MessageType =
  | "prop" // a follower forwards proposals to the leader
  | "app" // append entries (also carries commit)
  | "appResp"
  | "heartbeat"
  | "heartbeatResp"
  | "preVote"
  | "preVoteResp"
  | "vote"
  | "voteResp"
  | "snap" // one snapshot chunk
  | "snapResp"
  | "readIndex" // a follower asks the leader for a read index
  | "readIndexResp"
  | "timeoutNow" // leadership transfer: campaign at once, skipping PreVote
  | "transferLeader"; // a follower asks the leader to hand leadership to `transferee`

/**
 * One message between members. Optional fields are set only by the message types that use them.
 * The wire format version lives in the transport (src/replica), not here.
 */
export interface Message {
  type: MessageType;
  from: NodeId;
  to: NodeId;
  term: number;
  /** app: term of the entry at `index` (the entry before `entries`). vote/preVote: last log term. */
  logTerm?: number;
  /** app: index before `entries`. appResp: last index matched (or rejected). vote: last index. */
  index?: number;
  entries?: Entry[];
  commit?: number;
  reject?: boolean;
  /** appResp with reject: the follower's hint to back up to (fast backtracking). */
  rejectHint?: number;
  /** appResp with reject: term of the follower's entry at `rejectHint`, 0 if none. */
  rejectTerm?: number;
  /**
   * readIndex, readIndexResp: the read request. heartbeat(Resp): the read round being confirmed.
   * vote/preVote: "raft/transfer" when sent on a `timeoutNow` (overrides CheckQuorum leases).
   */
  context?: string;
  snapshot?: SnapshotChunk;
  /** snapResp: bytes of the snapshot (at `index`) the follower holds; the next chunk starts here. */
  snapshotOffset?: number;
  /**
   * heartbeat: the leader tells followers the group is idle and they may stop ticking.
   * heartbeatResp: the answer to such a heartbeat (it does not wake the leader).
   */
  quiesce?: boolean;
  /** transferLeader: the member that should become leader. */
  transferee?: NodeId;
  /**
   * heartbeat: the leader's clock when it built the heartbeat (read leases on). heartbeatResp:
   * the stamp of the heartbeat answered, which renews the leader's read lease (lease.ts).
   */
  sentAtMs?: number;
}

export interface ReadState {
  /** Apply up to this index, then the read tagged `context` may be served linearizably. */
  index: number;
  context: string;
}

export type Role = "follower" | "preCandidate" | "candidate" | "leader";

export interface SoftState {
  leader: NodeId;
  role: Role;
}

/**
 * What the caller must do, in this order, before calling `advance()`:
 *  1. persist `snapshot` (if any), then `entries`, then `hardState` (if any), atomically;
 *  2. send `messages` (only after step 1 is durable: they may promise what was persisted);
 *  3. apply `snapshot` (if any), then `committedEntries` in order, to the state machine;
 *  4. serve the reads in `readStates` once the applied index reaches their `index`.
 */
export interface Ready {
  softState?: SoftState;
  hardState?: HardState;
  entries: Entry[];
  snapshot?: Snapshot;
  committedEntries: Entry[];
  messages: Message[];
  readStates: ReadState[];
  /** False once the group is quiescent for this member: no `tick()` is needed until woken. */
  needsTicks: boolean;
  /**
   * Read leases: persist this with the hard state (step 1), and give it back as
   * `RaftConfig.votesRefusedUntilMs` after a restart: until then this member promised not to vote.
   */
  votePromiseUntilMs?: number;
}

/** Limits and timing, in ticks and bytes. */
export interface RaftConfig {
  id: NodeId;
  electionTimeoutTicks: number;
  heartbeatIntervalTicks: number;
  /** Upper bound on `app` messages in flight to one follower (pipelining window). */
  inflightMessagesMax: number;
  /** Upper bound on the bytes of entry data in one `app` message (at least one entry is sent). */
  messageBytesMax: number;
  /** Upper bound on one snapshot chunk's data. */
  snapshotChunkBytesMax: number;
  /** Uncommitted proposal bytes the leader accepts before it refuses more (backpressure). */
  uncommittedBytesMax: number;
  /**
   * Catch-up pacing (pacing.ts), off when 0 or absent: entry and snapshot bytes the leader sends
   * each learner per tick. A learner counts in no quorum, so holding it back delays no commit.
   */
  learnerBytesPerTick?: number;
  /** Ticks a leader waits with nothing to do before it puts the group to sleep; 0 disables. */
  quiesceAfterTicks: number;
  preVote: boolean;
  checkQuorum: boolean;
  /** Seed of the PRNG that randomizes election timeouts; differs per member. */
  seed: number;
  /**
   * Read leases (lease.ts), off when 0 or absent: how long after a heartbeat's stamp a quorum's
   * answer lets the leader serve reads without a round. Must be shorter than voteRefusalMs by
   * more than clock-rate drift and clock-reading lag can eat. Every call that takes `nowMs` then
   * needs it.
   */
  readLeaseMs?: number;
  /** Read leases: how long a member refuses votes after hearing from the leader, by its clock. */
  voteRefusalMs?: number;
  /** Read leases: the persisted end of this member's promise (Ready.votePromiseUntilMs). */
  votesRefusedUntilMs?: number;
  /**
   * Highest log index the application's state machine already reflects (e.g. persisted with
   * it). On restart, committed entries after it (and after the snapshot) are delivered again.
   * Defaults to the snapshot's index.
   */
  appliedIndex?: number;
}
