// One seed of the cross-shard txn simulator: a bank of accounts spread over namespaces, which the
// ring places on 2-4 groups; clients transfer money between random accounts (one shard: the
// single-shard txn; several: two-phase commit) and audit the total with read-only txns over
// every account, while coordinators crash between any two steps, groups crash and restart from
// their snapshots, client-group links are cut, and messages are lost, duplicated and delayed.
// Then everything heals, a last reader reads every account (resolving what it meets), and the
// checks run (checks.ts). With `keyedRetries`, some transfers and some unconditional stamps carry
// an Idempotency-Key, and their clients retry them (same key, same ops) from at once to several
// deadlines after the answer, for the exactly-once checks. A run is a pure function of its seed
// and options.
import { shardIndexFor } from "../../../src/ring/index.ts";
import type { Key, TxnCompare, TxnOp } from "../../../src/store/index.ts";
import { Prng } from "../prng.ts";
import {
  type Bugs,
  type ClientEnv,
  type Proc,
  type ReplayedFrom,
  readKey,
  runTxn,
  type Step,
  type TxnSpec,
} from "./client.ts";
import { History } from "./checks.ts";
import { Group, healedNetwork, Network, type Reply } from "./world.ts";

export interface TxnSeedOptions {
  seed: number;
  bugs?: Bugs;
  faultTicks?: number;
  /**
   * Keyed requests (Idempotency-Key) that clients retry, from at once to several deadlines
   * after the answer (any answer, a lost one too), and the exactly-once checks.
   */
  keyedRetries?: boolean;
}

export interface TxnSeedResult {
  txns: number;
  commits: number;
  aborts: number;
  singleShard: number;
  audits: number;
  groupCrashes: number;
  /** Keyed requests, their attempts after the first, replayed answers, requests applied. */
  keyed: number;
  retries: number;
  replays: Record<ReplayedFrom, number>;
  /** Replays answered unknown: a tombstone of the first attempt was gone. */
  replaysGone: number;
  keyedApplied: number;
  /** Retries with the key of another request (a client's bug), refused. */
  keysReused: number;
}

export class TxnSimViolation extends Error {}

const msPerTick = 50;
const balance = 100;
const encoder = new TextEncoder();

interface Running {
  proc: Proc<unknown>;
  /** Resumes when every reply is in or at `untilTick`. */
  untilTick: number;
  replies: (Reply | null)[];
  open: number;
  sleeping: boolean;
  generation: number;
}

