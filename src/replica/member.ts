// One Raft member on a Durable Object: it drives the core (persist → send → apply → advance) and
// offers the operations the ReplicaDO's RPC methods are made of. Everything here is synchronous
// except the peer RPCs (transport.ts) and the waits of callers: so a Ready is always handled whole,
// and other events can interleave only between Readies.
import { assert } from "../raft/assert.ts";
import { RawNode, bootstrap, type Status } from "../raft/index.ts";
import type { HardState, Message, NodeId, Ready } from "../raft/types.ts";
import { AlarmClock } from "./alarm.ts";
import { AppliedState } from "./apply.ts";
import type { ReplicaConfig } from "./config.ts";
import { noFaults, type Faults } from "./faults.ts";
import type { GroupSpec, StoredIdentity } from "./group.ts";
import { encodePayload } from "./payload.ts";
import { Proposals, type ProposalEnd } from "./proposals.ts";
import { ReadIndexBatcher } from "./read-index.ts";
import { SqliteLogStorage } from "./sqlite-storage.ts";
import { emptyStats, type ReplicaStats } from "./stats.ts";
import { Transport, type PeerEndpoint } from "./transport.ts";
import { ApplyWaiters } from "./waiters.ts";
import { checkWireVersion, wireVersion, type Envelope, type ReplyEnvelope } from "./wire.ts";

export interface MemberDeps {
  storage: DurableObjectStorage;
  identity: StoredIdentity;
  config: ReplicaConfig;
  /** The stub of a peer replica (by its DO name). */
  endpoint: (peer: NodeId) => PeerEndpoint;
}

export type ProposeAnswer =
  | ProposalEnd
  | { type: "notLeader"; leaderHint: NodeId | null }
  /** The leader refused (backpressure, a transfer in progress): retry after a short wait. */
  | { type: "refused"; reason: string; message: string };

export class Member {
  readonly id: NodeId;
  readonly group: GroupSpec;
  readonly stats: ReplicaStats = emptyStats();
  faults: Faults = noFaults;
  /** Set when handling a Ready failed half-way: the object must be reloaded from storage. */
  broken = false;

  readonly #deps: MemberDeps;
  readonly #storage: SqliteLogStorage;
  readonly #node: RawNode;
  readonly #clock: AlarmClock;
  readonly #transport: Transport;
  readonly #proposals = new Proposals();
  readonly #reads: ReadIndexBatcher;
  readonly applied: AppliedState;
  readonly waiters = new ApplyWaiters();
  #needsTicks = true;
  #isLeader = false;
  #driving = false;
  #driveScheduled = false;
  #lastLeaderContactMs: number | null = null;
  readonly #unreachable = new Set<NodeId>();
  /** Waiters also watch leadership (a proposal waiting out an election). */
  #softStateChanged = false;

