// The reshard simulation: several shards (reshard-world.ts), clients writing and compare-and-
// setting through a router, watchers following namespaces, and the real move driver
// (src/router/reshard-steps.ts) resharding 2 -> 3, 3 -> 5 or 4 -> 2 while replicas and leaders
// crash, groups are cut off, acknowledgments are lost and the Worker restarts (losing the
// driver's unsaved progress and the router's cache). Then every invariant of http-api.md
// "Across a reshard" is checked against what clients were told. A run is a function of its seed.
import { describe, expect, it } from "vitest";
import { reshardStep, type ReshardIo } from "../../src/router/reshard-operation.ts";
import { shardIndexFor } from "../../src/ring/index.ts";
import type {
  ClusterOperation,
  ClusterTopology,
  Command,
  NamespaceImage,
} from "../../src/store/types.ts";
import { Prng } from "./prng.ts";
import { Paused, Unavailable, Unknown, World } from "./reshard-world.ts";

/** A bug planted in the driver's I/O, to show the checks catch it. */
type Plant = "none" | "noFence" | "flipBeforeFinalPass" | "noRingFence";

interface Run {
  seed: number;
  from: number;
  to: number;
  plant?: Plant;
}

const namespaces = Array.from({ length: 10 }, (_, i) => `ns${i}`);
/** Namespaces first written while the reshard runs, one now and then (the ring fence's case). */
const lateNamespaces = Array.from({ length: 12 }, (_, i) => `late${i}`);
const names = ["a", "b", "c"];
const encoder = new TextEncoder();
const decoder = new TextDecoder();

interface Acked {
  key: string;
  token: string;
  revision: number;
  ifMatch?: number;
}

class Sim {
  readonly prng: Prng;
  readonly world: World;
  readonly acked: Acked[] = [];
  readonly pending: { namespace: string; command: Command; ifMatch?: number }[] = [];
  readonly violations: string[] = [];
  readonly watchers = new Map(namespaces.map((ns) => [ns, { after: 0, seen: [] as string[] }]));
  faultRate = 0.25;
  private tokens = 0;
  /** Late namespaces written so far. */
  late = 0;

  constructor(readonly run: Run) {
    this.prng = new Prng(run.seed);
    this.world = new World(this.prng, Math.max(run.from, run.to), run.from);
  }

  /** What happens between two steps of the driver: a fault, client writes, a watcher's poll. */
  interleave(): void {
    this.world.tick += 1;
    this.world.fault(this.faultRate);
    for (let n = this.prng.int(3); n > 0; n--) this.clientOp();
    if (this.prng.chance(0.5)) this.poll(namespaces[this.prng.int(namespaces.length)]!);
    if (this.pending.length > 0 && this.prng.chance(0.5)) this.retry(this.pending.shift()!);
  }

  clientOp(): void {
    if (this.late < lateNamespaces.length && this.prng.chance(0.02)) {
      const ns = lateNamespaces[this.late++]!;
      this.retry({ namespace: ns, command: seedWrite(`${ns}/a`) });
      return;
    }
    const ns = namespaces[this.prng.int(namespaces.length)]!;
    const key = `${ns}/${names[this.prng.int(names.length)]}`;
    const token = `t${this.run.seed}-${this.tokens++}`;
    let ifMatch: number | undefined;
    if (this.prng.chance(0.4)) {
      try {
        const read = this.world.router.read(ns, (s) => s.meta(key));
        ifMatch = read.type === "found" ? read.entry.modRevision : undefined;
      } catch (e) {
        if (!isTransient(e)) throw e;
        return;
      }
    }
    const command: Command = {
      type: "put",
      atMs: this.world.tick,
      key,
      value: encoder.encode(token),
      contentType: "text/plain",
      idempotencyKey: token,
      ...(ifMatch === undefined ? {} : { ifMatch }),
    };
    this.retry({ namespace: ns, command, ...(ifMatch === undefined ? {} : { ifMatch }) });
  }