export function runTxnSeed(opts: TxnSeedOptions): TxnSeedResult {
  const prng = new Prng(opts.seed);
  const groupCount = prng.range(2, 4);
  const namespaces = Array.from(
    { length: prng.range(3, 6) },
    (_, i) => `bank${opts.seed % 97}-${i}`,
  );
  const accounts: Key[] = namespaces.flatMap((n) => [`${n}/x`, `${n}/y`]);
  // Where keyed stamps (blind puts of the request's key) go: outside the bank.
  const stamps: Key[] = namespaces.map((n) => `${n}/stamp`);
  const history = new History();
  const groups = Array.from(
    { length: groupCount },
    (_, i) => new Group(i, history, prng.range(3, 20)),
  );
  const network = new Network(prng);
  const faultTicks = opts.faultTicks ?? 500;
  let tick = 0;
  let txnCounter = 0;
  let audits = 0;
  for (const key of accounts)
    groups[shardIndexFor(key.split("/")[0]!, groupCount)]!.apply({
      type: "put",
      atMs: 0,
      key,
      value: encoder.encode(String(balance)),
      contentType: "text/plain",
    });

  const clientCount = prng.range(3, 6);
  // Clients' clocks (they stamp atMs and set deadlines) are off by up to 0.3 s, or 2.5 s: safety
  // must not depend on them, only on each group's store clock.
  const skewMax = prng.pick([300, 300, 2500]);
  const skews = Array.from({ length: clientCount + 1 }, () => prng.range(-skewMax, skewMax));
  const envOf = (client: number): ClientEnv => ({
    client,
    nowMs: () => tick * msPerTick + skews[client]!,
    groupOf: (namespace) => shardIndexFor(namespace, groupCount),
    newTxnId: () => `c${client}-${++txnCounter}`,
    begin: (txnId, g, key) => history.begin(txnId, g, key),
    answered: (txnId, answer) => history.answered(txnId, answer),
    attempted: (key, txnId, answer) => history.attempted(key, txnId, answer),
    bugs: opts.bugs ?? {},
    deadlineSpanMs: prng.pick([1000, 2000, 4000]),
  });
  let stopping = false;
  const badAudits: number[] = [];
  const onAudit = (sum: number) => {
    audits += 1;
    if (sum !== balance * accounts.length) badAudits.push(sum);
  };

  const keyedFigures = { keyed: 0, retries: 0 };
  let keyCounter = 0;
  // Each client's retries outlive its coordinator (a crash is an answer lost).
  const retries = new Map<number, Retry[]>();
  const workload = (client: number): Workload => {
    if (!retries.has(client)) retries.set(client, []);
    return {
      accounts,
      stamps,
      keyed: opts.keyedRetries === true,
      stopping: () => stopping,
      onAudit,
      retries: retries.get(client)!,
      newKey: () => `k${++keyCounter}`,
      figures: keyedFigures,
    };
  };
  const running = new Map<number, Running | null>();
  const restartAt = new Map<number, number>();
  for (let c = 0; c < clientCount; c++)
    running.set(c, start(clientLoop(envOf(c), workload(c), prng.fork())));

  function start(proc: Proc<unknown>): Running {
    const r: Running = {
      proc,
      untilTick: tick,
      replies: [],
      open: 0,
      sleeping: false,
      generation: 0,
    };
    return r;
  }

  function resume(client: number, r: Running): boolean {
    const { value, done } = r.proc.next(r.replies);
    if (done) return false;
    issue(client, r, value);
    return true;
  }

  function issue(client: number, r: Running, step: Step): void {
    r.generation += 1;
    const generation = r.generation;
    r.sleeping = step.kind === "sleep";
    if (step.kind === "sleep") {
      r.untilTick = tick + step.ticks;
      r.replies = [];
      r.open = 0;
      return;
    }
    r.untilTick = tick + step.timeoutTicks;
    r.replies = step.requests.map(() => null);
    r.open = step.requests.length;
    step.requests.forEach((req, i) => {
      network.send(tick, () => {
        const g = groups[req.group]!;
        if (g.downUntilTick > tick || network.isCut(client, req.group, tick)) return;
        const reply: Reply = req.read !== undefined ? g.read(req.read) : g.apply(req.command!);
        network.send(tick, () => {
          if (
            r.generation !== generation ||
            r.replies[i] !== null ||
            network.isCut(client, req.group, tick)
          )
            return;
          r.replies[i] = reply;
          r.open -= 1;
        });
      });
    });
  }

  const faults = faultPlan(prng);
  const healTicks = 1500;
  for (tick = 0; tick < faultTicks + healTicks; tick++) {
    const faulty = tick < faultTicks;
    network.faults = faulty ? faults.network : healedNetwork;
    if (tick === faultTicks + 300) stopping = true;
    if (faulty) injectFaults(prng, faults, groups, network, tick, clientCount);
    network.deliver(tick);
    for (const [client, r] of running) {
      if (r === null) {
        if ((restartAt.get(client) ?? 0) <= tick && !stopping)
          running.set(client, start(clientLoop(envOf(client), workload(client), prng.fork())));
        continue;
      }
      if (r.untilTick > tick && (r.sleeping || r.open > 0)) continue;
      if (faulty && prng.chance(faults.coordinatorCrashProbability)) {
        running.set(client, null);
        restartAt.set(client, tick + prng.range(1, 30));
        continue;
      }
      if (!resume(client, r)) running.set(client, null);
    }
    if (stopping && [...running.values()].every((r) => r === null) && network.pending === 0) break;
  }
  return finalChecks(history, groups, accounts, stamps, tick, envOf(clientCount), badAudits, {
    txns: txnCounter,
    audits,
    groupCrashes: groups.reduce((n, g) => n + g.crashes, 0),
    ...keyedFigures,
  });
}

interface FaultPlan {
  network: typeof healedNetwork;
  coordinatorCrashProbability: number;
  groupCrashProbability: number;
  cutProbability: number;
}

function faultPlan(prng: Prng): FaultPlan {
  return {
    network: {
      lossProbability: prng.pick([0, 0.02, 0.1]),
      duplicateProbability: prng.pick([0, 0.02, 0.05, 0.1]),
      delayTicksMax: prng.range(1, 4),
      longDelayProbability: prng.pick([0, 0.01, 0.03]),
      longDelayTicks: prng.range(10, 120),
      lateCopyTicks: prng.pick([0, 30, 60, 250]),
    },
    coordinatorCrashProbability: prng.pick([0.01, 0.03, 0.08]),
    groupCrashProbability: prng.pick([0, 0.002, 0.01]),
    cutProbability: prng.pick([0, 0.005, 0.02]),
  };
}

