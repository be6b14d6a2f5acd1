// A deterministic network of RawNodes over MemoryStorage for scenario tests, in the spirit of
// etcd-io/raft's interaction tests: `campaign`, `propose`, `stabilize`, `deliver({drop})`,
// `isolate`, `tick`, `restart`, with a trace of delivered messages to assert against.
//
// Every Ready is handled exactly as the contract in src/raft/types.ts says (persist → send →
// apply → advance), and the harness checks Raft's safety properties as it goes:
//  - durability before send: a granted vote and an append ack leave only once persisted;
//  - election safety: at most one leader per term;
//  - leader completeness: a new leader holds every entry committed so far;
//  - state machine safety: no two members apply different entries at one index;
//  - apply order: each member applies indexes in sequence, never beyond its commit;
//  - linearizable reads: a ReadState's index covers every entry committed before the read, and
//    so does an index a read lease serves (`leaseRead`);
//  - read leases: a heartbeat's answer leaves only once the vote promise it gives is persisted.
//
// Time: ticks are logical, but read leases also need a clock. The network has one (`nowMs`,
// moved by `advance`, and by `msPerTick` on every tick); each member reads it with its own
// offset (`clockOffsetMs`), and every tick, step and campaign is given the reading.
import { expect } from "vitest";
import { RawNode, bootstrap } from "../../src/raft/rawnode.ts";
import { MemoryStorage } from "../../src/raft/memory-storage.ts";
import { applyConfChange, decodeConfChange } from "../../src/raft/confchange.ts";
import { dec, enc, fmt, fmtEntry } from "./format.ts";
import type {
  ConfChange,
  ConfState,
  Entry,
  Message,
  NodeId,
  RaftConfig,
  Ready,
  ReadState,
} from "../../src/raft/types.ts";
import type { ProposeResult, Status } from "../../src/raft/rawnode.ts";

export { dec, enc, fmt, fmtEntry } from "./format.ts";

/** Storage of a fresh single-voter group ("1"), for config and contract tests. */
export function singleVoterStorage(): MemoryStorage {
  const storage = new MemoryStorage();
  bootstrap(storage, { voters: ["1"], learners: [] });
  return storage;
}

export function config(id: NodeId, overrides: Partial<RaftConfig> = {}): RaftConfig {
  return {
    id,
    electionTimeoutTicks: 10,
    heartbeatIntervalTicks: 1,
    inflightMessagesMax: 256,
    messageBytesMax: 64 * 1024,
    snapshotChunkBytesMax: 16 * 1024,
    uncommittedBytesMax: 1024 * 1024,
    quiesceAfterTicks: 0,
    preVote: false,
    checkQuorum: false,
    seed: hashSeed(id),
    ...overrides,
  };
}

function hashSeed(id: string): number {
  let h = 2166136261;
  for (const c of id) h = Math.imul(h ^ c.charCodeAt(0), 16777619);
  return h >>> 0;
}

/** The replicated state machine of a test: the list of applied commands and the membership. */
interface Machine {
  commands: string[];
  conf: ConfState;
  appliedIndex: number;
}

export interface Member {
  id: NodeId;
  raw: RawNode;
  storage: MemoryStorage;
  cfg: RaftConfig;
  machine: Machine;
  readStates: ReadState[];
  needsTicks: boolean;
  up: boolean;
  /** Read leases: the vote promise as persisted from Ready.votePromiseUntilMs (durable). */
  votePromiseUntilMs?: number;
  /** Every value of votePromiseUntilMs this member persisted, oldest first (durable). */
  votePromiseWrites: number[];
}

export interface DeliverOptions {
  /** Messages for which this returns true are lost. */
  drop?: (m: Message) => boolean;
  /** Deliver only these; the others stay queued. */
  only?: (m: Message) => boolean;
}

