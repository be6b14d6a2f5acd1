// One simulation run, a pure function of its seed: a fault phase with clients and membership
// changes, then a liveness phase (everything healed: a leader and every pending operation within
// a bound), then quiescence (the idle group stops ticking; a new operation wakes it), and finally
// the linearizability check of the whole client history.
import { SimClient, type ClientOptions } from "./client.ts";
import { clockDriftMax, Cluster, msPerTick } from "./cluster.ts";
import { defaultCoreDir, type Core } from "./core.ts";
import { FaultInjector } from "./faults.ts";
import { kvModel, type KvInput, type KvOutput } from "./kv-model.ts";
import { checkLinearizable, type Operation } from "./linearizability.ts";
import { MembershipDriver } from "./membership.ts";
import { perfectLinks } from "./network.ts";
import { Prng } from "./prng.ts";
import { noFaults, pickProfile, type FaultProfile } from "./profiles.ts";
import { Trace } from "./trace.ts";
import type { RaftConfig } from "../../src/raft/types.ts";

export interface RunOptions {
  seed: number;
  /** 3 or 5 voters; by default odd seeds run 5 and even seeds 3, so one seed says it all. */
  nodes?: number;
  faults: boolean;
  trace: boolean;
  core: Core;
  /** Overrides the fault phase length (e.g. a longer throughput measurement). */
  faultPhaseTicks?: number;
  clients?: number;
  /** Skip the quiescence and wake phases (to study safety while the core cannot quiesce). */
  skipQuiescence?: boolean;
}

export interface RunResult {
  seed: number;
  profile: string;
  nodes: number;
  ticks: number;
  operationsChecked: number;
  writesCompleted: number;
  /** Gets completed, and how many of them the leader served on its read lease. */
  readsCompleted: number;
  leaseReads: number;
  /** Lease probes (fault phase): asked, and answered with an index (a lease that held). */
  leaseProbes: number;
  leaseProbesHeld: number;
  timedOut: number;
  crashes: number;
  messagesSent: number;
  membershipChanges: number;
  committedIndex: number;
  stepsChecked: number;
  /** Wall milliseconds inside the core; measured only without faults (throughput runs). */
  coreMs: number;
}

/** Ticks of the fault phase with clients running. */
export const faultPhaseTicksDefault = 700;
/** After healing: a leader and every pending operation within this many ticks. */
const healTicksMax = 600;
/** After the work is done: every member asleep within this many ticks. */
const quiesceTicksMax = 300;
/** A sleeping group woken by a client completes the operation within this many ticks. */
const wakeTicksMax = 200;
/** Message deliveries per tick before we call it a livelock. */
const deliveriesPerTickMax = 20_000;

/** A property the run checks itself (liveness, quiescence, linearizability) did not hold. */
export class CheckFailed extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CheckFailed";
  }
}

/** Our own checks explain themselves; anything else (a crash in the core) needs its stack. */
function describeCause(cause: unknown): string {
  if (!(cause instanceof Error)) return String(cause);
  if (cause.name === "SafetyViolation" || cause.name === "CheckFailed") return cause.message;
  return `${cause.name}: ${cause.message}\n${cause.stack ?? ""}`;
}

export class SimFailure extends Error {
  readonly seed: number;
  readonly replay: string;
  constructor(seed: number, replay: string, tick: number, cause: unknown) {
    const reason = describeCause(cause);
    super(
      `simulation seed ${seed} failed at tick ${tick}: ${reason}\nReplay it with its trace: ${replay}`,
      { cause },
    );
    this.name = "SimFailure";
    this.seed = seed;
    this.replay = replay;
  }
}

export function replayCommand(opts: RunOptions): string {
  let cmd = `npm run sim -- --seed ${opts.seed}`;
  if (opts.nodes !== undefined) cmd += ` --nodes ${opts.nodes}`;
  if (!opts.faults) cmd += " --no-faults";
  if (opts.faultPhaseTicks !== undefined) cmd += ` --ticks ${opts.faultPhaseTicks}`;
  if (opts.clients !== undefined) cmd += ` --clients ${opts.clients}`;
  if (opts.core.dir !== defaultCoreDir) cmd += ` --core ${opts.core.dir}`;
  if (opts.skipQuiescence === true) cmd += " --skip-quiescence";
  return cmd;
}

export function runSeed(opts: RunOptions): RunResult {
  const sim = new Simulation(opts);
  try {
    return sim.run();
  } catch (e) {
    throw new SimFailure(opts.seed, replayCommand(opts), sim.cluster.nowTick, e);
  }
}