  /** Sends a write; an unknown or refused outcome is sent again later, same idempotency key. */
  retry(w: { namespace: string; command: Command; ifMatch?: number }): void {
    try {
      const outcome = this.world.router.write(w.namespace, { ...w.command, atMs: this.world.tick });
      if (outcome.type !== "ok") return; // a CAS that lost: nothing to check
      const c = w.command as Command & { key: string; idempotencyKey: string };
      const acked = { key: c.key, token: c.idempotencyKey, revision: outcome.entry.modRevision };
      this.acked.push(w.ifMatch === undefined ? acked : { ...acked, ifMatch: w.ifMatch });
      this.readYourWrite(w.namespace, acked);
    } catch (e) {
      if (!isTransient(e)) throw e;
      this.pending.push(w);
    }
  }

  readYourWrite(ns: string, w: Acked): void {
    try {
      const seen = this.world.router.read(ns, (s) => s.meta(w.key));
      const revision = seen.type === "found" ? seen.entry.modRevision : 0;
      if (revision < w.revision)
        this.violations.push(`read after write of ${w.key}@${w.revision} saw ${revision}`);
    } catch (e) {
      if (!isTransient(e)) throw e;
    }
  }

  poll(ns: string): void {
    const w = this.watchers.get(ns)!;
    try {
      const changes = this.world.router.read(ns, (s) =>
        s.changes({ prefix: `${ns}/`, afterRevision: w.after, values: false }),
      );
      if (changes.type !== "changes") {
        this.violations.push(`watch of ${ns} after ${w.after}: ${changes.type}`);
        return;
      }
      for (const e of changes.events) w.seen.push(`${e.key}@${e.modRevision}`);
      w.after = changes.nextAfterRevision;
    } catch (e) {
      if (!isTransient(e)) throw e;
    }
  }

  /** The driver's I/O: each call lets the world move first (writes, faults). */
  io(plant: Plant): ReshardIo {
    const fenced = new Set<string>();
    return {
      servedNamespaces: async (shard, leaving) => {
        this.interleave();
        return this.world.groups[shard]!.leader().servedNamespaces(leaving);
      },
      exportChunk: async (shard, query) => {
        this.interleave();
        const result = this.world.groups[shard]!.leader().namespaceExport(query);
        if (
          plant === "flipBeforeFinalPass" &&
          fenced.has(query.namespace) &&
          result.type === "image"
        )
          return { ...result, image: emptyLastChunk(result.image), bytes: 0 };
        return result;
      },
      propose: async (shard, command) => {
        this.interleave();
        if (command.type === "namespaceFence" && command.flipped !== true) {
          fenced.add(command.namespace);
          // The plant's fence does nothing; once a flip really applied, the source says so.
          if (
            plant === "noFence" &&
            this.world.groups[shard]!.leader().fenceOf(command.namespace)?.flipped !== true
          )
            return {
              type: "namespaceMove",
              revision: 0,
              step: "fenced",
              namespace: command.namespace,
              keys: 0,
            };
        }
        if (command.type === "ringFence" && plant === "noRingFence")
          return { type: "namespaceMove", revision: 0, step: "ringFenced", namespace: "", keys: 0 };
        return this.world.groups[shard]!.propose(command, 0.1);
      },
      nowMs: () => this.world.tick,
      // This world runs no cross-shard txns (test/store/moves-txn.test.ts has the fence's wait).
      txnInTheWay: async () => this.interleave(),
    };
  }
}

function emptyLastChunk(image: NamespaceImage): NamespaceImage {
  const { meta: _, ...rest } = image;
  return { ...rest, keys: [], cursor: null };
}

function isTransient(e: unknown): boolean {
  return e instanceof Unavailable || e instanceof Unknown || e instanceof Paused;
}

/** The whole run: seed the namespaces, reshard under load and faults, heal, settle, check. */
interface Result {
  violations: string[];
  /** Namespaces moved. */
  moved: number;
  acked: number;
  redirects: number;
}

