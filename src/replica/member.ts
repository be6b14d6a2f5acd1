// One Raft member on a Durable Object: it drives the core (persist → send → apply → advance) and
// offers the operations the ReplicaDO's RPC methods are made of. Everything here is synchronous
// except the peer RPCs (transport.ts) and the waits of callers: so a Ready is always handled whole,
// and other events can interleave only between Readies.
import { assert } from "../base/index.ts";
import {
  RawNode,
  bootstrap,
  defaultRaftConfig,
  type BasicStatus,
  type Status,
} from "../raft/index.ts";
import type { ConfChange, ConfState, Message, NodeId, RaftConfig, Ready } from "../raft/index.ts";
import { encodeCommand, type Lease } from "../store/index.ts";
import { AlarmClock } from "./alarm.ts";
import { LeaseExpiry } from "./lease-expiry.ts";
import { AppliedState } from "./apply.ts";
import type { ReplicaConfig } from "./config.ts";
import { noFaults, type Faults } from "./faults.ts";
import type { GroupSpec, StoredIdentity } from "./group.ts";
import { encodePayload } from "./payload.ts";
import { ReadyPersister } from "./persist.ts";
import { Proposals } from "./proposals.ts";
import type { MembershipAnswer, ProposeAnswer } from "./rpc.ts";
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
  /** Called once when this member applies its own removal from the group. */
  onRemoved?: () => void;
  /**
   * Called once, at once, when an error inside a Ready left the core and the disk out of step
   * (`broken`): the host must drop this member and load afresh from storage. A drive that a
   * request runs would throw to its caller anyway; this is for the drives nobody awaits (a
   * deferred drive, a peer's reply), whose errors the transport counts as an unreachable peer.
   */
  onBroken?: (error: unknown) => void;
}

/** Callers waiting inside this member right now. */
export interface WaitingCounts {
  proposalsWaiting: number;
  readsWaiting: number;
  /** Reads waiting for an index or revision to be applied, and long polls. */
  waiters: number;
}

/** Readies handled in one drive() before it is declared stuck (normally 1–3). */
const drainReadiesMax = 10_000;

export class Member {
  readonly id: NodeId;
  readonly group: GroupSpec;
  readonly stats: ReplicaStats = emptyStats();
  faults: Faults = noFaults;
  /** Set when handling a Ready failed half-way: the object must be reloaded from storage. */
  broken = false;

  readonly #deps: MemberDeps;
  readonly #storage: SqliteLogStorage;
  readonly #persister: ReadyPersister;
  readonly #node: RawNode;
  readonly #clock: AlarmClock;
  readonly #leases: LeaseExpiry;
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
  /** Messages of the Readies handled so far in this drive, sent once they are all durable. */
  readonly #outbox: Message[] = [];
  /** Waiters also watch leadership (a proposal waiting out an election). */
  #softStateChanged = false;
  /** Whether this object has known a leader since it was loaded. */
  #everKnewLeader = false;
  /** The leader as of the last Ready ("" when none is known). */
  #leader: NodeId = "";
  /** The other members as of the applied configuration (recomputed when it changes). */
  #peersOf: { conf: ConfState; peers: NodeId[] } | null = null;
  /** This one's place among the initial members (0 for a joiner): its compaction phase. */
  readonly #place: number;
  /** Set when it applied its own removal (persisted in its identity by the ReplicaDO). */
  removed: boolean;

