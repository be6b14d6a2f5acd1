// One simulated replica: durable storage that survives crashes, and everything volatile (the
// RawNode object, the state machine, pending reads and writes) that a crash throws away.
import type { LogStorage } from "../../src/raft/storage.ts";
import type { ConfState, HardState, NodeId, Role } from "../../src/raft/types.ts";
import type { RawNodeLike } from "./core.ts";
import { KvStateMachine, type KvResult } from "./kv-state-machine.ts";

export interface PendingRead {
  key: string;
  /** From the ReadState; null until the leader has confirmed the read. */
  index: number | null;
  done: (value: string | null) => void;
}

export class NodeHost {
  readonly id: NodeId;
  /** Durable: survives crashes. */
  readonly storage: LogStorage;
  /** What the harness persisted last (mirrors storage, kept to compare against). */
  persistedHardState: HardState;
  /**
   * Durable, next to the hard state: the end of this member's read-lease vote promise, by its own
   * clock (Ready.votePromiseUntilMs), given back as RaftConfig.votesRefusedUntilMs on restart.
   */
  votePromiseUntilMs: number | undefined = undefined;
  /**
   * The member's wall clock (cluster.ts `clockMs`): offset + rate x simulator time. A property of
   * the machine, not of the process, so it survives crashes (see cluster.ts for why the rate is
   * independent of `tickRate`).
   */
  clockOffsetMs = 0;
  clockRate = 1;

  // Volatile state, rebuilt on restart.
  raw: RawNodeLike | null = null;
  machine = new KvStateMachine();
  appliedIndex = 0;
  confAtApplied: ConfState = { voters: [], learners: [] };
  needsTicks = true;
  readonly pendingReads = new Map<string, PendingRead>();
  /** Writes proposed through this replica: `${client}.${seq}` -> callback on apply. */
  readonly waitingWrites = new Map<string, (result: KvResult) => void>();
  lastRole: Role = "follower";
  lastTerm = 0;
  lastConf: ConfState = { voters: [], learners: [] };

  // Scheduling.
  /** Node ticks per simulator tick; different per node to model skewed clocks. */
  tickRate = 1;
  tickCredit = 0;
  /** No ticks before this simulator tick: its alarm is late (a stall, faults.ts). */
  ticksStalledUntil = 0;
  /** While crashed: the simulator tick at which it restarts (Infinity: stays down). */
  restartAtTick = 0;
  /** Removed from the group at the end of a run: a destroyed replica never restarts. */
  destroyed = false;

  constructor(id: NodeId, storage: LogStorage) {
    this.id = id;
    this.storage = storage;
    this.persistedHardState = { ...storage.initialState().hardState };
  }

  get up(): boolean {
    return this.raw !== null;
  }

  /** Drops every piece of volatile state, as a process crash would. */
  loseVolatileState(): void {
    this.raw = null;
    this.machine = new KvStateMachine();
    this.appliedIndex = 0;
    this.pendingReads.clear();
    this.waitingWrites.clear();
    this.needsTicks = true;
    this.tickCredit = 0;
    this.ticksStalledUntil = 0;
  }
}