class Simulation {
  readonly cluster: Cluster;
  private readonly opts: RunOptions;
  private readonly prng: Prng;
  private readonly clients: SimClient[] = [];
  private readonly membership: MembershipDriver;
  private readonly faults: FaultInjector;
  private readonly history: Operation<KvInput, KvOutput>[] = [];
  private readonly nodes: number;
  readonly profile: FaultProfile;
  private readonly probePrng: Prng;
  private readonly readShare: number;
  private keys: string[] = [];
  private leaseProbes = 0;
  private leaseProbesHeld = 0;

  constructor(opts: RunOptions) {
    this.opts = opts;
    this.prng = new Prng(opts.seed);
    const profile = (this.profile = opts.faults ? pickProfile(this.prng.fork()) : noFaults);
    this.nodes = opts.nodes ?? (opts.seed % 2 === 0 ? 3 : 5);
    const trace = new Trace(opts.trace);
    const voterIds = Array.from({ length: this.nodes }, (_, i) => `n${i + 1}`);
    const cfgPrng = this.prng.fork();
    const timing = randomRaftConfig(cfgPrng);
    const compactEveryEntries = cfgPrng.pick([5, 20, 60]);
    const raft: Omit<RaftConfig, "id" | "seed"> = {
      ...timing,
      ...randomLeaseConfig(cfgPrng, timing.electionTimeoutTicks, profile.checkQuorumOffShare),
    };
    const clockPrng = cfgPrng.fork();
    this.probePrng = cfgPrng.fork();
    this.readShare = cfgPrng.pick(profile.readShares);
    // Catch-up pacing (src/raft/pacing.ts) in two seeds of three; drawn last so that every other
    // draw of a seed is what it was before pacing existed.
    raft.learnerBytesPerTick = cfgPrng.pick([0, 64, 1024]);
    if (opts.trace)
      console.log(
        `seed ${opts.seed}: ${this.nodes} voters + 1 spare, fault profile ${profile.name}, ${this.readShare * 100} % reads, raft ${JSON.stringify(raft)}`,
      );
    this.cluster = new Cluster({
      core: opts.core,
      prng: this.prng.fork(),
      trace,
      voterIds,
      spareIds: [`n${this.nodes + 1}`],
      raft,
      compactEveryEntries,
      crashMidReadyProbability: profile.crashMidReadyProbability,
      clockPrng,
    });
    if (opts.trace) {
      const clocks = [...this.cluster.hosts.values()].map(
        (h) =>
          `${h.id} ${h.clockRate.toFixed(4)}x${h.clockOffsetMs >= 0 ? "+" : ""}${h.clockOffsetMs}`,
      );
      console.log(
        `clocks (rate x real ms + offset, ${msPerTick} ms per tick): ${clocks.join(", ")}`,
      );
    }
    this.faults = new FaultInjector(this.cluster, this.prng.fork(), profile.rates);
    this.membership = new MembershipDriver(this.cluster, this.prng.fork(), {
      votersMin: this.nodes,
      changeProbabilityPerTick: profile.membershipChangePerTick,
      retryTicks: 40,
    });
    this.membership.active = opts.faults;
    if (!opts.faults) this.cluster.network.quality = perfectLinks;
    this.createClients(opts.clients ?? profile.clients);
  }

  private createClients(count: number): void {
    // Few keys make clients contend; without faults (a throughput run with many clients) one key
    // per client keeps the linearizability search small.
    const keys = this.opts.faults
      ? ["x", "y", "z"]
      : Array.from({ length: Math.max(3, count) }, (_, i) => `k${i}`);
    this.keys = keys;
    const clientOpts: ClientOptions = {
      keys,
      retryTicks: 40,
      timeoutTicks: 150,
      thinkTicksMax: this.profile.thinkTicksMax,
      readShare: this.readShare,
    };
    const writtenValues = new Map<string, string[]>();
    for (let i = 1; i <= count; i++)
      this.clients.push(
        new SimClient(i, this.cluster, this.prng.fork(), clientOpts, this.history, writtenValues),
      );
  }

  run(): RunResult {
    const faultTicks = this.opts.faultPhaseTicks ?? faultPhaseTicksDefault;
    this.cluster.timeCore = !this.opts.faults;
    for (let t = 0; t < faultTicks; t++) this.tick();
    this.heal();
    if (this.opts.skipQuiescence !== true) {
      this.quiesce();
      this.wake();
    }
    this.checkHistory();
    return this.result();
  }

