// The simulated group: replicas, the network between them, and the harness side of the Ready
// contract (persist, then send, then apply, then advance), with invariant checks at each stage.
import type {
  ConfChange,
  ConfState,
  Entry,
  NodeId,
  RaftConfig,
  Ready,
} from "../../src/raft/types.ts";
import type { Core, NodeStatus, RawNodeLike } from "./core.ts";
import { Invariants, SafetyViolation } from "./invariants.ts";
import { decodeCommand, KvStateMachine } from "./kv-state-machine.ts";
import { describeMessage, Network } from "./network.ts";
import { NodeHost } from "./node-host.ts";
import type { Prng } from "./prng.ts";
import type { Trace } from "./trace.ts";

export interface ClusterOptions {
  core: Core;
  prng: Prng;
  trace: Trace;
  /** Members at bootstrap (voters). */
  voterIds: NodeId[];
  /** Replicas that start outside the group and may be added later. */
  spareIds: NodeId[];
  raft: Omit<RaftConfig, "id" | "seed">;
  /** The application snapshots and compacts its log every this many applied entries. */
  compactEveryEntries: number;
  /** Chance, per Ready, of a crash in the middle of handling it (between its stages). */
  crashMidReadyProbability: number;
  /** Draws each member's clock (offset and rate). */
  clockPrng: Prng;
}

/**
 * Real time: one simulator tick lasts this many wall milliseconds, the production tick
 * (`replicaDefaults.tickMs`). A node tick at tickRate 1 lasts as long.
 */
export const msPerTick = 50;
/** Clock rates are drawn from [1 - clockDriftMax, 1 + clockDriftMax] (see `clockMs`). */
export const clockDriftMax = 0.01;

/** Ready handling loops at most this often per event; more means the core never settles. */
const readiesPerEventMax = 1_000;

export class Cluster {
  readonly hosts = new Map<NodeId, NodeHost>();
  readonly network: Network;
  readonly invariants: Invariants;
  readonly trace: Trace;
  private readonly opts: ClusterOptions;
  private readonly prng: Prng;
  nowTick = 0;
  /** A counter that orders every client-visible event, for the linearizability history. */
  private eventCounter = 0;
  /** Membership as of the newest applied conf entry anywhere (applied implies committed). */
  committedConf: ConfState;
  private committedConfIndex = 0;
  crashCount = 0;
  /** Wall milliseconds spent inside the core (step, tick, propose, ready, advance) when timed. */
  coreMs = 0;
  timeCore = false;
  /** Chance per Ready of a crash between its stages; zeroed when the run heals. */
  crashMidReadyProbability: number;

  constructor(opts: ClusterOptions) {
    this.opts = opts;
    this.prng = opts.prng;
    this.trace = opts.trace;
    this.network = new Network(opts.prng.fork(), opts.trace);
    this.invariants = new Invariants(this.hosts);
    this.crashMidReadyProbability = opts.crashMidReadyProbability;
    const conf: ConfState = { voters: [...opts.voterIds], learners: [] };
    this.committedConf = conf;
    for (const id of opts.voterIds)
      this.hosts.set(id, new NodeHost(id, opts.core.createStorage(conf)));
    for (const id of opts.spareIds)
      this.hosts.set(id, new NodeHost(id, opts.core.createStorage(null)));
    for (const host of this.hosts.values()) {
      // Offsets anywhere (some negative): only rates may matter to the core, never offsets.
      host.clockOffsetMs = Math.round((opts.clockPrng.next() * 2 - 1) * 1e12);
      host.clockRate = 1 + (opts.clockPrng.next() * 2 - 1) * clockDriftMax;
    }
    for (const host of this.hosts.values()) this.start(host);
  }

  // --- Clocks (read leases, src/raft/lease.ts) --------------------------------------------------
  //
  // Real time is msPerTick ms per simulator tick. Each member reads its own wall clock: an
  // arbitrary offset (members' readings are not comparable, and the core must not need them to
  // be) plus real time at a rate within ±clockDriftMax (the margin readLeaseMs leaves below
  // voteRefusalMs must absorb it). The clock belongs to the machine: it survives a crash, so the
  // promise a member persisted (its end by this clock) means the same after the restart.
  //
  // The clock rate is deliberately independent of `tickRate`. Below 1, tickRate models alarms
  // firing late; above 1 (up to tickRateSkewMax, 2) a node ticks faster than real time, which
  // production never does: an alarm fires late, never early, so a member's election timer never
  // fires sooner than electionTimeoutTicks x tickMs (= voteRefusalMs at factor 1) after it last
  // heard from the leader. Lease safety must not rest on that, and in this core it does not: the
  // follower keeps its promise by its clock (`votePromised` gates hup(), the (pre)vote answer and
  // the higher-term check), not by its election timer. A node ticking fast only sees its early
  // campaigns refused until the promise ends, a liveness cost. So fast ticks stay: they are the
  // stricter test that the promise is kept by the clock (RawNode.campaign(), which members call
  // on load, and the forced campaigns skip the timer anyway). Tying the clock to the tick rate
  // instead would drift clocks by up to 2x, far beyond any margin, and flag a correct core; and
  // scaling voteRefusalMs by the tick skew would only hide a core that trusted its timer.