export class Network {
  readonly members = new Map<NodeId, Member>();
  /** Messages sent and not yet delivered, in send order. */
  queue: Message[] = [];
  /** Delivered messages, formatted; `take()` drains it. */
  private trace: string[] = [];
  /** Pairs that cannot talk ("a|b" both ways). */
  private cuts = new Set<string>();
  private leaders = new Map<number, NodeId>();
  private committed = new Map<number, { term: number; text: string }>();
  /** Per read context: the highest commit index anywhere when the read was issued. */
  private readFloors = new Map<string, number>();
  /** The network's clock (ms); members read it through `now(id)`. */
  nowMs = 0;
  /** How far the clock moves on each `tick`/`tickOnly` round (0: time stands still). */
  msPerTick = 0;
  /** Per member: how far its clock reads ahead of the network's (offsets must not matter). */
  readonly clockOffsetMs = new Map<NodeId, number>();

  constructor(ids: NodeId[], overrides: Partial<RaftConfig> = {}, learners: NodeId[] = []) {
    for (const id of [...ids, ...learners]) {
      const storage = new MemoryStorage();
      bootstrap(storage, { voters: [...ids], learners: [...learners] });
      this.add(id, storage, config(id, overrides));
    }
  }

  /** A member with empty storage, to be added by a conf change. */
  addMember(id: NodeId, overrides: Partial<RaftConfig> = {}): Member {
    return this.add(id, new MemoryStorage(), config(id, overrides));
  }

  private add(id: NodeId, storage: MemoryStorage, cfg: RaftConfig): Member {
    const conf = storage.initialState().confState;
    const member: Member = {
      id,
      raw: new RawNode(cfg, storage),
      storage,
      cfg,
      machine: { commands: [], conf, appliedIndex: storage.firstIndex() - 1 },
      readStates: [],
      needsTicks: true,
      up: true,
      votePromiseWrites: [],
    };
    this.members.set(id, member);
    return member;
  }

  get(id: NodeId): Member {
    const m = this.members.get(id);
    if (m === undefined) throw new Error(`no member ${id}`);
    return m;
  }

  status(id: NodeId): Status {
    return this.get(id).raw.status();
  }

  // Inputs.

  campaign(id: NodeId): this {
    this.get(id).raw.campaign(this.now(id));
    return this;
  }

  /** The clock reading member `id` sees now. */
  now(id: NodeId): number {
    return this.nowMs + (this.clockOffsetMs.get(id) ?? 0);
  }

  /** Moves the clock forward (nothing else happens). */
  advance(ms: number): this {
    this.nowMs += ms;
    return this;
  }

  /**
   * Read lease on `id` at its clock's current reading: the index served, or null. A served index
   * must cover every entry committed anywhere (linearizability), as a ReadState's must.
   */
  leaseRead(id: NodeId): number | null {
    const index = this.get(id).raw.leaseRead(this.now(id));
    const floor = this.highestCommitted();
    if (index !== null && index < floor) {
      throw new Error(
        `${id}: lease read at index ${index} misses entries committed through ${floor} (stale leader)`,
      );
    }
    return index;
  }

  /** Campaigns until `id` leads (a first attempt may only teach it the current term). */
  elect(id: NodeId, opts: DeliverOptions = {}): this {
    for (let i = 0; i < 5 && this.get(id).raw.status().role !== "leader"; i++)
      this.campaign(id).stabilize(opts);
    return this;
  }

  propose(id: NodeId, command: string): ProposeResult {
    return this.get(id).raw.propose(enc(command));
  }

  proposeConf(id: NodeId, cc: ConfChange): ProposeResult {
    return this.get(id).raw.proposeConfChange(cc);
  }

  readIndex(id: NodeId, context: string): ProposeResult {
    // Linearizability: the read must observe every entry committed before it was issued.
    this.readFloors.set(context, this.highestCommitted());
    return this.get(id).raw.readIndex(context);
  }

