// The targets under test, each ready to take load: the edgecfg Worker on its configured backend,
// the same Worker on BACKEND=solo (the single-DO floor), and a 3-member etcd. All are started
// before the first cell, so the cells can be interleaved across targets.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { Miniflare, convertV4MiniflareOptions } from "miniflare";
import { probeScenario, runCell, type CellResult } from "./cell.ts";
import type { DoCounter } from "./loadgen.ts";
import { cpuMeter, descendantPids, newWorkerdPids, type CpuMeter } from "./cpu.ts";
import { observe, startEdgecfg, type EdgecfgServer, type Observed } from "./edgecfg.ts";
import { ensureEtcd, startEtcd } from "./etcd.ts";
import type { Plan } from "./plan.ts";
import { benchKeys, seed } from "./seed.ts";
import { readCluster, type BenchStub } from "./stats.ts";
import type { TargetId } from "./summary.ts";
import type { ScenarioName, Target } from "./types.ts";
import { delayProbe, type WanContext } from "./wan.ts";
import type { TxnWanContext } from "./wan-txn.ts";

const startedMs = Date.now();

export function log(line: string): void {
  process.stderr.write(
    `[bench ${((Date.now() - startedMs) / 1000).toFixed(1).padStart(5)} s] ${line}\n`,
  );
}

/** Dispose may be called again by a cleanup path; the second call waits for the first. */
function once(f: () => Promise<void>): () => Promise<void> {
  let done: Promise<void> | undefined;
  return () => (done ??= f());
}

export interface Runner {
  id: TargetId;
  /** What runs, for the report: "solo", "raft", "etcd 3.4.23, 3 members on loopback". */
  label: string;
  target: Target;
  cpu: CpuMeter;
  countDo: DoCounter | undefined;
  /** Whether DO requests can be counted, or why not. */
  doCounters: string;
  /** Why a scenario cannot run on this target, or undefined. */
  probe(scenario: ScenarioName): Promise<string | undefined>;
  dispose(): Promise<void>;
}

export interface EdgecfgRunner extends Runner {
  server: EdgecfgServer;
  observed: Observed;
  /** The shard of the bench namespace, from the seed's consistency token. */
  shard: number | undefined;
}

export async function startEdgecfgRunner(
  id: "edgecfg" | "solo",
  stateRoot: string,
  vars: Record<string, string>,
): Promise<EdgecfgRunner> {
  const server = await startEdgecfg(stateRoot, id, vars);
  log(
    `${id}: Worker up at ${server.url.origin} (backend ${server.label}, workerd pids ${server.cpu.pids.join(",") || "none found"})`,
  );
  const seeded = await seed(server.target);
  const seedFailure = "failed" in seeded ? `seeding failed: ${seeded.failed}` : undefined;
  if (seedFailure !== undefined) log(`${id}: ${seedFailure}`);
  const observed = await observe(server);
  const stats = observed.stats;
  return {
    id,
    label: server.label,
    target: server.target,
    cpu: server.cpu,
    countDo: stats.unavailable === undefined ? stats.count : undefined,
    doCounters: stats.unavailable ?? "stats() counters",
    probe: async (s) =>
      s !== "health" && seedFailure !== undefined
        ? seedFailure
        : probeScenario(server.target, s, benchKeys),
    dispose: once(() => server.dispose()),
    server,
    observed,
    shard: "shard" in seeded ? seeded.shard : undefined,
  };
}

/**
 * The runtime ceiling (bare/worker.js): a minimal Worker and one Durable Object answering the
 * read and CAS requests, served by Miniflare on the same workerd as the others. Not edgecfg.
 */
export async function startBareRunner(stateRoot: string): Promise<Runner> {
  const before = descendantPids(process.pid, "workerd");
  const persist = join(stateRoot, "bare");
  mkdirSync(persist, { recursive: true });
  const miniflare = new Miniflare(
    convertV4MiniflareOptions({
      workers: [
        {
          name: "bare",
          modules: true,
          scriptPath: join(import.meta.dirname, "bare", "worker.js"),
          compatibilityDate: "2025-09-01",
          durableObjects: { BARE: { className: "Bare", useSQLite: true } },
          // Served like edgecfg (scripts/local-server.ts): on the Worker's own socket.
          unsafeDirectSockets: [{ host: "127.0.0.1", port: 0 }],
        },
      ],
      resourcePersistencePath: persist,
      host: "127.0.0.1",
      port: 0,
    } as Parameters<typeof convertV4MiniflareOptions>[0]),
  );
  await miniflare.ready;
  const url = await miniflare.unsafeGetDirectURL("bare");
  const target: Target = { kind: "edgecfg", url: url.origin, adminToken: "unused" };
  const seeded = await seed(target);
  const seedFailure = "failed" in seeded ? `seeding failed: ${seeded.failed}` : undefined;
  log(`bare: Worker up at ${url.origin}${seedFailure === undefined ? "" : ` (${seedFailure})`}`);
  return {
    id: "bare",
    label: "bare Worker + 1 DO (no API, no replication)",
    target,
    cpu: cpuMeter(newWorkerdPids(before)),
    countDo: undefined,
    doCounters: "not counted",
    probe: async (s) => seedFailure ?? probeScenario(target, s, benchKeys),
    dispose: once(() => miniflare.dispose()),
  };
}