  constructor(deps: MemberDeps) {
    this.#deps = deps;
    this.id = deps.identity.self;
    this.group = deps.identity.group;
    const sql = deps.storage.sql;
    this.#storage = new SqliteLogStorage(sql);
    if (this.#storage.lastIndex() === 0 && this.#storage.initialState().hardState.term === 0) {
      deps.storage.transactionSync(() => bootstrap(this.#storage, { voters: this.group.members.map((m) => m.id), learners: [] }));
    }
    this.#durableHard = this.#storage.initialState().hardState;
    const snapshot = this.#storage.snapshot();
    this.applied = new AppliedState(snapshot);
    this.#node = new RawNode(this.#raftConfig(), this.#storage);
    this.#clock = new AlarmClock(deps.storage, deps.config.tickMs);
    this.#transport = new Transport({
      endpoint: deps.endpoint,
      envelope: (to, messages) => ({ v: wireVersion, from: this.id, to, group: this.group, messages }),
      onReply: (reply) => this.#onReply(reply),
      onUnreachable: (peer, error) => this.#onUnreachable(peer, error),
      faults: () => this.faults,
      stats: this.stats,
      rpcsInFlightMax: deps.config.peerRpcsInFlightMax,
      rpcTimeoutMs: deps.config.peerRpcTimeoutMs,
    });
    this.#reads = new ReadIndexBatcher({
      issue: (context) => this.#issueReadIndex(context),
      timeoutMs: deps.config.readIndexWaitMsMax,
    });
    // Replay committed entries after the snapshot so reads see the state before the crash. The
    // timer stays off: loading the object must not wake a sleeping group.
    this.#drive(undefined, false);
  }

  #raftConfig() {
    const c = this.#deps.config;
    const seed = crypto.getRandomValues(new Uint32Array(1))[0] ?? 1;
    return {
      id: this.id,
      electionTimeoutTicks: c.electionTimeoutTicks,
      heartbeatIntervalTicks: c.heartbeatIntervalTicks,
      inflightMessagesMax: c.inflightMessagesMax,
      messageBytesMax: c.messageBytesMax,
      snapshotChunkBytesMax: c.snapshotChunkBytesMax,
      uncommittedBytesMax: c.uncommittedBytesMax,
      quiesceAfterTicks: c.quiesceAfterTicks,
      preVote: true,
      checkQuorum: true,
      seed,
      appliedIndex: this.applied.index,
    };
  }

  status(): Status {
    return this.#node.status();
  }

  get lastLeaderContactMs(): number | null {
    return this.#isLeader ? Date.now() : this.#lastLeaderContactMs;
  }

  get alarmArmedAtMs(): number | null | undefined {
    return this.#clock.armedAtMs;
  }

  // ---------------------------------------------------------------------------------------------
  // Client operations

  /** Leader: propose and wait until applied here. Follower: say who leads (writes are not forwarded). */
  async propose(command: Uint8Array): Promise<ProposeAnswer> {
    let status = this.#node.status();
    if (status.role === "candidate" || status.role === "preCandidate") {
      // An election is running here (a new group, a failover): its result is a round trip away.
      await this.waiters.until(() => this.#leaderKnown(), this.#deps.config.electionWaitMsMax);
      status = this.#node.status();
    }
    if (status.role !== "leader") {
      this.#wakeForClient(status);
      return { type: "notLeader", leaderHint: status.leader === "" ? null : status.leader };
    }
    const id = this.#proposals.nextId();
    const result = this.#node.propose(encodePayload(id, command));
    if (!result.ok) {
      this.#drive();
      return { type: "refused", reason: result.reason, message: result.message };
    }
    this.stats.proposals++;
    const end = this.#proposals.wait(id, this.#deps.config.proposalWaitMsMax);
    this.#driveSoon();
    return end;
  }

  /**
   * The index a linearizable read must wait for (ReadIndex, on any member), already applied when
   * this resolves; null when no leader confirmed it in time (an election: retry elsewhere).
   */
  async readBarrier(): Promise<number | null> {
    const index = await this.#reads.request();
    if (index === null) return null;
    const ok = await this.waiters.until(() => this.applied.index >= index, this.#deps.config.readIndexWaitMsMax);
    return ok ? index : null;
  }

  #leaderKnown(): boolean {
    const s = this.#node.status();
    return s.role === "leader" || (s.role === "follower" && s.leader !== "");
  }

  /** A client reached a quiescent follower whose leader may have died: start ticking again. */
  #wakeForClient(status: Status): void {
    if (status.quiesced) {
      // The core has no bare wake(); a read index wakes the member and pokes the leader, and
      // if the leader is gone the member campaigns after its election timeout.
      this.#node.readIndex(`wake/${this.id}`);
      this.#drive();
    }
    // A freshly loaded member has not armed its timer yet (loading must not wake a group).
    this.#clock.update(this.#needsTicks && !this.faults.stopped);
  }

  /** Campaigns at once on a brand-new group, instead of waiting out an election timeout. */
  campaignIfNew(): void {
    const s = this.#node.status();
    if (s.term <= 1 && s.leader === "" && s.role === "follower") {
      this.#node.campaign();
      this.#drive();
    }
  }

  campaign(): void {
    this.#node.campaign();
    this.#drive();
  }

  transferLeadership(to: NodeId): void {
    this.#node.transferLeadership(to);
    this.#drive();
  }

  // ---------------------------------------------------------------------------------------------
  // Peers and time

  /** A peer's messages: step them, handle the Ready, and return what goes back to the sender. */
  deliver(envelope: Envelope): ReplyEnvelope {
    assert(envelope.to === this.id, `envelope for ${envelope.to} delivered to ${this.id}`);
    this.stats.rpcsReceived++;
    this.#step(envelope.messages);
    const messages = this.#drive(envelope.from);
    return { v: wireVersion, from: this.id, to: envelope.from, messages };
  }

  /** One tick of logical time (the alarm). */
  tick(): void {
    this.#clock.fired();
    this.stats.alarmsFired++;
    this.#node.tick();
    // Commit-only appends wait for the next message or, at the latest, this tick.
    this.#transport.flushAll();
    this.#drive();
  }

  /** Keeps the next tick scheduled if one is needed (after a failed tick). */
  armTimer(): void {
    this.#clock.update(this.#needsTicks && !this.faults.stopped);
  }

  /** After `stopped` was cleared: resume ticking. */
  resume(): void {
    this.#drive();
    this.#clock.update(this.#needsTicks);
  }

  stop(): void {
    this.#proposals.endAll(`replica ${this.id} stopped`);
    this.waiters.cancelAll();
    this.#clock.update(false);
  }

  #step(messages: readonly Message[]): void {
    const leader = this.#node.status().leader;
    for (const m of messages) {
      if (m.from === leader && leader !== "") this.#lastLeaderContactMs = Date.now();
      this.#node.step(m);
    }
  }

  #onReply(reply: ReplyEnvelope): void {
    // Runs after an await: this member may have been stopped, or moved on to a newer term, while
    // the RPC was out. Stopped members drop the reply; the core itself ignores stale terms.
    if (this.faults.stopped) return;
    checkWireVersion(reply.v, reply.from);
    if (this.#unreachable.delete(reply.from)) console.info(`replica ${this.id}: peer ${reply.from} is reachable again`);
    this.#step(reply.messages);
    this.#drive();
  }

  #onUnreachable(peer: NodeId, error: unknown): void {
    const overloaded = (error as { overloaded?: unknown } | null)?.overloaded === true;
    // Logged once per outage, not once per heartbeat.
    if (!this.#unreachable.has(peer)) console.warn(`replica ${this.id}: peer ${peer} unreachable${overloaded ? " (overloaded)" : ""}: ${String(error)}`);
    this.#unreachable.add(peer);
    if (this.faults.stopped) return;
    this.#node.reportUnreachable(peer);
    this.#drive();
  }

  #issueReadIndex(context: string): void {
    const result = this.#node.readIndex(context);
    if (!result.ok) {
      // No leader known: keep ticking, so that this member finds one or campaigns.
      this.#clock.update(this.#needsTicks && !this.faults.stopped);
      throw new Error(`read index refused (${result.reason}): ${result.message}`);
    }
    this.#driveSoon();
  }

  // ---------------------------------------------------------------------------------------------
  // The Ready loop

  /**
   * Drives soon, batching: proposals and reads that arrive while every peer has an RPC in
   * flight wait for the next reply (which drives) and leave together in one append.
   */
  #driveSoon(): void {
    const peers = this.group.members.map((m) => m.id).filter((id) => id !== this.id);
    if (peers.length > 0 && !this.#transport.anyIdle(peers)) return;
    if (this.#driveScheduled) return;
    this.#driveScheduled = true;
    queueMicrotask(() => {
      this.#driveScheduled = false;
      if (!this.faults.stopped) this.#drive();
    });
  }

  /**
   * Handles Readies until there are none. Messages to `replyTo` are returned (they ride on the
   * reply to its RPC) instead of being sent.
   */
  #drive(replyTo?: NodeId, armTimer = true): Message[] {
    assert(!this.#driving, "drive() re-entered");
    this.#driving = true;
    const reply: Message[] = [];
    try {
      while (this.#node.hasReady()) {
        const rd = this.#node.ready();
        this.#persist(rd);
        for (const m of rd.messages) (m.to === replyTo ? reply : this.#outbox).push(m);
        this.#apply(rd);
        this.#node.advance();
        this.#needsTicks = rd.needsTicks;
      }
    } catch (error) {
      this.broken = true;
      throw error;
    } finally {
      this.#driving = false;
    }
    const outbox = this.#outbox.splice(0);
    if (outbox.length > 0) this.#transport.send(outbox);
    if (replyTo !== undefined) reply.push(...this.#transport.take(replyTo));
    if (!this.#needsTicks) this.#transport.flushAll(); // nothing may linger while asleep
    if (armTimer) this.#clock.update(this.#needsTicks && !this.faults.stopped);
    return reply;
  }

  readonly #outbox: Message[] = [];
  /** The hard state on disk. */
  #durableHard: HardState;
  /** A newer hard state that differs from the durable one only in its commit index. */
  #commitOnly: HardState | null = null;

  /**
   * Step 1 of a Ready: one synchronous transaction, so the output gate holds every reply and
   * message until it is durable. A Ready that only moves the commit index is not written on its
   * own: the commit index is volatile state in Raft (§5, Figure 2) and is recomputed from a
   * quorum after a restart, so it rides along with the next write instead. That keeps the
   * leader at one transaction per round and lets its answer to the client leave without waiting.
   */
  #persist(rd: Ready): void {
    const hard = rd.hardState;
    if (hard !== undefined && hard.term === this.#durableHard.term && hard.vote === this.#durableHard.vote) {
      this.#commitOnly = hard;
    } else if (hard !== undefined) {
      this.#commitOnly = null;
    }
    if (rd.snapshot === undefined && rd.entries.length === 0 && (hard === undefined || this.#commitOnly === hard)) return;
    this.#transaction(() => {
      if (rd.snapshot !== undefined) this.#storage.applySnapshot(rd.snapshot);
      if (rd.entries.length > 0) this.#storage.append(rd.entries);
    });
    this.stats.readies++;
  }

  /** A storage transaction that also writes the newest hard state, if it is not yet durable. */
  #transaction(write: () => void): void {
    const hard = this.#commitOnly ?? this.#node.status();
    try {
      this.#deps.storage.transactionSync(() => {
        write();
        if (!sameHardState(hard, this.#durableHard)) this.#storage.setHardState(pickHardState(hard));
      });
    } catch (error) {
      // Rolled back: the core now believes more than the disk holds. Only a reload is safe.
      this.#storage.reload();
      throw error;
    }
    this.#durableHard = pickHardState(hard);
    this.#commitOnly = null;
    this.stats.storageTransactions++;
  }

  /** Steps 3 and 4: apply the snapshot and committed entries, serve reads, note leadership. */
  #apply(rd: Ready): void {
    if (rd.softState !== undefined) this.#onSoftState(rd.softState.role === "leader");
    if (rd.snapshot !== undefined) {
      this.applied.restore(rd.snapshot);
      this.stats.snapshotsRestored++;
    }
    const applied = this.applied.apply(rd.committedEntries, (id, outcome) => {
      this.#proposals.end(id, { type: "applied", outcome });
    });
    this.stats.entriesApplied += applied;
    for (const rs of rd.readStates) this.#reads.onReadState(rs.context, rs.index);
    if (applied > 0 || rd.snapshot !== undefined) this.#maybeCompact();
    if (applied > 0 || rd.snapshot !== undefined || this.#softStateChanged) {
      this.#softStateChanged = false;
      this.waiters.notify();
    }
  }

  #onSoftState(isLeader: boolean): void {
    if (this.#isLeader && !isLeader) {
      // Entries proposed here may still commit under the next leader, or vanish: the caller
      // retries with the same idempotency key, and the store answers the first outcome.
      this.#proposals.endAll(`replica ${this.id} lost leadership`);
    }
    this.#isLeader = isLeader;
    this.#softStateChanged = true;
  }

  /** Snapshots the store and drops the log before it, every snapshotEntriesInterval entries. */
  #maybeCompact(): void {
    const index = this.applied.index;
    if (index - this.#storage.firstIndex() + 1 < this.#deps.config.snapshotEntriesInterval) return;
    const snapshot = this.applied.snapshot(this.#storage.term(index));
    this.#transaction(() => this.#storage.compact(snapshot));
    this.stats.snapshotsTaken++;
  }
}

function pickHardState(h: HardState): HardState {
  return { term: h.term, vote: h.vote, commit: h.commit };
}

function sameHardState(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commit === b.commit;
}