  private highestCommitted(): number {
    let max = 0;
    for (const m of this.members.values())
      max = Math.max(max, m.storage.initialState().hardState.commit, m.raw.status().commit);
    return max;
  }

  transfer(id: NodeId, to: NodeId): this {
    this.get(id).raw.transferLeadership(to);
    return this;
  }

  /**
   * Lets `n` ticks pass on the given members (default: every live one); after each tick the
   * network settles (messages travel faster than a tick).
   */
  tick(n = 1, ids?: NodeId[]): this {
    for (let i = 0; i < n; i++) {
      this.nowMs += this.msPerTick;
      for (const m of this.live(ids)) m.raw.tick(this.now(m.id));
      this.stabilize();
    }
    return this;
  }

  /** Ticks without delivering anything: messages stay queued. */
  tickOnly(n = 1, ids?: NodeId[]): this {
    for (let i = 0; i < n; i++) {
      this.nowMs += this.msPerTick;
      for (const m of this.live(ids)) m.raw.tick(this.now(m.id));
      this.processReadies();
    }
    return this;
  }

  // Network faults.

  isolate(id: NodeId): this {
    for (const other of this.members.keys()) if (other !== id) this.cut(id, other);
    return this;
  }

  cut(a: NodeId, b: NodeId): this {
    this.cuts.add(`${a}|${b}`).add(`${b}|${a}`);
    return this;
  }

  heal(): this {
    this.cuts.clear();
    return this;
  }

  /** Stops a member: its volatile state is gone, messages to it are lost. */
  crash(id: NodeId): this {
    this.get(id).up = false;
    return this;
  }

  /**
   * Restarts a member from its storage (durable state only), giving back the persisted vote
   * promise as the contract says (`overrides` can withhold it, to show why it matters).
   */
  restart(id: NodeId, overrides: Partial<RaftConfig> = {}): this {
    const old = this.get(id);
    const promise =
      old.votePromiseUntilMs !== undefined ? { votesRefusedUntilMs: old.votePromiseUntilMs } : {};
    const cfg = { ...old.cfg, ...promise, ...overrides, appliedIndex: old.machine.appliedIndex };
    const member = this.add(id, old.storage, cfg);
    member.machine = old.machine;
    if (old.votePromiseUntilMs !== undefined) member.votePromiseUntilMs = old.votePromiseUntilMs;
    member.votePromiseWrites = old.votePromiseWrites;
    return this;
  }

  // Message flow.

  /** Handles every pending Ready; returns whether there was any. */
  processReadies(): boolean {
    let any = false;
    for (const m of this.live()) {
      while (m.raw.hasReady()) {
        any = true;
        this.handleReady(m, m.raw.ready());
        m.raw.advance();
      }
    }
    return any;
  }

  /** Delivers the messages queued now (one round); new messages wait for the next round. */
  deliver(opts: DeliverOptions = {}): this {
    this.processReadies();
    const batch = this.queue;
    this.queue = [];
    for (const msg of batch) {
      if (opts.only !== undefined && !opts.only(msg)) {
        this.queue.push(msg);
        continue;
      }
      if (opts.drop?.(msg) === true) {
        this.trace.push(`${fmt(msg)} DROPPED`);
        continue;
      }
      const to = this.members.get(msg.to);
      if (to === undefined || !to.up || this.cuts.has(`${msg.from}|${msg.to}`)) continue;
      this.trace.push(fmt(msg));
      to.raw.step(msg, this.now(to.id));
      this.checkLeaders();
    }
    this.processReadies();
    return this;
  }

  /** Delivers until no member has anything to do. */
  stabilize(opts: DeliverOptions = {}, roundsMax = 1000): this {
    for (let i = 0; i < roundsMax; i++) {
      this.processReadies();
      const only = opts.only;
      if (!this.queue.some((m) => only === undefined || only(m))) return this;
      this.deliver(opts);
    }
    throw new Error("stabilize: the network did not settle");
  }