async function simulate(run: Run): Promise<Result> {
  const sim = new Sim(run);
  sim.faultRate = 0;
  for (const ns of namespaces)
    for (const n of names) sim.retry({ namespace: ns, command: seedWrite(`${ns}/${n}`) });
  sim.faultRate = 0.25;
  // The directory's record, as last saved: a Worker may die before saving a step's record.
  let op = reshardOperation(run);
  const topology = { epoch: 1, shards: [] } as unknown as ClusterTopology;
  const io = sim.io(run.plant ?? "none");
  for (let steps = 0; op.state === "running"; steps++) {
    if (steps > 5_000) throw new Error("the reshard did not finish");
    try {
      const update = await reshardStep(io, topology, op);
      if (!sim.prng.chance(0.1)) op = update.operation;
    } catch (e) {
      if (!isTransient(e)) throw e;
    }
  }
  if (op.state !== "done") throw new Error(`the reshard ${op.state}: ${op.error}`);
  // Isolates that have not read the new directory yet route by the old ring a while longer.
  for (let i = 0; i < 60; i++) sim.interleave();
  sim.world.ringShards = run.to;
  sim.world.router = new (
    sim.world.router.constructor as typeof import("./reshard-world.ts").Router
  )(sim.world);
  settle(sim);
  const violations = [...sim.violations, ...check(sim, run)];
  return {
    violations,
    moved: op.reshard!.moved,
    acked: sim.acked.length,
    redirects: sim.world.stats.redirects,
  };
}

/** A reshard's record as the directory starts it (reshard-operation.ts planReshard). */
function reshardOperation(run: Run): ClusterOperation {
  const progress = { done: 0, total: 0, unit: "namespaces" };
  const reshard = { fromShards: run.from, toShards: run.to, move: null, moved: 0, bytes: 0 };
  return {
    ...{ id: "op-1", kind: "reshard", shard: 0, state: "running", step: "reshard", progress },
    ...{ startedAtMs: 0, updatedAtMs: 0 },
    reshard: { ...reshard, keys: 0, pauseMsMax: 0, pausesMs: [] },
  };
}

function seedWrite(key: string): Command {
  return {
    type: "put",
    atMs: 0,
    key,
    value: encoder.encode(`seed-${key}`),
    contentType: "text/plain",
    idempotencyKey: `seed-${key}`,
  };
}

/** Faults stop; every write still unanswered is retried until it is; every watcher catches up. */
function settle(sim: Sim): void {
  sim.faultRate = 0;
  sim.world.heal();
  const rounds = 1_000 + 4 * sim.pending.length;
  for (let round = 0; sim.pending.length > 0; round++) {
    if (round > rounds) throw new Error("writes still unanswered after healing");
    sim.world.tick += 1;
    sim.retry(sim.pending.shift()!);
  }
  for (const ns of namespaces) sim.poll(ns);
}

function check(sim: Sim, run: Run): string[] {
  const out: string[] = [];
  const owner = (ns: string) => sim.world.groups[shardIndexFor(ns, run.to)]!.leader();
  const byRevision = new Map<string, string>();
  const newest = new Map<string, number>();
  for (const w of sim.acked) {
    const store = owner(w.key.split("/")[0]!);
    const at = store.get({ key: w.key, atRevision: w.revision });
    const value =
      at.type === "found" && at.entry.modRevision === w.revision ? decoder.decode(at.value) : null;
    if (value !== w.token)
      out.push(`acknowledged ${w.key}@${w.revision}=${w.token} lost (found ${at.type} ${value})`);
    newest.set(w.key, Math.max(newest.get(w.key) ?? 0, w.revision));
    const id = `${w.key}@${w.revision}`;
    if (byRevision.has(id) && byRevision.get(id) !== w.token) out.push(`ETag ${id} repeats`);
    byRevision.set(id, w.token);
    if (w.ifMatch !== undefined) {
      const h = store.history(w.key);
      const items = h.type === "history" ? h.items : [];
      const i = items.findIndex((x) => x.modRevision === w.revision);
      const before = items[i + 1];
      if (before === undefined || before.deleted || before.modRevision !== w.ifMatch)
        out.push(
          `CAS ${w.key} ifMatch ${w.ifMatch} succeeded at ${w.revision} over ${before?.modRevision}`,
        );
    }
  }
  for (const [key, revision] of newest) {
    const now = owner(key.split("/")[0]!).meta(key);
    if (now.type !== "found" || now.entry.modRevision < revision)
      out.push(`acknowledged ${key}@${revision} is not on its shard (${now.type})`);
  }
  for (const ns of namespaces) out.push(...checkNamespace(sim, run, ns));
  for (const g of sim.world.groups) {
    const snapshots = g.replicas.map((r) => r.store!.snapshot());
    for (const r of g.replicas) r.store!.checkInvariants();
    if (snapshots.some((s) => Buffer.compare(s, snapshots[0]!) !== 0))
      out.push(`replicas of shard ${g.shard} differ`);
  }
  return out;
}