function injectFaults(
  prng: Prng,
  f: FaultPlan,
  groups: Group[],
  network: Network,
  tick: number,
  clients: number,
): void {
  for (const g of groups)
    if (g.downUntilTick <= tick && prng.chance(f.groupCrashProbability))
      g.crash(tick + prng.range(5, 60));
  if (prng.chance(f.cutProbability))
    network.cut(prng.int(clients), prng.int(groups.length), tick + prng.range(10, 80));
}

const valueOf = (key: Key, value: string): TxnCompare => ({
  key,
  target: "value",
  op: "=",
  value: encoder.encode(value),
});
const putOf = (key: Key, value: number): TxnOp => ({
  type: "put",
  key,
  value: encoder.encode(String(value)),
  contentType: "text/plain",
});

interface Retry {
  spec: TxnSpec;
  attempt: number;
  delayMs: number;
  /** null while the attempt before it runs: the delay counts from its answer. */
  dueMs: number | null;
}

interface Workload {
  accounts: Key[];
  stamps: Key[];
  keyed: boolean;
  stopping: () => boolean;
  onAudit: (sum: number) => void;
  retries: Retry[];
  newKey: () => string;
  figures: { keyed: number; retries: number };
}

/**
 * A client: transfers (80 %) and audits of every account (20 %), until told to stop; with keyed
 * retries, some transfers and stamps carry a key, and a retry due goes first.
 */
function* clientLoop(env: ClientEnv, w: Workload, prng: Prng): Proc<void> {
  // The attempt before a crash was answered by the crash (a lost answer).
  for (const r of w.retries) r.dueMs ??= env.nowMs() + r.delayMs;
  while (!w.stopping()) {
    const due = w.retries.findIndex((r) => r.dueMs !== null && r.dueMs <= env.nowMs());
    if (due >= 0) {
      const [r] = w.retries.splice(due, 1);
      w.figures.retries += 1;
      yield* keyedAttempt(env, w, prng, r!.spec, r!.attempt);
    } else if (prng.chance(0.2)) yield* audit(env, w);
    else if (w.keyed && prng.chance(0.15)) {
      const spec = stampOf(w, prng, w.newKey());
      w.figures.keyed += 1;
      yield* keyedAttempt(env, w, prng, spec, 1);
    } else {
      const spec = yield* transferOf(env, w, prng);
      const key = w.keyed && prng.chance(0.3) ? w.newKey() : undefined;
      if (spec !== null && key !== undefined) {
        w.figures.keyed += 1;
        yield* keyedAttempt(env, w, prng, { ...spec, idempotencyKey: key }, 1);
      } else if (spec !== null) yield* runTxn(env, spec);
    }
    yield { kind: "sleep", ticks: prng.range(0, 3) };
  }
}

/** A read-only txn over every account: the bank's total. */
function* audit(env: ClientEnv, w: Workload): Proc<void> {
  const answer = yield* runTxn(env, {
    compare: [],
    success: w.accounts.map((key) => ({ type: "get", key })),
    failure: [],
  });
  if (answer.kind !== "committed" || answer.results.length !== w.accounts.length) return;
  w.onAudit(
    answer.results.reduce(
      (s, r) =>
        s + (r.type === "get" && r.value !== null ? Number(new TextDecoder().decode(r.value)) : 0),
      0,
    ),
  );
}

/** A transfer between two accounts read just before, guarded by their values; null: unread. */
function* transferOf(env: ClientEnv, w: Workload, prng: Prng): Proc<TxnSpec | null> {
  const from = prng.pick(w.accounts);
  const to = prng.pick(w.accounts.filter((a) => a !== from));
  const a = yield* readKey(env, from);
  const b = yield* readKey(env, to);
  if (typeof a !== "string" || typeof b !== "string") return null;
  const amount = Math.min(Number(a), prng.range(1, 20));
  return {
    compare: [valueOf(from, a), valueOf(to, b)],
    success: [putOf(from, Number(a) - amount), putOf(to, Number(b) + amount)],
    failure: [],
  };
}

/** Unconditional: blind puts of the key to two stamps (applied again, they commit again). */
function stampOf(w: Workload, prng: Prng, idempotencyKey: string): TxnSpec {
  const one = prng.pick(w.stamps);
  const two = prng.pick(w.stamps.filter((k) => k !== one));
  const value = encoder.encode(idempotencyKey);
  const put = (key: Key): TxnOp => ({ type: "put", key, value, contentType: "text/plain" });
  return { compare: [], success: [put(one), put(two)], failure: [], idempotencyKey };
}

