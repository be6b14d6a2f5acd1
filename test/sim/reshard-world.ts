// A seeded world of several shards for the reshard simulation (reshard.test.ts): each shard a
// group of three replicas applying one committed log to real Stores (src/store), with crashes
// (a replica loses its Store and restarts from its last snapshot plus the log), leader loss,
// partitions (the group answers nothing), lost acknowledgments (committed, but the caller hears
// nothing), and Worker restarts (the router's cache and the driver's unsaved progress are lost).
// The consensus inside a group is test/sim's subject; here a committed entry is applied by every
// replica that is up, which is what Raft guarantees them, so the run checks the move protocol.
import { shardIndexFor } from "../../src/ring/index.ts";
import { encodeCommand } from "../../src/store/codec.ts";
import { Store } from "../../src/store/store.ts";
import type { Command, WriteOutcome } from "../../src/store/types.ts";
import type { Prng } from "./prng.ts";

/**
 * Every version kept (a snapshot keeps the options): the checks read each acknowledged write at
 * its revision and each namespace's changes from 0, which a long run would otherwise trim.
 */
const newStore = () => new Store({ historyVersionsPerKey: 1_000_000 });

/** The group answered nothing (partitioned, no majority): nothing happened. */
export class Unavailable extends Error {}
/** The entry may have committed, but the answer was lost: retry with the same idempotency key. */
export class Unknown extends Error {}
/** The namespace is between its fence and its activation: retry shortly. */
export class Paused extends Error {}

interface Replica {
  store: Store | null;
  snapshot: Uint8Array | null;
}

export class Group {
  readonly log: Uint8Array[] = [];
  readonly replicas: Replica[] = [0, 1, 2].map(() => ({ store: newStore(), snapshot: null }));
  partitionedUntil = 0;

  constructor(
    readonly shard: number,
    private readonly world: World,
  ) {}

  get available(): boolean {
    const up = this.replicas.filter((r) => r.store !== null).length;
    return up >= 2 && this.world.tick >= this.partitionedUntil;
  }

  /** The leader: the first replica that is up (crashing it elects the next). */
  leader(): Store {
    if (!this.available) throw new Unavailable(`shard ${this.shard} is unavailable`);
    return this.replicas.find((r) => r.store !== null)!.store!;
  }

  propose(command: Command, ackLostChance = 0): WriteOutcome {
    const leader = this.leader();
    const entry = encodeCommand(command);
    this.log.push(entry);
    const index = this.log.length;
    let outcome: WriteOutcome | undefined;
    for (const r of this.replicas) {
      if (r.store === null) continue;
      const o = r.store.apply(index, entry);
      if (r.store === leader) outcome = o;
    }
    if (this.world.prng.chance(ackLostChance)) throw new Unknown("the acknowledgment was lost");
    return outcome!;
  }

  crash(i: number): void {
    if (i >= 0) this.replicas[i]!.store = null;
  }

  restart(i: number): void {
    const r = this.replicas[i]!;
    if (r.store !== null) return;
    const store = r.snapshot === null ? newStore() : Store.restore(r.snapshot);
    for (let index = store.appliedIndex + 1; index <= this.log.length; index++)
      store.apply(index, this.log[index - 1]!);
    r.store = store;
  }

  snapshot(i: number): void {
    const r = this.replicas[i]!;
    if (r.store !== null) r.snapshot = r.store.snapshot();
  }
}

/** What one Worker isolate knows: the ring it routes by and where moved namespaces went. */
export class Router {
  readonly moved = new Map<string, number>();
  constructor(private readonly world: World) {}

  shardOf(namespace: string): number {
    return this.moved.get(namespace) ?? shardIndexFor(namespace, this.world.ringShards);
  }

  /** A write, following `moved` answers; `moving` (the pause) is Paused. */
  write(namespace: string, command: Command): WriteOutcome {
    // As raft-router.ts: a move in its pause sends this write on, not the isolate's reads.
    let pausedAt: number | undefined;
    for (let hop = 0; hop < 4; hop++) {
      const shard = pausedAt ?? this.shardOf(namespace);
      const outcome = this.world.groups[shard]!.propose(command, 0.05);
      if (outcome.type === "moved") {
        this.world.stats.redirects += 1;
        if (outcome.flipped === true) this.moved.set(namespace, outcome.shard);
        pausedAt = outcome.flipped === true ? undefined : outcome.shard;
      } else if (outcome.type === "moving") throw new Paused(namespace);
      else return outcome;
    }
    throw new Paused(`${namespace}: too many redirects`);
  }

  /** A linearizable read on the leader, redirected as a replica does for a flipped namespace. */
  read<T>(namespace: string, query: (store: Store) => T): T {
    for (let hop = 0; hop < 4; hop++) {
      const store = this.world.groups[this.shardOf(namespace)]!.leader();
      const fence = store.fenceOf(namespace);
      if (fence === null || !fence.flipped) return query(store);
      this.moved.set(namespace, fence.shard);
    }
    throw new Paused(`${namespace}: too many redirects`);
  }
}

export class World {
  tick = 0;
  readonly groups: Group[];
  /** Survives Worker restarts: what the run exercised. */
  readonly stats = { redirects: 0 };
  router: Router;

  constructor(
    readonly prng: Prng,
    shards: number,
    public ringShards: number,
  ) {
    this.groups = Array.from({ length: shards }, (_, i) => new Group(i, this));
    this.router = new Router(this);
  }

  /** One fault, at the run's rates: crash, restart, snapshot, partition, Worker restart. */
  fault(rate: number): void {
    const p = this.prng;
    if (!p.chance(rate)) return;
    const g = this.groups[p.int(this.groups.length)]!;
    const i = p.int(3);
    const roll = p.int(10);
    if (roll < 2) g.crash(i);
    else if (roll < 3)
      g.crash(g.replicas.findIndex((r) => r.store !== null)); // the leader
    // A restart brings back a replica that is down (one that is up has nothing to restart).
    else if (roll < 6)
      g.restart(
        Math.max(
          0,
          g.replicas.findIndex((r) => r.store === null),
        ),
      );
    else if (roll < 8) g.snapshot(i);
    else if (roll < 9) g.partitionedUntil = this.tick + 1 + p.int(4);
    else this.router = new Router(this);
  }

  heal(): void {
    for (const g of this.groups) {
      g.partitionedUntil = 0;
      for (let i = 0; i < 3; i++) g.restart(i);
    }
  }
}