/** One owner holds the namespace, each value once; the watcher saw each change exactly once. */
function checkNamespace(sim: Sim, run: Run, ns: string): string[] {
  const out: string[] = [];
  const home = shardIndexFor(ns, run.to);
  const store = sim.world.groups[home]!.leader();
  const events = store.changes({ prefix: `${ns}/`, afterRevision: 0, values: true });
  if (events.type !== "changes") return [`${ns}: changes ${events.type}`];
  const tokens = events.events.map((e) => decoder.decode(e.value ?? new Uint8Array()));
  if (new Set(tokens).size !== tokens.length) out.push(`${ns}: a write was applied twice`);
  const expected = events.events.map((e) => `${e.key}@${e.modRevision}`);
  const seen = sim.watchers.get(ns)!.seen;
  if (seen.join() !== expected.join())
    out.push(
      `${ns}: the watcher saw ${seen.length} events [${seen.slice(-4)}], the shard has ${expected.length} [${expected.slice(-4)}]`,
    );
  sim.world.groups.forEach((g, s) => {
    if (s === home) return;
    const left = names.filter((n) => g.leader().history(`${ns}/${n}`).type !== "notFound");
    if (left.length > 0) out.push(`${ns}: shard ${s} still holds ${left}`);
  });
  return out;
}

const seeds = (n: number, first = 1) => Array.from({ length: n }, (_, i) => first + i);
/** CI runs 60 seeds of each ring change; `SIM_SEEDS=1000 SIM_FIRST=61` runs more, elsewhere. */
const seedsPerRun = Number(process.env.SIM_SEEDS ?? 60);
const firstSeed = Number(process.env.SIM_FIRST ?? 1);

describe("resharding under load, crashes and partitions (multi-shard simulation)", () => {
  it.each([
    [2, 3],
    [3, 5],
    [4, 2],
  ])(
    "keeps every invariant across a reshard from %i to %i shards, seed after seed",
    { timeout: Math.max(60_000, seedsPerRun * 1_000) },
    async (from, to) => {
      for (const seed of seeds(seedsPerRun, firstSeed)) {
        const { violations, moved } = await simulate({ seed, from, to });
        expect(violations, `seed ${seed}`).toEqual([]);
        expect(moved, `seed ${seed}`).toBeGreaterThan(0);
      }
    },
  );

  it("catches a driver that never fences: writes acknowledged on the source after the last pass are lost", async () => {
    const caught = await countCaught("noFence");
    expect(caught).toBeGreaterThan(5);
  });

  it("catches a driver that flips before the last pass: the writes of the last catch-up are lost", async () => {
    const caught = await countCaught("flipBeforeFinalPass");
    expect(caught).toBeGreaterThan(5);
  });

  it("catches a driver that changes the ring without fencing it: a namespace first written after its last look stays behind", async () => {
    const caught = await countCaught("noRingFence");
    expect(caught).toBeGreaterThan(5);
  });
});

async function countCaught(plant: Plant): Promise<number> {
  let caught = 0;
  for (const seed of seeds(20)) {
    const { violations } = await simulate({ seed, from: 3, to: 5, plant });
    if (violations.length > 0) caught += 1;
  }
  return caught;
}