  private tick(): void {
    const c = this.cluster;
    c.nowTick++;
    c.trace.setTick(c.nowTick);
    this.faults.step(c.nowTick);
    c.tickAll();
    for (const client of this.clients) client.step(c.nowTick);
    this.membership.step(c.nowTick);
    if (this.faults.active) this.probeLeases();
    for (let n = 0; c.deliverOne(); n++) {
      if (n > deliveriesPerTickMax)
        throw new Error(
          `more than ${deliveriesPerTickMax} message deliveries in one tick: a message storm`,
        );
    }
  }

  /**
   * Lease probes, during the fault phase: every member that believes it leads is asked for a lease
   * read with probability 1/2 per tick, as a stream of reads from other clients would. Cluster.
   * leaseRead checks each index the core hands out against the Lease Safety invariant, so a lease
   * that outlives the promises it rests on is caught when it happens, not only when one of the few
   * clients reads there at that moment (a client stuck on a cut-off leader's proposal waits 40
   * ticks). A probe served joins the history as an instantaneous get of "client 0", so the
   * linearizability check sees stale lease reads too. A lease that holds counts as read activity
   * (the core keeps the leader awake), as real reads do.
   */
  private probeLeases(): void {
    for (const host of this.cluster.upHosts()) {
      if (host.raw?.status().role !== "leader" || !this.probePrng.chance(0.5)) continue;
      this.leaseProbes++;
      const index = this.cluster.leaseRead(host);
      if (index === null) continue;
      this.leaseProbesHeld++;
      if (index > host.appliedIndex) continue;
      const key = this.probePrng.pick(this.keys);
      const value = host.machine.get(key);
      const call = this.cluster.nextEvent();
      this.history.push({
        clientId: 0,
        input: { kind: "get", key },
        output: { kind: "get", value },
        call,
        return: this.cluster.nextEvent(),
      });
      if (this.cluster.trace.enabled)
        this.cluster.trace.log(
          `lease probe: ${host.id} serves get(${key}) -> ${JSON.stringify(value)} at index ${index}`,
        );
    }
  }

  /** Liveness: with every fault healed, the group elects a leader and finishes all work. */
  private heal(): void {
    this.log("=== HEAL: no faults from here; a leader and every pending operation must follow");
    this.faults.healAll();
    for (const client of this.clients) client.waitForever();
    this.membership.active = false;
    const done = () =>
      this.cluster.leader() !== undefined &&
      this.clients.every((c) => c.pending === null) &&
      this.membership.pending === null;
    this.runUntil(done, healTicksMax, () => {
      const stuck = this.clients
        .filter((c) => c.pending !== null)
        .map((c) => `client ${c.id} #${c.pending?.seq}`);
      const leader = this.cluster.leader()?.id ?? "none";
      const change =
        this.membership.pending === null
          ? "none"
          : `${this.membership.pending.cc.type} ${this.membership.pending.cc.nodeId}`;
      return `Liveness violated: ${healTicksMax} ticks after healing, leader: ${leader}; still pending: ${stuck.join(", ") || "no client operation"}; membership change: ${change}`;
    });
  }

  /** The idle group must stop needing ticks, so a Durable Object replica can drop its alarm. */
  private quiesce(): void {
    this.log("=== QUIESCE: idle; every member must stop needing ticks");
    const conf = this.cluster.committedConf;
    for (const host of this.cluster.hosts.values()) {
      if (conf.voters.includes(host.id) || conf.learners.includes(host.id)) continue;
      // A removed replica is destroyed, as its Durable Object would be.
      this.cluster.crash(host, Infinity, "removed from the group: destroyed");
      host.destroyed = true;
    }
    const asleep = () =>
      this.cluster.network.inFlightCount() === 0 &&
      this.cluster.upHosts().every((h) => !h.needsTicks);
    this.runUntil(asleep, quiesceTicksMax, () => {
      const awake = this.cluster
        .upHosts()
        .filter((h) => h.needsTicks)
        .map((h) => h.id);
      return `Quiescence violated: ${quiesceTicksMax} ticks idle and still ticking: [${awake.join(", ")}], ${this.cluster.network.inFlightCount()} messages in flight`;
    });
  }