  /** Drops every queued message (e.g. to lose a round). */
  dropAll(): this {
    for (const msg of this.queue) this.trace.push(`${fmt(msg)} DROPPED`);
    this.queue = [];
    return this;
  }

  /** Delivered messages since the last call, formatted. */
  take(filter?: (line: string) => boolean): string[] {
    const lines = this.trace;
    this.trace = [];
    return filter === undefined ? lines : lines.filter(filter);
  }

  // Observations.

  leader(): NodeId | undefined {
    let best: { id: NodeId; term: number } | undefined;
    for (const m of this.live()) {
      const s = m.raw.status();
      if (s.role === "leader" && (best === undefined || s.term > best.term))
        best = { id: m.id, term: s.term };
    }
    return best?.id;
  }

  commands(id: NodeId): string[] {
    return this.get(id).machine.commands;
  }

  /** The application compacts the log through its applied index (as etcd's example does). */
  compact(id: NodeId): void {
    const m = this.get(id);
    const index = m.machine.appliedIndex;
    m.storage.compact({
      metadata: { index, term: m.storage.term(index), conf: m.machine.conf },
      data: enc(JSON.stringify(m.machine.commands)),
    });
  }

  /** Log Matching (§5.3): same index and term ⇒ identical logs up to there. */
  checkLogMatching(): void {
    const all = [...this.members.values()];
    for (const a of all) {
      for (const b of all) {
        if (a.id >= b.id) continue;
        const lo = Math.max(a.storage.firstIndex(), b.storage.firstIndex());
        const hi = Math.min(a.storage.lastIndex(), b.storage.lastIndex());
        for (let i = hi; i >= lo; i--) {
          if (a.storage.term(i) !== b.storage.term(i)) continue;
          const ea = a.storage.entries(lo, i + 1, Infinity).map(fmtEntry);
          const eb = b.storage.entries(lo, i + 1, Infinity).map(fmtEntry);
          expect(ea, `log matching between ${a.id} and ${b.id} up to ${i}`).toEqual(eb);
          break;
        }
      }
    }
  }

  private *live(ids?: NodeId[]): Generator<Member> {
    for (const m of this.members.values())
      if (m.up && (ids === undefined || ids.includes(m.id))) yield m;
  }

  private checkLeaders(): void {
    for (const m of this.live()) {
      const s = m.raw.status();
      if (s.role !== "leader") continue;
      const known = this.leaders.get(s.term);
      if (known === undefined) {
        this.leaders.set(s.term, m.id);
      } else if (known !== m.id) {
        throw new Error(`election safety violated: ${known} and ${m.id} both lead term ${s.term}`);
      }
    }
  }

  /** §5.4: a leader's log holds every entry committed in earlier terms. */
  private checkLeaderCompleteness(m: Member): void {
    const term = m.raw.status().term;
    for (const [index, c] of this.committed) {
      if (index < m.storage.firstIndex() - 1) continue;
      const has = index <= m.storage.lastIndex() && m.storage.term(index) === c.term;
      if (!has)
        throw new Error(
          `leader completeness violated: ${m.id} (term ${term}) lacks committed entry ${index}/${c.term}`,
        );
    }
  }