  constructor(deps: MemberDeps) {
    this.#deps = deps;
    this.id = deps.identity.self;
    this.group = deps.identity.group;
    this.removed = deps.identity.removed === true;
    this.#place = Math.max(
      0,
      this.group.members.findIndex((m) => m.id === this.id),
    );
    const sql = deps.storage.sql;
    this.#storage = new SqliteLogStorage(sql);
    const empty =
      this.#storage.lastIndex() === 0 && this.#storage.initialState().hardState.term === 0;
    // A joiner starts empty: the leader sends it a snapshot once it is added as a learner.
    if (empty && deps.identity.join !== true) {
      deps.storage.transactionSync(() =>
        bootstrap(this.#storage, { voters: this.group.members.map((m) => m.id), learners: [] }),
      );
    }
    this.#persister = new ReadyPersister(deps.storage, this.#storage, this.stats);
    const snapshot = this.#storage.snapshot();
    this.applied = new AppliedState(snapshot);
    this.#node = new RawNode(this.#raftConfig(), this.#storage);
    this.#clock = new AlarmClock(deps.storage, deps.config.tickMs);
    const { tickMs, electionTimeoutTicks } = deps.config;
    // The core randomizes the timeout in [n, 2n) ticks: extend by the longest.
    const extendMs = 2 * electionTimeoutTicks * tickMs;
    this.#leases = new LeaseExpiry((c) => this.propose(c), extendMs, this.id);
    this.#transport = new Transport({
      endpoint: deps.endpoint,
      envelope: (to, messages) => ({
        v: wireVersion,
        from: this.id,
        to,
        group: this.group,
        messages,
      }),
      onReply: (reply) => this.#onReply(reply),
      onUnreachable: (peer, error) => this.#onUnreachable(peer, error),
      faults: () => this.faults,
      stats: this.stats,
      rpcsInFlightMax: deps.config.peerRpcsInFlightMax,
      controlRpcsInFlightMax: deps.config.peerControlRpcsInFlightMax,
      rpcTimeoutMs: deps.config.peerRpcTimeoutMs,
      rpcBytesMax: deps.config.peerRpcBytesMax,
    });
    this.#reads = new ReadIndexBatcher({
      issue: (context) => this.#issueReadIndex(context),
      // Usually applied already (the leader applies before it confirms): no wait, no timer.
      applied: (index) =>
        this.applied.index >= index
          ? index
          : this.waiters
              .until(() => this.applied.index >= index, deps.config.readIndexWaitMsMax)
              .then((ok) => (ok ? index : null)),
      timeoutMs: deps.config.readIndexWaitMsMax,
    });
    // Replay committed entries after the snapshot so reads see the state before the crash. The
    // timer stays off: loading the object must not wake a sleeping group.
    this.#drive(undefined, false);
  }

  #raftConfig(): RaftConfig {
    const c = this.#deps.config;
    const seed = crypto.getRandomValues(new Uint32Array(1))[0] ?? 1;
    return defaultRaftConfig(this.id, seed, {
      electionTimeoutTicks: c.electionTimeoutTicks,
      heartbeatIntervalTicks: c.heartbeatIntervalTicks,
      inflightMessagesMax: c.inflightMessagesMax,
      messageBytesMax: c.messageBytesMax,
      snapshotChunkBytesMax: c.snapshotChunkBytesMax,
      uncommittedBytesMax: c.uncommittedBytesMax,
      learnerBytesPerTick: c.learnerBytesPerTick,
      quiesceAfterTicks: c.quiesceAfterTicks,
      appliedIndex: this.applied.index,
      readLeaseMs: c.readLeaseMs,
      voteRefusalMs: c.voteRefusalMs,
      votesRefusedUntilMs: this.#storage.votePromiseUntilMs(),
    });
  }

  status(): Status {
    return this.#node.status();
  }

  basicStatus(): BasicStatus {
    return this.#node.basicStatus();
  }

  get lastLeaderContactMs(): number | null {
    return this.#isLeader ? Date.now() : this.#lastLeaderContactMs;
  }

  waiting(): WaitingCounts {
    return {
      proposalsWaiting: this.#proposals.size,
      readsWaiting: this.#reads.waiting,
      waiters: this.waiters.size,
    };
  }

  get alarmArmedAtMs(): number | null | undefined {
    return this.#clock.armedAtMs;
  }

  // ---------------------------------------------------------------------------------------------
  // Client operations

  /** Leader: propose and wait until applied here. Follower: say who leads (writes are not forwarded). */
  async propose(command: Uint8Array): Promise<ProposeAnswer> {
    const electing = this.#awaitLeader();
    if (electing !== undefined) await electing;
    const status = this.#node.basicStatus();
    if (status.role !== "leader") {
      return { type: "notLeader", leaderHint: status.leader === "" ? null : status.leader };
    }
    // A write of a namespace moving (a reshard) is answered here: the log would say the same.
    const gated = this.applied.store.gate(command);
    if (gated !== null) return { type: "applied", outcome: gated };
    const id = this.#proposals.nextId();
    // Schemas are judged once, here, when the values pass them (Store.vouch), not per replica.
    const vouched = this.applied.store.vouch(command);
    const result = this.#node.propose(encodePayload(id, vouched));
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
   * A keep-alive: renewed in the memory of a leader that knows it leads (lease-expiry.ts says
   * why that is safe): on its read lease, one DO request and no round; asleep (a quiesced leader
   * holds no read lease), after a ReadIndex round. Not leading: a leaseKeepAlive proposal, which
   * waits out an election or says who leads.
   */
  async keepAlive(id: string, atMs: number): Promise<ProposeAnswer> {
    const gated = this.applied.store.gate({ type: "leaseKeepAlive", id, atMs });
    if (gated !== null) return { type: "applied", outcome: gated }; // its namespace moves
    const leads = this.leaseRead() || (this.#isLeader && (await this.readBarrier()) !== null);
    if (!leads || !this.#isLeader)
      return this.propose(encodeCommand({ type: "leaseKeepAlive", id, atMs }));
    const store = this.applied.store;
    const lease = this.#leases.renew(store, id, Date.now());
    if (lease === null)
      return { type: "applied", outcome: { type: "notFound", revision: store.revision } };
    // Asleep, the alarm waits for the earliest expiry: move it to the renewed one, or it would
    // fire for nothing (a DO request) before each renewal.
    if (!this.#wantsTicks()) this.#clock.postpone(this.#leases.wakeAtMs(store, true));
    return { type: "applied", outcome: { type: "lease", revision: store.revision, lease } };
  }

  /** A lease as a read answers it: on the leader, with the renewals it holds in memory. */
  leaseView(lease: Lease | null): Lease | null {
    return this.#isLeader ? this.#leases.view(lease) : lease;
  }

  /**
   * A linearizable read on the leader's read lease: true when this member may answer from its
   * applied state right now, with no round (src/raft/lease.ts); false: take readBarrier().
   */
  leaseRead(): boolean {
    if (!this.#isLeader || this.faults.stopped || this.faults.noLeaseReads) return false;
    const index = this.#node.leaseRead(this.#now());
    if (index === null || this.applied.index < index) return false;
    this.stats.leaseReads++;
    return true;
  }

  /**
   * The index a linearizable read must wait for (ReadIndex, on any member), already applied when
   * this resolves; null when no leader confirmed it in time (an election: retry elsewhere).
   */
  readBarrier(): Promise<number | null> {
    const electing = this.#awaitLeader(false); // the read index itself wakes a sleeping member
    // Every read of a batch shares the batch's promise: no promise of its own on the hot path.
    return electing === undefined
      ? this.#reads.request()
      : electing.then(() => this.#reads.request());
  }

  #leaderKnown(): boolean {
    const s = this.#node.basicStatus();
    return s.role === "leader" || (s.role === "follower" && s.leader !== "");
  }

  /**
   * A client is here: make sure the group is awake and, when no leader is known, wait briefly
   * for an election (its result is a round trip or an election timeout away).
   */
  #awaitLeader(nudgeSleeping = true): Promise<unknown> | undefined {
    this.#wakeForClient(nudgeSleeping);
    if (this.#leaderKnown()) return undefined; // the common case costs no promise
    return this.waiters.until(() => this.#leaderKnown(), this.#deps.config.electionWaitMsMax);
  }

  /** A client (or the router's ensure) is here: wake the group, elect a leader if none is known. */
  wake(): void {
    this.#wakeForClient();
  }

  #wakeForClient(nudgeSleeping = true): void {
    const status = this.#node.basicStatus();
    if (nudgeSleeping && status.quiesced && status.role !== "leader") {
      // A leader wakes by itself on the proposal or read that follows. A follower that will only
      // answer notLeader needs a nudge: the core has no bare wake(), but a read index wakes the
      // member and pokes the leader, and if the leader is gone the member campaigns after its
      // election timeout.
      this.#node.readIndex(`wake/${this.id}`);
      this.#drive();
    } else if (status.role === "follower" && status.leader === "" && !this.#everKnewLeader) {
      // Freshly loaded and nobody to ask (leaders are volatile): campaign now rather than after
      // an election timeout. PreVote keeps this from disturbing a group whose leader is alive:
      // members that hear from it refuse the pre-vote.
      this.#node.campaign(this.#now());
      this.#drive();
    }
    // A freshly loaded member has not armed its timer yet (loading must not wake a group).
    this.#armClock();
  }

  campaign(): void {
    this.#node.campaign(this.#now());
    this.#drive();
  }

  transferLeadership(to: NodeId): void {
    this.#node.transferLeadership(to);
    this.#drive();
  }

  /** No longer a member (the caller saw its removal commit): serve nothing, never tick again. */
  retire(): void {
    if (this.removed) return;
    this.removed = true;
    this.#deps.onRemoved?.();
    this.#proposals.endAll(`replica ${this.id} was removed`);
    this.waiters.cancelAll();
    this.#clock.update(false);
  }

  /** Leader: proposes one membership change (applied once committed); else who leads. */
  async changeMembership(cc: ConfChange): Promise<MembershipAnswer> {
    const electing = this.#awaitLeader();
    if (electing !== undefined) await electing;
    const status = this.#node.basicStatus();
    if (status.role !== "leader")
      return { type: "notLeader", leaderHint: status.leader === "" ? null : status.leader };
    const result = this.#node.proposeConfChange(cc);
    this.#drive();
    return result.ok
      ? { type: "proposed" }
      : { type: "refused", reason: result.reason, message: result.message };
  }

  #peers(): NodeId[] {
    const conf = this.applied.conf;
    if (this.#peersOf?.conf !== conf) {
      const ids = [...conf.voters, ...conf.learners].filter((id) => id !== this.id);
      this.#peersOf = { conf, peers: ids };
    }
    return this.#peersOf.peers;
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
    if (this.removed) return this.#clock.update(false);
    this.#clock.fired();
    this.stats.alarmsFired++;
    this.#node.tick(this.#now());
    // Commit-only appends wait for the next message or, at the latest, this tick.
    this.#transport.flushAll();
    this.#drive();
    if (this.#isLeader && !this.faults.stopped) this.#leases.act(this.applied.store, Date.now());
  }

  /** Keeps the next tick scheduled if one is needed (after a failed tick). */
  armTimer(): void {
    this.#armClock();
  }

  /** After `stopped` was cleared: resume ticking. */
  resume(): void {
    this.#drive();
    this.#armClock();
  }

  /** The next tick while ticks are needed; else the leader's next lease expiry; else nothing. */
  #armClock(): void {
    const on = !this.faults.stopped && !this.removed;
    const wakeAtMs = on ? this.#leases.wakeAtMs(this.applied.store, this.#isLeader) : null;
    this.#clock.update(this.#wantsTicks(), wakeAtMs);
  }

  /** This member's clock: the machine's, skewed by fault injection (clockSkewMs) in tests. */
  #now(): number {
    return Date.now() + this.faults.clockSkewMs;
  }

  /** A removed member never ticks again: it costs nothing, and it cannot disturb the group. */
  #wantsTicks(): boolean {
    return this.#needsTicks && !this.faults.stopped && !this.removed;
  }

  stop(): void {
    this.#proposals.endAll(`replica ${this.id} stopped`);
    this.waiters.cancelAll();
    this.#clock.update(false);
  }

  #step(messages: readonly Message[]): void {
    for (const m of messages) {
      const nowMs = this.#now();
      if (m.from === this.#leader && m.from !== "") this.#lastLeaderContactMs = nowMs;
      this.#node.step(m, nowMs);
    }
  }

  #onReply(reply: ReplyEnvelope): void {
    // Runs after an await: this member may have been stopped, or moved on to a newer term, while
    // the RPC was out. Stopped members drop the reply; the core itself ignores stale terms.
    if (this.faults.stopped) return;
    checkWireVersion(reply.v, reply.from);
    if (this.#unreachable.delete(reply.from))
      console.info(`replica ${this.id}: peer ${reply.from} is reachable again`);
    this.#step(reply.messages);
    this.#drive();
  }

  #onUnreachable(peer: NodeId, error: unknown): void {
    const overloaded = (error as { overloaded?: unknown } | null)?.overloaded === true;
    // Logged once per outage, not once per heartbeat.
    if (!this.#unreachable.has(peer))
      console.warn(
        `replica ${this.id}: peer ${peer} unreachable${overloaded ? " (overloaded)" : ""}: ${String(error)}`,
      );
    this.#unreachable.add(peer);
    if (this.faults.stopped) return;
    this.#node.reportUnreachable(peer);
    this.#drive();
  }

  #issueReadIndex(context: string): void {
    const result = this.#node.readIndex(context);
    if (!result.ok) {
      // No leader known: keep ticking, so that this member finds one or campaigns.
      this.#armClock();
      throw new Error(`read index refused (${result.reason}): ${result.message}`);
    }
    this.#driveSoon();
  }

  // ---------------------------------------------------------------------------------------------
  // The Ready loop

  /**
   * Drives soon, batching: proposals and reads that arrive while every peer has an append in
   * flight wait for the next reply (which drives) and leave together in one append. A heartbeat or
   * commit-only append on the wire does not count: waiting for it would add a WAN round trip.
   */
  #driveSoon(): void {
    const peers = this.#peers();
    if (peers.length > 0 && !this.#transport.anyIdle(peers)) return;
    if (this.#driveScheduled) return;
    this.#driveScheduled = true;
    queueMicrotask(() => {
      this.#driveScheduled = false;
      if (this.faults.stopped || this.broken) return;
      try {
        this.#drive();
      } catch (error) {
        if (!this.broken) throw error;
        // Nobody awaits this drive: the host heard of it (onBroken) and loads afresh.
        console.error(`replica ${this.id}: a deferred drive broke inside a Ready`, error);
      }
    });
  }

  /**
   * Handles Readies until there are none. Messages to `replyTo` are returned (they ride on the
   * reply to its RPC) instead of being sent.
   */
  #drive(replyTo?: NodeId, armTimer = true): Message[] {
    assert(!this.#driving, "drive() re-entered");
    // Its core and disk are out of step: only a fresh load from storage may go on (onBroken).
    assert(!this.broken, `replica ${this.id} broke inside a Ready and must be loaded afresh`);
    this.#driving = true;
    const reply: Message[] = [];
    try {
      for (let readies = 0; this.#node.hasReady(); readies++) {
        // Each Ready makes progress; a core that keeps handing them out is stuck, not busy.
        assert(
          readies < drainReadiesMax,
          `more than ${drainReadiesMax} Readies in one drive: the core does not make progress`,
        );
        const rd = this.#node.ready();
        if (this.faults.failWrites)
          throw new Error(`replica ${this.id}: storage write failed (fault injection)`);
        this.#persister.persist(rd);
        for (const m of rd.messages) (m.to === replyTo ? reply : this.#outbox).push(m);
        this.#apply(rd);
        this.#node.advance();
        this.#needsTicks = rd.needsTicks;
      }
    } catch (error) {
      if (!this.broken) {
        this.broken = true;
        this.#deps.onBroken?.(error);
      }
      throw error;
    } finally {
      this.#driving = false;
    }
    const outbox = this.#outbox.splice(0);
    if (outbox.length > 0) this.#transport.send(outbox);
    if (replyTo !== undefined) reply.push(...this.#transport.take(replyTo));
    if (!this.#needsTicks) this.#transport.flushAll(); // nothing may linger while asleep
    if (armTimer) this.#armClock();
    return reply;
  }

  /** Steps 3 and 4: apply the snapshot and committed entries, serve reads, note leadership. */
  #apply(rd: Ready): void {
    if (rd.softState !== undefined)
      this.#onSoftState(rd.softState.role === "leader", rd.softState.leader);
    if (rd.snapshot !== undefined) {
      this.applied.restore(rd.snapshot);
      this.stats.snapshotsRestored++;
    }
    const applied = this.applied.apply(
      rd.committedEntries,
      (id, outcome) => this.#proposals.end(id, { type: "applied", outcome }),
      (cc) => {
        const gone = cc.type === "removeVoter" || cc.type === "removeLearner";
        if (!gone || cc.nodeId !== this.id || this.removed) return;
        this.removed = true;
        this.#deps.onRemoved?.();
      },
    );
    this.stats.entriesApplied += applied;
    for (const rs of rd.readStates) this.#reads.onReadState(rs.context, rs.index);
    if (applied > 0 || rd.snapshot !== undefined) this.#maybeCompact();
    if (this.#isLeader) this.#leases.applied(this.applied.store, Date.now());
    if (applied > 0 || rd.snapshot !== undefined || this.#softStateChanged) {
      this.#softStateChanged = false;
      this.waiters.notify();
    }
  }

  #onSoftState(isLeader: boolean, leader: NodeId): void {
    if (leader !== "") this.#everKnewLeader = true;
    this.#leader = leader;
    if (this.#isLeader && !isLeader) {
      // Entries proposed here may still commit under the next leader, or vanish: the caller
      // retries with the same idempotency key, and the store answers the first outcome.
      this.#proposals.endAll(`replica ${this.id} lost leadership`);
      this.#leases.lost();
    }
    if (!this.#isLeader && isLeader) this.#leases.elected(this.#storage.lastIndex());
    this.#isLeader = isLeader;
    this.#softStateChanged = true;
  }

  /**
   * Snapshots the store and drops the log before it, every snapshotEntriesInterval entries, each
   * member at its own phase (its place in the group): serializing a store stalls a replica for
   * tens of ms (4 MB: ~40 ms), and a commit needs the leader and one follower, so members must
   * not all stall at the same index.
   */
  #maybeCompact(): void {
    const index = this.applied.index;
    const interval = this.#deps.config.snapshotEntriesInterval;
    const phase = Math.floor((interval * this.#place) / this.group.members.length);
    const snapshotIndex = this.#storage.firstIndex() - 1;
    if (Math.floor((index + phase) / interval) <= Math.floor((snapshotIndex + phase) / interval))
      return;
    this.#persister.compact(this.applied.snapshot(this.#storage.term(index)));
  }
}