  /** What `host`'s clock reads now. Every step, tick and campaign gets it, as production does. */
  clockMs(host: NodeHost): number {
    return host.clockOffsetMs + host.clockRate * this.nowTick * msPerTick;
  }

  /**
   * Read leases: the index `host` may serve a linearizable read at right now without a round, or
   * null. The Lease Safety invariant is checked on every index the core hands out.
   */
  leaseRead(host: NodeHost): number | null {
    const index = this.act(host, (raw) => raw.leaseRead(this.clockMs(host)));
    if (index === undefined || index === null || host.raw === null) return null;
    this.invariants.onLeaseRead(host, host.raw.status(), index, (id) =>
      this.clockMs(this.host(id)),
    );
    return index;
  }

  nextEvent(): number {
    return ++this.eventCounter;
  }

  host(id: NodeId): NodeHost {
    const h = this.hosts.get(id);
    if (h === undefined) throw new Error(`no replica ${id}`);
    return h;
  }

  upHosts(): NodeHost[] {
    return [...this.hosts.values()].filter((h) => h.up);
  }

  /** The up replica that believes it leads, with the highest term. */
  leader(): NodeHost | undefined {
    let best: NodeHost | undefined;
    let bestTerm = -1;
    for (const h of this.hosts.values()) {
      if (h.raw === null) continue;
      const s = h.raw.status();
      if (s.role === "leader" && s.term > bestTerm) (best = h), (bestTerm = s.term);
    }
    return best;
  }

  // --- Process lifecycle ------------------------------------------------------------------------

  private start(host: NodeHost): void {
    const snap = host.storage.snapshot();
    const restored = KvStateMachine.restore(snap.data, snap.metadata.index);
    if (snap.metadata.index > 0) this.invariants.onSnapshotRestore(host, snap, restored.index);
    host.machine = restored.machine;
    host.appliedIndex = snap.metadata.index;
    host.confAtApplied =
      snap.metadata.index === 0 ? host.storage.initialState().confState : snap.metadata.conf;
    const seed = this.prng.nextUint32();
    // The persisted vote promise comes back: a restart must not free the member from it.
    const promise =
      host.votePromiseUntilMs === undefined ? {} : { votesRefusedUntilMs: host.votePromiseUntilMs };
    host.raw = this.opts.core.createNode(
      { ...this.opts.raft, id: host.id, seed, ...promise },
      host.storage,
      host.appliedIndex,
    );
    host.needsTicks = true;
    host.persistedHardState = { ...host.storage.initialState().hardState };
    const status = host.raw.status();
    host.lastRole = status.role;
    host.lastTerm = status.term;
    host.lastConf = status.conf;
    this.process(host);
  }

  crash(host: NodeHost, downTicks: number, why: string): void {
    if (!host.up) return;
    this.crashCount++;
    if (this.trace.enabled)
      this.trace.log(`CRASH ${host.id} (${why}), restarts at ${this.nowTick + downTicks}`);
    host.loseVolatileState();
    host.restartAtTick = this.nowTick + downTicks;
  }

  restart(host: NodeHost): void {
    if (host.up || host.destroyed) return;
    if (this.trace.enabled) this.trace.log(`RESTART ${host.id}`);
    this.start(host);
  }

  // --- Events -----------------------------------------------------------------------------------

  /** Delivers one due message; false when none is due. */
  deliverOne(): boolean {
    const m = this.network.takeDue(this.nowTick);
    if (m === undefined) return false;
    const host = this.hosts.get(m.to);
    if (host === undefined || host.raw === null) {
      if (this.trace.enabled) this.trace.log(`drop ${describeMessage(m)} (${m.to} is down)`);
      return true;
    }
    if (this.trace.enabled) this.trace.log(`deliver ${describeMessage(m)}`);
    const raw = host.raw;
    const nowMs = this.clockMs(host);
    this.inCore(() => raw.step(m, nowMs));
    this.process(host);
    return true;
  }

