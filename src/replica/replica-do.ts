// ReplicaDO: one member of one shard's Raft group, on a SQLite-backed Durable Object. Its RPC
// methods are the replica API the router uses (propose, read, waitForChange, status), the peer
// transport (deliver), and test/ops controls (stats, setFaults, campaign, transferLeadership).
// The logic lives in member.ts; this class checks who is asked, applies faults, and never lets
// an unexpected error leave the member half-updated (it resets the object instead).
import { DurableObject } from "cloudflare:workers";
import type { ConfChange, NodeId } from "../raft/index.ts";
import type { Query } from "../store/index.ts";
import { replicaConfigFrom, type ReplicaConfig, type ReplicaVars } from "./config.ts";
import { noFaults, stoppedMessage, type Faults, type FaultWindow } from "./faults.ts";
import {
  groupError,
  loadIdentity,
  saveIdentity,
  type GroupSpec,
  type StoredIdentity,
} from "./group.ts";
import { Member, type WaitingCounts } from "./member.ts";
import { answerNow, readOnMember, waitOnMember } from "./reads.ts";
import {
  decodeAddress,
  type AddressOnWire,
  type MembershipAnswer,
  type ProposeAnswer,
  type ReadAnswer,
  type ReadRequest,
  type ReplicaAddress,
  type ReplicaRpc,
  type ReplicaStatusReport,
  type Unserved,
  type WaitAnswer,
  type WaitRequestOnReplica,
} from "./rpc.ts";
import { emptyStats, type ReplicaStats } from "./stats.ts";
import { replicaStub, stubOptionsFor } from "./stubs.ts";
import type { PeerEndpoint } from "./transport.ts";
import { wireVersion, wireVersionError, type Envelope, type ReplyEnvelope } from "./wire.ts";

export interface ReplicaEnv extends ReplicaVars {
  REPLICA: DurableObjectNamespace<ReplicaDO>;
}

export class ReplicaDO extends DurableObject<ReplicaEnv> implements ReplicaRpc {
  readonly #config: ReplicaConfig;
  #member: Member | null = null;
  #faults: Faults = noFaults;

  constructor(ctx: DurableObjectState, env: ReplicaEnv) {
    super(ctx, env);
    this.#config = replicaConfigFrom(env);
    const identity = loadIdentity(ctx.storage.sql);
    if (identity !== null) this.#member = this.#open(identity);
  }

  // ---------------------------------------------------------------------------------------------
  // The router's API (rpc.ts is the contract)