  /** A client arriving at a sleeping group wakes it and is served. */
  private wake(): void {
    this.log("=== WAKE: one client operation must wake the group and complete");
    const client = this.clients[0] as SimClient;
    client.start({ kind: "put", key: "x", value: `c${client.id}.wake` }, this.cluster.nowTick);
    client.waitForever();
    const second = this.clients[1] ?? client;
    this.runUntil(
      () => client.pending === null,
      wakeTicksMax,
      () =>
        `Liveness violated: a put sent to the quiescent group did not complete within ${wakeTicksMax} ticks`,
    );
    second.start({ kind: "get", key: "x" }, this.cluster.nowTick);
    second.waitForever();
    this.runUntil(
      () => second.pending === null,
      wakeTicksMax,
      () => `Liveness violated: a get after waking did not complete within ${wakeTicksMax} ticks`,
    );
  }

  private runUntil(done: () => boolean, ticksMax: number, describeFailure: () => string): void {
    for (let t = 0; !done(); t++) {
      if (t >= ticksMax) throw new CheckFailed(describeFailure());
      this.tick();
    }
  }

  private checkHistory(): void {
    const verdict = checkLinearizable(kvModel, this.history);
    if (!verdict.ok)
      throw new CheckFailed(
        `Linearizability violated on key "${verdict.partition}": ${verdict.explanation}`,
      );
  }

  private result(): RunResult {
    return {
      seed: this.opts.seed,
      profile: this.profile.name,
      nodes: this.nodes,
      ticks: this.cluster.nowTick,
      operationsChecked: this.history.length,
      writesCompleted: this.history.filter(
        (op) => op.input.kind !== "get" && op.return !== Infinity,
      ).length,
      readsCompleted: this.clients.reduce((sum, c) => sum + c.readsCompleted, 0),
      leaseReads: this.clients.reduce((sum, c) => sum + c.leaseReads, 0),
      leaseProbes: this.leaseProbes,
      leaseProbesHeld: this.leaseProbesHeld,
      timedOut: this.clients.reduce((sum, c) => sum + c.timedOut, 0),
      crashes: this.cluster.crashCount,
      messagesSent: this.cluster.network.sentCount,
      membershipChanges: this.membership.changesCompleted,
      committedIndex: this.cluster.invariants.committedIndexMax,
      stepsChecked: this.cluster.invariants.stepsChecked,
      coreMs: this.cluster.coreMs,
    };
  }

  private log(text: string): void {
    if (this.cluster.trace.enabled) this.cluster.trace.log(text);
  }
}

/**
 * Read leases vary per seed too. voteRefusalMs is the election timeout in wall time (its ticks x
 * msPerTick, production's setting) times a factor. Factor 1 leaves a lease window of only 4-7
 * ticks, hardly more than one election's message round trips (each hop takes a tick or more), so
 * a lease outliving its promises would rarely be caught: factors 2 and 4 stretch the window (and
 * the promises) so a bug has room to show. readLeaseMs is half the promise (production) or 0.9 of
 * it, near the limit the clock drift allows ((1 - drift) / (1 + drift) = 0.98 at 1 %). One seed
 * in ten runs without leases (readLeaseMs 0: every linearizable read takes a ReadIndex round).
 */
function randomLeaseConfig(
  prng: Prng,
  electionTimeoutTicks: number,
  checkQuorumOffShare: number,
): Pick<RaftConfig, "readLeaseMs" | "voteRefusalMs" | "checkQuorum"> {
  const factor = prng.pick([1, 1, 2, 4]);
  const voteRefusalMs = electionTimeoutTicks * msPerTick * factor;
  const share = prng.pick([0.5, 0.9]);
  if (!(share < (1 - clockDriftMax) / (1 + clockDriftMax)))
    throw new Error("readLeaseMs leaves no margin for clock drift");
  // CheckQuorum off in some seeds (profiles.ts): its step-down of a cut-off leader and its
  // tick-based refusal of votes (`inLease`) hide most lease bugs; leases must hold without them.
  const checkQuorum = !prng.chance(checkQuorumOffShare);
  return {
    readLeaseMs: prng.chance(0.1) ? 0 : Math.floor(voteRefusalMs * share),
    voteRefusalMs,
    checkQuorum,
  };
}

/** Timing and limits vary per seed, so batching, pipelining and chunking limits are all hit. */
function randomRaftConfig(prng: Prng): Omit<RaftConfig, "id" | "seed"> {
  return {
    electionTimeoutTicks: prng.range(8, 14),
    heartbeatIntervalTicks: prng.range(1, 3),
    inflightMessagesMax: prng.range(1, 8),
    messageBytesMax: prng.pick([128, 512, 8192]),
    snapshotChunkBytesMax: prng.pick([64, 300, 1 << 20]),
    uncommittedBytesMax: prng.pick([1024, 1 << 20]),
    quiesceAfterTicks: prng.range(5, 30),
    preVote: true,
    checkQuorum: true,
  };
}