  /** Ticks every up replica that needs ticks, each at its own rate (skewed clocks). */
  tickAll(): void {
    const ticked: string[] = [];
    for (const host of this.hosts.values()) {
      if (host.raw === null || !host.needsTicks || this.nowTick < host.ticksStalledUntil) continue;
      host.tickCredit += host.tickRate;
      while (host.tickCredit >= 1 && host.raw !== null && host.needsTicks) {
        host.tickCredit -= 1;
        if (this.trace.enabled) ticked.push(host.id);
        const raw = host.raw;
        const nowMs = this.clockMs(host);
        this.inCore(() => raw.tick(nowMs));
        this.process(host);
      }
    }
    if (this.trace.enabled) this.trace.log(`tick ${ticked.join(" ") || "(all asleep)"}`);
  }

  /** Runs `action` against an up replica and handles the Ready it causes. */
  act<T>(host: NodeHost, action: (raw: NonNullable<NodeHost["raw"]>) => T): T | undefined {
    const raw = host.raw;
    if (raw === null) return undefined;
    const result = this.inCore(() => action(raw));
    this.process(host);
    return result;
  }

  proposeConfChange(host: NodeHost, cc: ConfChange): string {
    const result = this.act(host, (raw) => raw.proposeConfChange(cc));
    if (result === undefined) return "down";
    return result.ok ? "ok" : result.reason;
  }

  // --- The Ready contract -----------------------------------------------------------------------

  /** Handles every Ready the replica has, then checks the per-step invariants. */
  process(host: NodeHost): void {
    for (
      let n = 0;
      host.raw !== null && this.inCore(() => (host.raw as RawNodeLike).hasReady());
      n++
    ) {
      if (n >= readiesPerEventMax)
        throw new SafetyViolation(
          "Liveness",
          `${host.id} still has a Ready after ${readiesPerEventMax} rounds in one step`,
        );
      const raw = host.raw;
      this.handleReady(
        host,
        this.inCore(() => raw.ready()),
      );
    }
    if (host.raw !== null) this.afterStep(host, host.raw.status());
  }

  private handleReady(host: NodeHost, rd: Ready): void {
    const raw = host.raw;
    if (raw === null) return;
    const status = raw.status();
    if (this.crashMidReady(host, "before persisting a Ready")) return;
    this.invariants.beforePersist(host, rd, status);
    const before = { ...host.persistedHardState };
    this.persist(host, rd);
    this.invariants.afterPersist(host, rd, before, status, host.lastConf);
    const leases = (this.opts.raft.readLeaseMs ?? 0) > 0;
    if (leases)
      this.invariants.checkPromises(
        host,
        rd,
        this.clockMs(host),
        this.opts.raft.voteRefusalMs ?? 0,
      );
    if (this.crashMidReady(host, "after persisting, before sending")) return;
    if (this.prng.chance(this.crashMidReadyProbability)) {
      // A crash halfway through sending: some messages left, the rest did not.
      for (const m of rd.messages) if (this.prng.chance(0.5)) this.network.send(m, this.nowTick);
      this.crash(host, this.prng.range(1, 30), "while sending");
      return;
    }
    for (const m of rd.messages) this.network.send(m, this.nowTick);
    if (this.crashMidReady(host, "after sending, before applying")) return;
    this.apply(host, rd);
    host.needsTicks = rd.needsTicks;
    this.inCore(() => raw.advance());
  }

  /** Runs a call into the core, adding its wall time to `coreMs` when measuring throughput. */
  private inCore<T>(call: () => T): T {
    if (!this.timeCore) return call();
    const started = performance.now();
    try {
      return call();
    } finally {
      this.coreMs += performance.now() - started;
    }
  }

  private crashMidReady(host: NodeHost, stage: string): boolean {
    if (!this.prng.chance(this.crashMidReadyProbability)) return false;
    this.crash(host, this.prng.range(1, 30), stage);
    return true;
  }

  private persist(host: NodeHost, rd: Ready): void {
    const storage = host.storage;
    if (rd.snapshot !== undefined) storage.applySnapshot(rd.snapshot);
    if (rd.entries.length > 0) storage.append(rd.entries);
    if (rd.hardState !== undefined) {
      storage.setHardState(rd.hardState);
      if (this.trace.enabled && rd.hardState.commit > host.persistedHardState.commit)
        this.trace.log(`${host.id} commit ${rd.hardState.commit}`);
      host.persistedHardState = { ...rd.hardState };
    }
    if (rd.votePromiseUntilMs !== undefined) {
      host.votePromiseUntilMs = rd.votePromiseUntilMs;
      if (this.trace.enabled)
        this.trace.log(
          `${host.id} persists vote promise until ${describeClock(host, rd.votePromiseUntilMs)}`,
        );
    }
    if (this.trace.enabled && rd.entries.length > 0) {
      const first = rd.entries[0] as Entry;
      this.trace.log(
        `${host.id} persist entries ${first.index}..${first.index + rd.entries.length - 1} (term ${first.term}..)`,
      );
    }
  }