  /** Makes sure this replica knows its group (creating it on first contact) and is awake. */
  ensure(to: AddressOnWire): ReplicaStatusReport | Unserved {
    const member = this.#client(to);
    if ("type" in member) return member;
    return this.#guard(() => {
      member.wake();
      return this.#statusOf(member);
    });
  }

  /** Leader: propose, wait until applied, return the outcome. Follower: `notLeader` at once. */
  async propose(to: AddressOnWire, command: Uint8Array): Promise<ProposeAnswer | Unserved> {
    const member = this.#client(to);
    return "type" in member ? member : this.#guardAsync(() => member.propose(command));
  }

  /** Leader: renews a lease (in memory, on its read lease; else through the log). */
  async keepAlive(to: AddressOnWire, id: string, atMs: number): Promise<ProposeAnswer | Unserved> {
    const member = this.#client(to);
    return "type" in member ? member : this.#guardAsync(() => member.keepAlive(id, atMs));
  }

  /** A query, linearizable (ReadIndex, any member) or stale (this member's applied state). */
  async read(
    to: AddressOnWire,
    query: Query,
    request: ReadRequest,
  ): Promise<ReadAnswer | Unserved> {
    const member = this.#client(to);
    if ("type" in member) return member;
    const onLease = request.consistency === "linearizable" && member.leaseRead();
    // Nearly every linearizable read reaches a leader holding its lease: answered with no await.
    if (onLease && request.minRevision === undefined) return answerNow(member, query);
    return this.#guardAsync(() => readOnMember(member, query, request, onLease));
  }

  /** Long poll: resolves once the key or namespace changes after `afterRevision`, or at the timeout. */
  async waitForChange(
    to: AddressOnWire,
    request: WaitRequestOnReplica,
  ): Promise<WaitAnswer | Unserved> {
    const member = this.#client(to);
    return "type" in member ? member : this.#guardAsync(() => waitOnMember(member, request));
  }

  /** Leader: proposes one membership change (add or promote a learner, remove a member). */
  async changeMembership(
    to: AddressOnWire,
    change: ConfChange,
  ): Promise<MembershipAnswer | Unserved> {
    const member = this.#client(to);
    return "type" in member ? member : this.#guardAsync(() => member.changeMembership(change));
  }

  /** Leader: hands leadership to `target` (a voter that is caught up); else who leads. */
  transfer(to: AddressOnWire, target: NodeId): MembershipAnswer | Unserved {
    const member = this.#client(to);
    if ("type" in member) return member;
    return this.#guard((): MembershipAnswer => {
      const { role, leader } = member.basicStatus();
      if (role !== "leader")
        return { type: "notLeader", leaderHint: leader === "" ? null : leader };
      member.transferLeadership(target);
      return { type: "proposed" };
    });
  }

  /**
   * Told, once its removal committed, that it is no longer a member: a removed follower never
   * hears so from the group (the leader stops writing to it on append), so the caller that
   * removed it says so. It then serves nothing and arms no alarm again.
   */
  retire(to: AddressOnWire): ReplicaStatusReport | Unserved {
    const member = this.#client(to);
    if ("type" in member) return member.removed === true ? this.#statusOf(this.#member!) : member;
    return this.#guard(() => {
      member.retire();
      return this.#statusOf(member);
    });
  }

  /** For /v1/cluster. Does not create the replica: an unknown replica says so. */
  status(): ReplicaStatusReport | null {
    return this.#member === null ? null : this.#statusOf(this.#member);
  }

  // ---------------------------------------------------------------------------------------------
  // Peers and time

  /** A peer's messages for this replica; the reply carries the messages addressed back. */
  async deliver(envelope: Envelope): Promise<ReplyEnvelope> {
    const refuse = (reason: string): ReplyEnvelope => ({
      v: wireVersion,
      from: envelope.to,
      to: envelope.from,
      messages: [],
      refused: reason,
    });
    this.#refreshFaults();
    if (this.#faults.stopped) return refuse(stoppedMessage(envelope.to));
    if (this.#faults.dropInbound)
      return refuse(`replica ${envelope.to} drops inbound peer messages (fault injection)`);
    const versionError = wireVersionError(envelope.v, envelope.from);
    if (versionError !== null) return refuse(versionError);
    const member = this.#ensure({ self: envelope.to, group: envelope.group });
    if (typeof member === "string") return refuse(member);
    if (member.removed) return refuse(removedMessage(member));
    return this.#guard(() => member.deliver(envelope));
  }

  /** One tick. Idempotent and never throws: a failure is logged and the next tick is armed. */
  override async alarm(): Promise<void> {
    this.#refreshFaults();
    const member = this.#member;
    if (member === null || this.#faults.stopped) return;
    try {
      member.tick();
    } catch (error) {
      console.error(`replica ${member.id}: tick failed`, error);
      try {
        if (member.broken) this.#resetIfBroken(error);
        else member.armTimer();
      } catch (inner) {
        console.error(`replica ${member.id}: recovering from a failed tick failed`, inner);
      }
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Tests, benchmark and operations. The HTTP routes never call these (see faults.ts).

  stats(): ReplicaStats & { alarmArmed: boolean } & WaitingCounts {
    const m = this.#member;
    if (m === null)
      return {
        ...emptyStats(),
        alarmArmed: false,
        proposalsWaiting: 0,
        readsWaiting: 0,
        waiters: 0,
      };
    return {
      ...m.stats,
      alarmArmed: m.alarmArmedAtMs !== null && m.alarmArmedAtMs !== undefined,
      ...m.waiting(),
    };
  }

  /**
   * Fault injection for tests and local development only (see faults.ts for why it is safe).
   * With `window`, the faults begin `afterMs` from now and, with `forMs`, end that long after
   * (every fault is then cleared). Both are checked whenever the replica is called or ticks, so
   * a replica nobody calls changes later than scheduled. Without a window: at once, and any
   * scheduled fault is dropped.
   */
  setFaults(faults: Partial<Faults>, window?: FaultWindow): Faults {
    if (window === undefined || ((window.afterMs ?? 0) <= 0 && window.forMs === undefined)) {
      if (Object.keys(faults).length > 0) this.#schedule = null;
      this.#refreshFaults();
      return this.#applyFaults(faults);
    }
    const fromMs = Date.now() + Math.max(0, window.afterMs ?? 0);
    const untilMs = window.forMs === undefined ? null : fromMs + window.forMs;
    this.#schedule = { faults, fromMs, untilMs, applied: false };
    this.#refreshFaults();
    return this.#faults;
  }

  #schedule: {
    faults: Partial<Faults>;
    fromMs: number;
    untilMs: number | null;
    applied: boolean;
  } | null = null;

  /** Starts or ends a scheduled fault whose time has come (one null check when none is). */
  #refreshFaults(): void {
    const s = this.#schedule;
    if (s === null) return;
    const now = Date.now();
    if (!s.applied && now >= s.fromMs) {
      s.applied = true;
      this.#applyFaults(s.faults);
    }
    if (s.untilMs !== null && now >= s.untilMs) {
      this.#schedule = null;
      this.#applyFaults(noFaults);
    } else if (s.applied && s.untilMs === null) this.#schedule = null;
  }

  #applyFaults(faults: Partial<Faults>): Faults {
    const wasStopped = this.#faults.stopped;
    this.#faults = { ...this.#faults, ...faults };
    const m = this.#member;
    if (m !== null) {
      m.faults = this.#faults;
      if (this.#faults.stopped && !wasStopped) m.stop();
      if (!this.#faults.stopped && wasStopped) m.resume();
    }
    return this.#faults;
  }

  /** Fault injection: the object restarts (a crash and restart), its faults and memory gone. */
  evict(): void {
    this.ctx.abort("evicted by fault injection");
  }

  /**
   * Test and benchmark tuning of the running object (in memory; eviction restores the vars),
   * e.g. a small snapshot interval so that a test can see a lagging replica catch up by snapshot.
   */
  tune(overrides: Partial<Pick<ReplicaConfig, "snapshotEntriesInterval">>): ReplicaConfig {
    Object.assign(this.#config, overrides);
    return { ...this.#config };
  }

  campaign(): void {
    this.#guard(() => this.#member?.campaign());
  }

  transferLeadership(to: NodeId): void {
    this.#guard(() => this.#member?.transferLeadership(to));
  }

  // ---------------------------------------------------------------------------------------------

  /** The member a router call is for, or why it cannot be served (as a value: see Unserved). */
  #client(to: AddressOnWire): Member | Unserved {
    this.#refreshFaults();
    if (this.#faults.dropClients)
      return { type: "unserved", reason: "this replica is unreachable (fault injection)" };
    if (this.#faults.stopped) {
      const address = decodeAddress(to);
      return {
        type: "unserved",
        reason: stoppedMessage(typeof address === "string" ? "this replica" : address.self),
      };
    }
    // Nearly every call: the address text this replica accepted last time, compared as a string.
    let member: Member | string | null = to === this.#acceptedAddress ? this.#member : null;
    if (member === null) {
      const address = decodeAddress(to);
      member = typeof address === "string" ? address : this.#ensure(address);
      if (typeof member !== "string" && typeof to === "string") this.#acceptedAddress = to;
    }
    if (typeof member === "string")
      return member === absentMessage(decodedSelf(to))
        ? { type: "unserved", reason: member, absent: true }
        : { type: "unserved", reason: member };
    if (member.removed) {
      const members = membersHint(member);
      return { type: "unserved", reason: removedMessage(member), removed: true, members };
    }
    member.stats.clientRequests++;
    return member;
  }

  /** The address text of the last router call this replica served (reset with the member). */
  #acceptedAddress: string | null = null;

  /** The member `to` names, created on first contact; a string says why it cannot be. */
  #ensure(to: ReplicaAddress): Member | string {
    const existing = this.#member;
    if (existing !== null) {
      // Who it is and which shard it serves; the members a caller lists are only a hint once the
      // group exists (its Raft configuration is the authority on them).
      if (existing.id === to.self && existing.group.shard === to.group.shard) return existing;
      return (
        `this Durable Object is replica ${existing.id} of shard ${existing.group.shard}, but was ` +
        `addressed as ${to.self} of shard ${to.group.shard}; replica ids are never reused`
      );
    }
    if (to.create === false) return absentMessage(to.self);
    const error = groupError(to.group, to.self);
    if (error !== null) return `cannot create replica ${to.self}: ${error}`;
    const identity: StoredIdentity = {
      self: to.self,
      group: to.group,
      ...(to.join === true ? { join: true as const } : {}),
    };
    saveIdentity(this.ctx.storage.sql, identity);
    const member = this.#guard(() => this.#open(identity));
    this.#member = member;
    return member;
  }

  #open(identity: StoredIdentity): Member {
    const member = new Member({
      storage: this.ctx.storage,
      identity,
      config: this.#config,
      endpoint: (peer) => this.#endpoint(identity.group, peer),
      // Kept, so that a reloaded object still knows it serves nothing and arms no alarm.
      onRemoved: () => saveIdentity(this.ctx.storage.sql, { ...identity, removed: true }),
      onBroken: (error) => this.#resetIfBroken(error),
    });
    member.faults = this.#faults;
    return member;
  }

  readonly #stubs = new Map<NodeId, PeerEndpoint>();

  #endpoint(group: GroupSpec, peer: NodeId): PeerEndpoint {
    let endpoint = this.#stubs.get(peer);
    if (endpoint === undefined) {
      const location = group.members.find((m) => m.id === peer)?.location ?? "";
      // The stub's generated type wraps results in RPC types; `deliver` is the same method.
      const stub = replicaStub(this.env.REPLICA, peer, stubOptionsFor(location)) as PeerEndpoint;
      // A stub whose call failed may stay broken (the peer's object was reset, e.g. by an error
      // inside its Ready): forget it, so the next round makes a new one. A chaos run found a
      // restarted follower that the leader's cached stub never reached again.
      const mine: PeerEndpoint = {
        deliver: (envelope) =>
          stub.deliver(envelope).catch((error: unknown) => {
            if (this.#stubs.get(peer) === mine) this.#stubs.delete(peer);
            throw error;
          }),
      };
      endpoint = mine;
      this.#stubs.set(peer, endpoint);
    }
    return endpoint;
  }

  #statusOf(m: Member): ReplicaStatusReport {
    const s = m.status();
    const self = m.group.members.find((x) => x.id === m.id);
    const learner = s.conf.learners.includes(m.id);
    return {
      id: m.id,
      shard: m.group.shard,
      location: self?.location ?? "",
      role: learner
        ? "learner"
        : s.role === "leader"
          ? "leader"
          : s.role === "follower"
            ? "follower"
            : "candidate",
      term: s.term,
      commitIndex: s.commit,
      appliedIndex: m.applied.index,
      lastContactMs: m.lastLeaderContactMs,
      leader: s.leader === "" ? null : s.leader,
      lastIndex: s.lastIndex,
      revision: m.applied.store.revision,
      quiesced: s.quiesced,
      learners: [...s.conf.learners],
      appliedMembers: [...m.applied.conf.voters, ...m.applied.conf.learners],
      removed: m.removed,
      ...(s.progress === undefined
        ? {}
        : {
            matchIndex: Object.fromEntries(
              Object.entries(s.progress).map(([id, p]) => [id, p.match]),
            ),
            snapshots: Object.fromEntries(
              Object.entries(s.progress).flatMap(([id, p]) =>
                p.snapshotBytes === undefined ? [] : [[id, p.snapshotBytes]],
              ),
            ),
          }),
      members: [...s.conf.voters, ...s.conf.learners].map((id) => ({
        id,
        location: m.group.members.find((x) => x.id === id)?.location ?? "",
      })),
    };
  }

  #guard<T>(fn: () => T): T {
    try {
      return fn();
    } catch (error) {
      this.#resetIfBroken(error);
      throw error;
    }
  }

  async #guardAsync<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      this.#resetIfBroken(error);
      throw error;
    }
  }

  /**
   * An error inside a Ready leaves the core and the disk out of step; only a fresh load from
   * storage is safe. Errors that are answers (a stopped replica, a wrong address) are not that.
   */
  #resetIfBroken(error: unknown): void {
    if (this.#member?.broken !== true) return;
    console.error(`replica ${this.#member.id}: resetting after an error inside a Ready`, error);
    this.#member = null;
    this.#acceptedAddress = null;
    this.ctx.abort(`replica reset after an error inside a Ready: ${String(error)}`);
  }
}

/** Why a call that may not create a replica (a directory probe) found none. */
function absentMessage(self: string): string {
  return `replica ${self} does not exist (a probe creates none)`;
}

function decodedSelf(to: AddressOnWire): string {
  const address = decodeAddress(to);
  return typeof address === "string" ? "" : address.self;
}

/** The other members a removed replica knew last (a hint: the shard's own leader knows). */
function membersHint(member: Member): NodeId[] {
  const { voters, learners } = member.status().conf;
  return [...voters, ...learners].filter((id) => id !== member.id);
}

function removedMessage(member: Member): string {
  return (
    `replica ${member.id} was removed from shard ${member.group.shard}; ` +
    `its members are now ${membersHint(member).join(", ") || "unknown here"}`
  );
}