  private handleReady(m: Member, rd: Ready): void {
    // 1. Persist snapshot, entries, hard state.
    if (rd.snapshot !== undefined) m.storage.applySnapshot(rd.snapshot);
    m.storage.append(rd.entries);
    if (rd.hardState !== undefined) m.storage.setHardState(rd.hardState);
    if (rd.votePromiseUntilMs !== undefined) {
      m.votePromiseUntilMs = rd.votePromiseUntilMs;
      m.votePromiseWrites.push(rd.votePromiseUntilMs);
    }
    if (rd.softState?.role === "leader") {
      this.checkLeaders();
      this.checkLeaderCompleteness(m);
    }
    const hs = m.storage.initialState().hardState;
    if (hs.commit > m.storage.lastIndex())
      throw new Error(`${m.id}: commit ${hs.commit} beyond persisted log`);
    // 2. Send, checking that what a message promises is durable.
    for (const msg of rd.messages) this.checkDurable(m, msg);
    this.queue.push(...rd.messages);
    // 3. Apply.
    if (rd.snapshot !== undefined) this.applySnapshot(m, rd);
    for (const e of rd.committedEntries) this.apply(m, e);
    // 4. Reads.
    for (const rs of rd.readStates) {
      const floor = this.readFloors.get(rs.context) ?? 0;
      if (rs.index < floor)
        throw new Error(
          `${m.id}: read ${rs.context} at index ${rs.index} misses entries committed through ${floor} before it was issued`,
        );
    }
    m.readStates.push(...rd.readStates);
    m.needsTicks = rd.needsTicks;
  }

  private checkDurable(m: Member, msg: Message): void {
    const hs = m.storage.initialState().hardState;
    if (msg.type === "voteResp" && msg.reject !== true) {
      // A later term in the same Ready supersedes the vote (terms never go back).
      if (hs.term < msg.term || (hs.term === msg.term && hs.vote !== msg.to)) {
        throw new Error(
          `${m.id} granted a vote to ${msg.to} in term ${msg.term} before persisting it (stored ${hs.term}/${hs.vote || "none"})`,
        );
      }
    }
    if (msg.type === "heartbeatResp" && msg.sentAtMs !== undefined) {
      // The answer renews the leader's read lease: the promise behind it must survive a restart.
      const owed = this.now(m.id) + (m.cfg.voteRefusalMs ?? 0);
      if ((m.votePromiseUntilMs ?? Number.NEGATIVE_INFINITY) < owed) {
        throw new Error(
          `${m.id} answered a lease heartbeat promising votes refused until ${owed} but persisted only ${m.votePromiseUntilMs ?? "nothing"}`,
        );
      }
    }
    if (msg.type === "appResp" && msg.reject !== true && msg.index !== undefined) {
      if (msg.index > m.storage.lastIndex())
        throw new Error(
          `${m.id} acked index ${msg.index} but persisted only ${m.storage.lastIndex()}`,
        );
    }
    if (
      msg.term > hs.term &&
      msg.type !== "preVote" &&
      msg.type !== "preVoteResp" &&
      msg.type !== "vote" &&
      msg.type !== "voteResp"
    ) {
      throw new Error(
        `${m.id} sent ${msg.type} in term ${msg.term} with persisted term ${hs.term}`,
      );
    }
  }

  private applySnapshot(m: Member, rd: Ready): void {
    const snap = rd.snapshot!;
    m.machine.commands = snap.data.byteLength === 0 ? [] : (JSON.parse(dec(snap.data)) as string[]);
    m.machine.conf = snap.metadata.conf;
    m.machine.appliedIndex = snap.metadata.index;
  }

  private apply(m: Member, e: Entry): void {
    if (e.index !== m.machine.appliedIndex + 1)
      throw new Error(`${m.id} applied ${e.index} after ${m.machine.appliedIndex}`);
    if (e.index > m.raw.status().commit)
      throw new Error(`${m.id} applied ${e.index} beyond commit`);
    const text = fmtEntry({ ...e, index: 0 });
    const seen = this.committed.get(e.index);
    if (seen === undefined) this.committed.set(e.index, { term: e.term, text });
    else if (seen.term !== e.term || seen.text !== text) {
      throw new Error(
        `state machine safety violated at index ${e.index}: ${m.id} applied ${e.term}/${text}, another applied ${seen.term}/${seen.text}`,
      );
    }
    m.machine.appliedIndex = e.index;
    if (e.type === "conf")
      m.machine.conf = applyConfChange(m.machine.conf, decodeConfChange(e.data));
    else if (e.data.byteLength > 0) m.machine.commands.push(dec(e.data));
  }
}
