// `npm run sim -- --seeds 10000`           sweep seeds 1..10000 (both cores, worker threads)
// `npm run sim -- --seed 42`               replay one seed, printing its trace
// `npm run sim -- --no-faults`             throughput of the core without faults
// Options: --from N (first seed of a sweep), --nodes 3|5 (default: even seeds 3, odd seeds 5),
// --workers N, --core DIR (a copy of src/raft, e.g. with a planted bug), --ticks N, --clients N,
// --skip-quiescence (safety and liveness only, e.g. while quiescence itself is broken).
import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { defaultCoreDir, loadCore } from "./core.ts";
import { replayCommand, runSeed, SimFailure } from "./run.ts";
import type { SweepReply } from "./sweep-worker.ts";

interface CliOptions {
  seed?: number;
  seeds: number;
  from: number;
  nodes?: number;
  faults: boolean;
  coreDir: string;
  workers: number;
  ticks?: number;
  clients?: number;
  skipQuiescence: boolean;
}

const usage =
  "usage: npm run sim -- [--seed N | --seeds COUNT [--from N]] [--nodes 3|5] [--no-faults] [--workers N] [--core DIR] [--ticks N] [--clients N] [--skip-quiescence]";

function parseArgs(argv: string[]): CliOptions {
  const opts: CliOptions = {
    seeds: 100,
    from: 1,
    faults: true,
    coreDir: defaultCoreDir,
    skipQuiescence: false,
    workers: Math.min(2, availableParallelism()),
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${flag} needs a value\n${usage}`);
      return v;
    };
    const int = () => {
      const n = Number(value());
      if (!Number.isInteger(n) || n < 0)
        throw new Error(`${flag} needs a non-negative integer\n${usage}`);
      return n;
    };
    if (flag === "--seed") opts.seed = int();
    else if (flag === "--seeds") opts.seeds = int();
    else if (flag === "--from") opts.from = int();
    else if (flag === "--nodes") opts.nodes = int();
    else if (flag === "--no-faults") opts.faults = false;
    else if (flag === "--core") opts.coreDir = value();
    else if (flag === "--workers") opts.workers = Math.max(1, int());
    else if (flag === "--ticks") opts.ticks = int();
    else if (flag === "--clients") opts.clients = int();
    else if (flag === "--skip-quiescence") opts.skipQuiescence = true;
    else if (flag === "--help" || flag === "-h") console.log(usage), process.exit(0);
    else throw new Error(`unknown option ${flag}\n${usage}`);
  }
  if (opts.nodes !== undefined && opts.nodes !== 3 && opts.nodes !== 5)
    throw new Error(`--nodes must be 3 or 5\n${usage}`);
  return opts;
}

async function replayOne(opts: CliOptions, seed: number): Promise<void> {
  const core = await loadCore(opts.coreDir);
  const started = performance.now();
  const run = {
    seed,
    nodes: opts.nodes,
    faults: opts.faults,
    trace: true,
    core,
    faultPhaseTicks: opts.ticks,
    clients: opts.clients,
    skipQuiescence: opts.skipQuiescence,
  };
  try {
    const r = runSeed(run);
    const wallMs = performance.now() - started;
    console.log(
      `\nseed ${seed} passed: ${r.nodes} voters, profile ${r.profile}, ${r.ticks} ticks, ${r.operationsChecked} operations checked, ${r.writesCompleted} writes, ${describeLeaseReads(r.leaseReads, r.readsCompleted)}, lease held at ${r.leaseProbesHeld} of ${r.leaseProbes} probes, ${r.timedOut} timed out, ${r.crashes} crashes, ${r.membershipChanges} membership changes, commit index ${r.committedIndex}, ${r.stepsChecked} steps checked, ${wallMs.toFixed(0)} ms (with trace)`,
    );
  } catch (e) {
    console.error(`\n${e instanceof Error ? e.message : String(e)}`);
    if (!(e instanceof SimFailure)) console.error(`Replay: ${replayCommand(run)}`);
    process.exitCode = 1;
  }
}

/** Throughput without faults: committed client writes (and all operations) per wall second. */
async function measureThroughput(opts: CliOptions): Promise<void> {
  const core = await loadCore(opts.coreDir);
  const ticks = opts.ticks ?? 5_000;
  const clients = opts.clients ?? 32;
  const seed = opts.seed ?? 1;
  const started = performance.now();
  const r = runSeed({
    seed,
    nodes: opts.nodes ?? 3,
    faults: false,
    trace: false,
    core,
    faultPhaseTicks: ticks,
    clients,
  });
  const seconds = (performance.now() - started) / 1000;
  console.log(
    `no faults: ${r.nodes} voters, ${clients} clients, ${r.ticks} ticks, ${r.messagesSent} messages, ${seconds.toFixed(2)} s wall`,
  );
  const coreSeconds = r.coreMs / 1000;
  console.log(
    `  committed writes: ${r.writesCompleted} = ${(r.writesCompleted / seconds).toFixed(0)} committed ops/s of wall time (whole simulator, checks included)`,
  );
  console.log(
    `  time inside the core: ${coreSeconds.toFixed(2)} s = ${(r.writesCompleted / coreSeconds).toFixed(0)} committed ops per core-second`,
  );
  console.log(
    `  all operations checked (incl. gets): ${r.operationsChecked} (${(r.operationsChecked / seconds).toFixed(0)} ops/s), log index ${r.committedIndex}`,
  );
  console.log(`  ${describeLeaseReads(r.leaseReads, r.readsCompleted)}`);
}

async function sweep(opts: CliOptions): Promise<void> {
  const seeds = Array.from({ length: opts.seeds }, (_, i) => opts.from + i);
  const total = seeds.length;
  const started = performance.now();
  let operations = 0;
  // Reads completed and served on a lease, in runs with faults (by profile) and without.
  const reads = new Map<string, { reads: number; leaseReads: number; seeds: number }>();
  let done = 0;
  const failures: { seed: number; message: string }[] = [];
  const batchSeeds = 20;
  const failuresPrintedMax = 5;
  const progressEvery = Math.max(100, Math.floor(opts.seeds / 20));
  const workerCount = Math.min(opts.workers, Math.ceil(seeds.length / batchSeeds) || 1);
  await Promise.all(
    Array.from(
      { length: workerCount },
      () =>
        new Promise<void>((resolve, reject) => {
          const worker = new Worker(
            fileURLToPath(new URL("./sweep-worker.ts", import.meta.url).href),
            {
              workerData: {
                coreDir: opts.coreDir,
                nodes: opts.nodes,
                faults: opts.faults,
                skipQuiescence: opts.skipQuiescence,
                ticks: opts.ticks,
              },
            },
          );
          worker.on("error", reject);
          worker.on("message", (reply: SweepReply) => {
            if (reply.kind === "result") {
              operations += reply.operations;
              const byProfile = reads.get(reply.profile) ?? { reads: 0, leaseReads: 0, seeds: 0 };
              byProfile.reads += reply.reads;
              byProfile.leaseReads += reply.leaseReads;
              byProfile.seeds++;
              reads.set(reply.profile, byProfile);
            }
            if (reply.kind === "failure") {
              failures.push(reply);
              // The first few in full; the rest are listed by seed at the end.
              if (failures.length <= failuresPrintedMax) console.error(`\nFAIL ${reply.message}\n`);
            }
            if (reply.kind !== "batchDone" && ++done % progressEvery === 0) {
              console.log(
                `  ${done}/${total} seeds, ${failures.length} failed, ${((performance.now() - started) / 1000).toFixed(0)} s`,
              );
            }
            if (reply.kind !== "batchDone") return;
            const batch = seeds.splice(0, batchSeeds);
            if (batch.length > 0) worker.postMessage({ seeds: batch });
            else void worker.terminate().then(() => resolve());
          });
        }),
    ),
  );
  const wallSeconds = (performance.now() - started) / 1000;
  console.log(
    `seeds run: ${done} (from ${opts.from}, ${opts.nodes === undefined ? "3 and 5" : opts.nodes} voters, faults ${opts.faults ? "on" : "off"}, ${workerCount} workers)`,
  );
  console.log(`operations checked: ${operations}`);
  const all = [...reads.values()].reduce(
    (sum, r) => ({ reads: sum.reads + r.reads, leaseReads: sum.leaseReads + r.leaseReads }),
    { reads: 0, leaseReads: 0 },
  );
  const byProfile = [...reads]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(
      ([name, r]) => `${name} ${percent(r.leaseReads, r.reads)} of ${r.reads} (${r.seeds} seeds)`,
    );
  console.log(
    `${describeLeaseReads(all.leaseReads, all.reads)}; by fault profile: ${byProfile.join(", ")}`,
  );
  console.log(`wall time: ${wallSeconds.toFixed(1)} s`);
  if (failures.length === 0) {
    console.log("all seeds passed");
    return;
  }
  failures.sort((a, b) => a.seed - b.seed);
  const nodesFlag = opts.nodes === undefined ? "" : ` --nodes ${opts.nodes}`;
  const coreFlag =
    (opts.coreDir === defaultCoreDir ? "" : ` --core ${opts.coreDir}`) +
    (opts.skipQuiescence ? " --skip-quiescence" : "") +
    (opts.ticks === undefined ? "" : ` --ticks ${opts.ticks}`);
  console.log(`${failures.length} seeds FAILED: ${failures.map((f) => f.seed).join(", ")}`);
  console.log(
    `replay the first with: npm run sim -- --seed ${failures[0]?.seed}${nodesFlag}${opts.faults ? "" : " --no-faults"}${coreFlag}`,
  );
  process.exitCode = 1;
}

function percent(part: number, whole: number): string {
  return whole === 0 ? "-" : `${((100 * part) / whole).toFixed(1)} %`;
}

function describeLeaseReads(leaseReads: number, reads: number): string {
  return `${leaseReads} of ${reads} reads served on a read lease (${percent(leaseReads, reads)})`;
}

try {
  const opts = parseArgs(process.argv.slice(2));
  if (opts.seed !== undefined && opts.faults) await replayOne(opts, opts.seed);
  else if (!opts.faults && opts.seed === undefined) await measureThroughput(opts);
  else if (!opts.faults) await replayOne(opts, opts.seed as number);
  else await sweep(opts);
} catch (e) {
  console.error(e instanceof Error ? e.message : String(e));
  process.exitCode = 2;
}