/** The etcd runner, or why there is none (not installed and cannot install, no leader, …). */
export async function startEtcdRunner(stateRoot: string, plan: Plan): Promise<Runner | string> {
  const found = plan.etcd ? ensureEtcd(log) : { reason: "--no-etcd" };
  if (!("binary" in found)) return found.reason;
  const started = await startEtcd(found.binary, join(stateRoot, "etcd"));
  if (!started.ok) return started.reason;
  const { cluster } = started;
  const target: Target = { kind: "etcd", url: cluster.leaderUrl };
  const seeded = await seed(target);
  if ("failed" in seeded) {
    await cluster.stop();
    return `seeding etcd failed: ${seeded.failed}`;
  }
  log(`etcd ${cluster.version} up, leader at ${cluster.leaderUrl}`);
  return {
    id: "etcd",
    label: `etcd ${cluster.version}, 3 members on loopback`,
    target,
    cpu: cpuMeter(cluster.pids),
    countDo: undefined,
    doCounters: "not a DO",
    probe: (s) => probeScenario(target, s, benchKeys),
    dispose: once(() => cluster.stop()),
  };
}

async function leaderOf(
  server: EdgecfgServer,
  shard: number | undefined,
): Promise<string | undefined> {
  const cluster = await readCluster(server.url, server.adminToken);
  return cluster?.replicas.find((r) => r.shard === shard && r.role === "leader")?.id;
}

/**
 * One long run at concurrency 1, not several short ones: at 2 × 120 ms per commit a 2 s run
 * holds too few commits for a percentile, and there is no other target to interleave with.
 */
function longRun(runner: EdgecfgRunner, plan: Plan, scenario: ScenarioName): Promise<CellResult> {
  const spec = {
    target: runner.target,
    scenario,
    concurrency: 1,
    warmupMs: plan.warmupMs,
    runMs: plan.runs * plan.runMs,
    runs: 1,
    keys: benchKeys,
  };
  return runCell(runner.id, spec, runner.cpu, runner.countDo);
}

/** The txn WAN cells' context: every shard's replicas (wan-txn.ts), or why not. */
export function txnWanContext(runner: EdgecfgRunner, plan: Plan): TxnWanContext | string {
  const { observed } = runner;
  if (typeof observed.stubs === "string") return observed.stubs;
  const replicas = observed.cluster?.replicas ?? [];
  const shards = new Set(replicas.map((r) => r.shard));
  if (shards.size < 2 || replicas.length < 3 * shards.size)
    return `${shards.size} shard(s) of ${replicas.length} replica(s): the txn WAN cells need two 3-replica shards or more`;
  return {
    replicas,
    stubs: observed.stubs as Map<string, BenchStub>,
    runTxn: (scenario) => longRun(runner, plan, scenario),
  };
}

/** What the WAN cells need from the edgecfg runner, or why it cannot provide it. */
export function wanContext(
  runner: EdgecfgRunner,
  plan: Plan,
  bare: Runner | undefined,
): WanContext | string {
  const { observed, server, shard } = runner;
  if (typeof observed.stubs === "string") return observed.stubs;
  const replicas = (observed.cluster?.replicas ?? [])
    .filter((r) => r.shard === shard)
    .sort((a, b) => a.id.localeCompare(b.id));
  if (replicas.length < 3)
    return `the bench shard has ${replicas.length} replica(s) on backend ${server.backend}; WAN needs a 3-replica group`;
  return {
    replicas,
    stubs: observed.stubs as Map<string, BenchStub>,
    leader: () => leaderOf(server, shard),
    runCas: () => longRun(runner, plan, "cas"),
    ...(bare === undefined ? {} : { probe: delayProbe(bare.target.url) }),
  };
}
