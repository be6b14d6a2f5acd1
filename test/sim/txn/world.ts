// The world of the cross-shard txn simulator: several shards, each a Raft group modelled as what
// Raft gives its clients (one linearizable log applied to the real src/store Store), and a lossy
// network between the clients (which coordinate txns) and the groups.
//
// Why a model of the group and not test/sim's Raft cluster: the 2PC protocol relies on exactly
// two properties of a group, that it applies a committed command once, in log order, and never
// fail-stops (it may be unavailable for a while). test/sim checks those of the Raft core; here a
// seed costs ~5 ms instead of ~2 s, so 20,000 seeds of txn interleavings fit in minutes. What a
// group crash does here: it is down for a while (messages to it are lost; a command that reached
// it may have committed with its answer lost), then its leader restarts from its latest snapshot
// plus the log after it (Store.restore + replay), so intents go through snapshots and the codec.
import { decodeCommand, encodeCommand, Store } from "../../../src/store/index.ts";
import type { Command, GetResult, Key, TxnIntent, WriteOutcome } from "../../../src/store/index.ts";
import type { Prng } from "../prng.ts";

/** A linearizable read as the API serves it: the committed value, and the intent on the key. */
export interface ReadReply {
  type: "read";
  result: GetResult;
  intent: TxnIntent | null;
}

export type Reply = WriteOutcome | ReadReply;

export interface Request {
  group: number;
  command?: Command;
  read?: Key;
}

/** Hooks the checks (checks.ts) observe every apply through: the ground truth of the history. */
export interface ApplyObserver {
  beforeApply(group: number, store: Store, command: Command): void;
  afterApply(group: number, store: Store, command: Command, outcome: WriteOutcome): void;
}

export class Group {
  store = new Store();
  private log: Uint8Array[] = [];
  private snapshot: { bytes: Uint8Array; index: number } | null = null;
  downUntilTick = 0;
  crashes = 0;

  constructor(
    readonly index: number,
    private readonly observer: ApplyObserver,
    private readonly snapshotEvery: number,
  ) {}

  apply(command: Command): WriteOutcome {
    const bytes = encodeCommand(command);
    const decoded = decodeCommand(bytes);
    this.log.push(bytes);
    this.observer.beforeApply(this.index, this.store, decoded);
    const outcome = this.store.apply(this.log.length, decoded);
    this.observer.afterApply(this.index, this.store, decoded, outcome);
    if (this.log.length % this.snapshotEvery === 0)
      this.snapshot = { bytes: this.store.snapshot(), index: this.log.length };
    return outcome;
  }

  read(key: Key): ReadReply {
    return { type: "read", result: this.store.get({ key }), intent: this.store.intent(key) };
  }

  /** The leader dies: the group is down until `untilTick`, then restarts from disk. */
  crash(untilTick: number): void {
    this.downUntilTick = untilTick;
    this.crashes += 1;
    const restored = this.snapshot === null ? new Store() : Store.restore(this.snapshot.bytes);
    const from = this.snapshot?.index ?? 0;
    for (let i = from; i < this.log.length; i++) restored.apply(i + 1, this.log[i]!);
    restored.checkInvariants();
    this.store = restored;
  }
}

export interface NetworkFaults {
  lossProbability: number;
  duplicateProbability: number;
  /** Ticks a message takes: usually 1..delayTicksMax, now and then up to longDelayTicks. */
  delayTicksMax: number;
  longDelayProbability: number;
  longDelayTicks: number;
  /**
   * A duplicate that arrives late: up to this many ticks after it was sent, often past the txn's
   * deadline (a prepare a coordinator sent long ago, arriving after recovery); 0: none.
   */
  lateCopyTicks: number;
}

export const healedNetwork: NetworkFaults = {
  lossProbability: 0,
  duplicateProbability: 0,
  delayTicksMax: 2,
  longDelayProbability: 0,
  longDelayTicks: 0,
  lateCopyTicks: 0,
};

interface Delivery {
  atTick: number;
  seq: number;
  run: () => void;
}

/** Timed deliveries in (tick, send order); cuts between a client and a group are symmetric. */
export class Network {
  private queue: Delivery[] = [];
  private seq = 0;
  faults: NetworkFaults = healedNetwork;
  /** "client:group" -> tick the cut heals at. */
  readonly cuts = new Map<string, number>();
  sent = 0;

  constructor(private readonly prng: Prng) {}

  cut(client: number, group: number, untilTick: number): void {
    this.cuts.set(`${client}:${group}`, untilTick);
  }

  isCut(client: number, group: number, nowTick: number): boolean {
    return (this.cuts.get(`${client}:${group}`) ?? 0) > nowTick;
  }

  /** Sends `run` to happen after a delay; lost or duplicated per the faults in force. */
  send(nowTick: number, run: () => void): void {
    this.sent += 1;
    const f = this.faults;
    if (this.prng.chance(f.lossProbability)) return;
    const copies = this.prng.chance(f.duplicateProbability) ? 2 : 1;
    for (let i = 0; i < copies; i++) {
      const long = this.prng.chance(f.longDelayProbability);
      const late = i === 1 && f.lateCopyTicks > 0 && this.prng.chance(0.5);
      const delay = late
        ? this.prng.range(1, f.lateCopyTicks)
        : long
          ? this.prng.range(1, f.longDelayTicks)
          : this.prng.range(1, f.delayTicksMax);
      this.queue.push({ atTick: nowTick + delay, seq: this.seq++, run });
    }
  }

  /** Runs every delivery due by `nowTick`, in order (deliveries may schedule more). */
  deliver(nowTick: number): void {
    for (;;) {
      let best = -1;
      for (let i = 0; i < this.queue.length; i++) {
        const d = this.queue[i]!;
        if (d.atTick > nowTick) continue;
        const b = this.queue[best];
        if (b === undefined || d.atTick < b.atTick || (d.atTick === b.atTick && d.seq < b.seq))
          best = i;
      }
      if (best < 0) return;
      const [d] = this.queue.splice(best, 1);
      d!.run();
    }
  }

  get pending(): number {
    return this.queue.length;
  }
}