/**
 * A client bug: the key again, for a request that differs (a stamp's value changed; a transfer
 * as it was). The store must refuse it (idempotencyKeyReused) wherever the key is recorded.
 */
function misused(spec: TxnSpec): TxnSpec {
  if (spec.compare.length > 0) return spec;
  const success = spec.success.map((op) =>
    op.type === "put" ? { ...op, value: encoder.encode(`${spec.idempotencyKey} again`) } : op,
  );
  return { ...spec, success };
}

/** One attempt of a keyed request; its retry (same key, same ops) is queued before it runs. */
function* keyedAttempt(
  env: ClientEnv,
  w: Workload,
  prng: Prng,
  spec: TxnSpec,
  attempt: number,
): Proc<void> {
  const span = env.deadlineSpanMs;
  const retry: Retry | null =
    attempt < 4 && prng.chance(0.6)
      ? {
          spec: prng.chance(0.05) ? misused(spec) : spec,
          attempt: attempt + 1,
          // At once, within the deadline, past it, or past the forget and several deadlines.
          delayMs:
            prng.pick([0, prng.range(0, span), prng.range(span, 2 * span)]) +
            (prng.chance(0.4) ? prng.range(2 * span, 6 * span) : 0),
          dueMs: null,
        }
      : null;
  if (retry !== null) w.retries.push(retry);
  yield* runTxn(env, spec);
  if (retry !== null) retry.dueMs = env.nowMs() + retry.delayMs;
}

function finalChecks(
  history: History,
  groups: Group[],
  accounts: Key[],
  stamps: Key[],
  tick: number,
  reader: ClientEnv,
  badAudits: number[],
  partial: Pick<TxnSeedResult, "txns" | "audits" | "groupCrashes" | "keyed" | "retries">,
): TxnSeedResult {
  // The last reader reads every account, resolving what it meets (the deadline has passed).
  let now = tick;
  const env: ClientEnv = { ...reader, nowMs: () => now * msPerTick + 10_000 };
  let total = 0;
  for (const key of [...accounts, ...stamps]) {
    const g = groups[env.groupOf(key.split("/")[0]!)]!;
    const proc = readKey(env, key, 10, true);
    let step = proc.next([]);
    while (!step.done) {
      now += 1;
      const s = step.value;
      const replies =
        s.kind === "sleep"
          ? []
          : s.requests.map((req) =>
              req.read !== undefined
                ? groups[req.group]!.read(req.read)
                : groups[req.group]!.apply(req.command!),
            );
      step = proc.next(replies);
    }
    if (typeof step.value !== "string" && !(step.value === null && stamps.includes(key)))
      throw new TxnSimViolation(
        `after healing, ${key} could not be read (held by ${JSON.stringify(g.store.intent(key))})`,
      );
    if (accounts.includes(key)) total += Number(step.value);
  }
  for (const g of groups) {
    g.store.checkInvariants();
    const left = g.store.intents();
    if (left.length > 0)
      throw new TxnSimViolation(
        `after healing, group ${g.index} still holds intents: ${JSON.stringify(left)}`,
      );
  }
  const once = history.exactlyOnceViolations().slice(0, 3);
  const replay = history.replayViolations().slice(0, 3);
  const keyed = [
    ...(once.length === 0 ? [] : [`exactly once: ${once.join("; ")}`]),
    ...(replay.length === 0 ? [] : [`the replay says what happened: ${replay.join("; ")}`]),
  ];
  if (keyed.length > 0) throw new TxnSimViolation(keyed.join(" | "));
  const atomicity = history.atomicityViolations();
  if (atomicity.length > 0)
    throw new TxnSimViolation(`atomicity: ${atomicity.slice(0, 3).join("; ")}`);

  const cycle = history.serializabilityViolation();
  if (cycle !== null) throw new TxnSimViolation(`serializability: ${cycle}`);
  if (total !== balance * accounts.length)
    throw new TxnSimViolation(`the bank holds ${total}, not ${balance * accounts.length}`);
  if (badAudits.length > 0)
    throw new TxnSimViolation(
      `audits read totals ${badAudits.slice(0, 3).join(", ")}, not ${balance * accounts.length}`,
    );
  return {
    ...partial,
    commits: history.commits,
    aborts: history.aborts,
    singleShard: history.singles.length - accounts.length,
    ...history.keyedFigures(),
  };
}