  private apply(host: NodeHost, rd: Ready): void {
    if (rd.snapshot !== undefined) this.restoreSnapshot(host, rd.snapshot);
    for (const e of rd.committedEntries) this.applyEntry(host, e);
    if (rd.committedEntries.length > 0) this.maybeCompact(host);
    for (const rs of rd.readStates) {
      const read = host.pendingReads.get(rs.context);
      if (read !== undefined) read.index = rs.index;
    }
    this.serveReads(host);
  }

  private restoreSnapshot(host: NodeHost, snap: NonNullable<Ready["snapshot"]>): void {
    const restored = KvStateMachine.restore(snap.data, snap.metadata.index);
    this.invariants.onSnapshotRestore(host, snap, restored.index);
    host.machine = restored.machine;
    host.appliedIndex = snap.metadata.index;
    host.confAtApplied = snap.metadata.conf;
    this.noteAppliedConf(snap.metadata.index, snap.metadata.conf);
    if (this.trace.enabled)
      this.trace.log(
        `${host.id} restores snapshot at ${snap.metadata.index} (term ${snap.metadata.term})`,
      );
  }

  private applyEntry(host: NodeHost, e: Entry): void {
    this.invariants.onApply(host, e);
    host.appliedIndex = e.index;
    host.machine.appliedIndex = e.index;
    if (e.type === "conf") {
      const cc = this.opts.core.decodeConfChange(e.data);
      host.confAtApplied = this.opts.core.applyConfChange(host.confAtApplied, cc);
      this.noteAppliedConf(e.index, host.confAtApplied);
      if (this.trace.enabled)
        this.trace.log(
          `${host.id} applies ${e.index}: conf ${cc.type} ${cc.nodeId} -> ${describeConf(host.confAtApplied)}`,
        );
      return;
    }
    if (e.data.length === 0) return;
    const cmd = decodeCommand(e.data);
    const result = host.machine.apply(e.index, cmd);
    if (this.trace.enabled)
      this.trace.log(
        `${host.id} applies ${e.index}: ${cmd.op} ${cmd.key} by client ${cmd.client}#${cmd.seq} -> ${JSON.stringify(result)}`,
      );
    if (result === null) return;
    const waiting = host.waitingWrites.get(`${cmd.client}.${cmd.seq}`);
    if (waiting !== undefined) {
      host.waitingWrites.delete(`${cmd.client}.${cmd.seq}`);
      waiting(result);
    }
  }

  private noteAppliedConf(index: number, conf: ConfState): void {
    if (index <= this.committedConfIndex) return;
    this.committedConfIndex = index;
    this.committedConf = conf;
  }

  /** The application snapshots its state machine and compacts the log behind it. */
  private maybeCompact(host: NodeHost): void {
    const storage = host.storage;
    if (host.appliedIndex - (storage.firstIndex() - 1) < this.opts.compactEveryEntries) return;
    const index = host.appliedIndex;
    const metadata = { index, term: storage.term(index), conf: host.confAtApplied };
    storage.compact({ metadata, data: host.machine.snapshot(host.confAtApplied) });
    if (this.trace.enabled) this.trace.log(`${host.id} snapshots and compacts through ${index}`);
  }

  private serveReads(host: NodeHost): void {
    for (const [context, read] of host.pendingReads) {
      if (read.index === null || read.index > host.appliedIndex) continue;
      host.pendingReads.delete(context);
      read.done(host.machine.get(read.key));
    }
  }

  private afterStep(host: NodeHost, status: NodeStatus): void {
    this.invariants.checkNode(host, status);
    if (status.role !== host.lastRole || status.term !== host.lastTerm) {
      if (this.trace.enabled)
        this.trace.log(
          `${host.id} is ${status.role} in term ${status.term}${status.leader ? ` (leader ${status.leader})` : ""}`,
        );
      host.lastRole = status.role;
      host.lastTerm = status.term;
    }
    host.lastConf = status.conf;
  }
}

/** A reading of `host`'s clock, as real simulator time, for the trace. */
export function describeClock(host: NodeHost, readingMs: number): string {
  const realMs = (readingMs - host.clockOffsetMs) / host.clockRate;
  return `${realMs.toFixed(1)} ms (tick ${(realMs / msPerTick).toFixed(2)})`;
}

export function describeConf(conf: ConfState): string {
  return `voters [${conf.voters.join(",")}] learners [${conf.learners.join(",")}]`;
}
