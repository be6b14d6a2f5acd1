// `npm run bench`: measures edgecfg against its floors and etcd in one run, on this machine.
// Each server runs as `npm start` runs it, in a fresh temp state folder; the load comes from a
// separate process (scripts/bench/load.ts). Results: bench/results/latest.{md,json,svg}.
// How to read them: bench/README.md.
//
//   npm run bench -- --quick      about a minute: the cells the summary needs
//   npm run bench                 the full matrix, WAN and idle (under 15 minutes)
import { mkdtempSync, rmSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { renderChart } from "./bench/chart.ts";
import { measureIdle } from "./bench/idle.ts";
import { stopLoad } from "./bench/loadgen.ts";
import { planFromArgs, type Plan } from "./bench/plan.ts";
import { runReshardCell } from "./bench/reshard-cell.ts";
import { targetLabels, writeReport, type BenchReport } from "./bench/report.ts";
import { runRounds } from "./bench/rounds.ts";
import {
  log,
  startBareRunner,
  startEdgecfgRunner,
  startEtcdRunner,
  txnWanContext,
  wanContext,
  type EdgecfgRunner,
  type Runner,
} from "./bench/runners.ts";
import { summarize } from "./bench/summary.ts";
import { runWan, wanProfiles } from "./bench/wan.ts";
import { runTxnWan } from "./bench/wan-txn.ts";

function emptyReport(plan: Plan): BenchReport {
  return {
    startedAt: new Date().toISOString(),
    finishedAt: "",
    mode: plan.mode,
    environment: {
      node: process.version,
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model ?? "?",
      loadAverage: loadavg(),
    },
    method: {
      warmupMs: plan.warmupMs,
      runMs: plan.runMs,
      runs: plan.runs,
      concurrencies: plan.concurrencies,
    },
    targets: { edgecfg: "not run", solo: "not run", etcd: "not run", bare: "not run" },
    doCounters: {},
    summary: [],
    cells: [],
    skipped: [],
    wan: [],
    notes: [],
  };
}

async function startRunners(
  stateRoot: string,
  plan: Plan,
  report: BenchReport,
): Promise<{ edgecfg: EdgecfgRunner; bare: Runner; all: Runner[] }> {
  // etcd starts beside the Workers; the Workers start one at a time, so each one's workerd is
  // told apart from the other's as "the workerd that appeared while it started".
  const etcdStarting =
    plan.cells.etcd.length === 0
      ? Promise.resolve("no etcd cell in this run")
      : startEtcdRunner(stateRoot, plan).catch(
          (error: Error) => `etcd failed to start: ${error.message}`,
        );
  const edgecfg = await startEdgecfgRunner("edgecfg", stateRoot, plan.edgecfgVars);
  const solo = await startEdgecfgRunner("solo", stateRoot, { BACKEND: "solo" });
  const bare = await startBareRunner(stateRoot);
  const etcd = await etcdStarting;
  if (typeof etcd === "string") log(`etcd baseline skipped: ${etcd}`);
  const all = typeof etcd === "string" ? [edgecfg, solo, bare] : [edgecfg, solo, bare, etcd];
  for (const r of all) [report.targets[r.id], report.doCounters[r.id]] = [r.label, r.doCounters];
  if (typeof etcd === "string") report.targets.etcd = `not run: ${etcd}`;
  return { edgecfg, bare, all };
}

async function wan(
  edgecfg: EdgecfgRunner,
  bare: Runner,
  plan: Plan,
  report: BenchReport,
): Promise<void> {
  const ctx = wanContext(edgecfg, plan, bare);
  if (typeof ctx === "string") {
    report.wanSkipped = ctx;
    return log(`WAN skipped: ${ctx}`);
  }
  try {
    report.wan = await runWan(ctx, wanProfiles);
    for (const w of report.wan) {
      log(
        `WAN ${w.profile}: commit p50 ${w.commitP50Ms?.toFixed(1)} ms vs quorum RTT ${w.quorumRttMs} ms (${w.deliveredRttMs?.toFixed(1) ?? "?"} ms as delivered)`,
      );
    }
  } catch (error) {
    report.wanSkipped = `setFaults failed: ${(error as Error).message.split("\n")[0]}`;
    log(`WAN skipped: ${report.wanSkipped}`);
  }
  await txnWan(edgecfg, plan, report);
}

async function txnWan(edgecfg: EdgecfgRunner, plan: Plan, report: BenchReport): Promise<void> {
  const ctx = txnWanContext(edgecfg, plan);
  if (typeof ctx === "string") {
    report.txnWan = ctx;
    return log(`WAN txns skipped: ${ctx}`);
  }
  try {
    const r = await runTxnWan(ctx);
    report.txnWan = r;
    log(
      `WAN txns (${r.profile}): commit p50 ${r.crossShardP50Ms?.toFixed(1)} ms over 2 shards vs ${r.singleShardP50Ms?.toFixed(1)} ms in one`,
    );
  } catch (error) {
    report.txnWan = `setFaults failed: ${(error as Error).message.split("\n")[0]}`;
    log(`WAN txns skipped: ${report.txnWan}`);
  }
}

function addNotes(report: BenchReport): void {
  const backend = report.targets.edgecfg;
  if (!backend.startsWith("raft")) {
    report.notes.push(
      `The edgecfg rows ran on backend "${backend}", not raft${backend.startsWith("solo") ? ": the ratios to the single-DO floor compare solo with itself and show the run's noise" : ""}. Run with \`--backend raft\` once the Raft backend is the default.`,
    );
  }
  if (report.mode === "quick") {
    report.notes.push(
      "Quick run: one 2 s run per cell. On a shared machine a single run can be off by ±40 %, so take these verdicts as a smoke test; the full run (five interleaved runs per cell, medians) gives the ones to act on.",
    );
  }
  for (const s of report.skipped)
    report.notes.push(`${s.target} ${s.scenario}: not run: ${s.reason}`);
  for (const c of report.cells.filter((c) => c.errors > 0)) {
    report.notes.push(
      `${c.target} ${c.scenario}@${c.concurrency}: ${c.errors} error answer(s); statuses per run ${JSON.stringify(c.runs.map((r) => r.statuses))}`,
    );
  }
  report.notes.push(
    `Load average at start ${report.environment.loadAverage.map((l) => l.toFixed(2)).join(" ")}, at end ${loadavg()
      .map((l) => l.toFixed(2))
      .join(" ")} (other work on this machine shows up here).`,
  );
}

async function measureAll(stateRoot: string, plan: Plan, report: BenchReport): Promise<void> {
  const { edgecfg, bare, all } = await startRunners(stateRoot, plan, report);
  try {
    await runRounds(all, plan, report);
    if (plan.wan) await wan(edgecfg, bare, plan, report);
    stopLoad();
    for (const r of all) if (r !== edgecfg) await r.dispose();
    if (!plan.idle) return;
    log(`idle: waiting for the shard to settle, then ${plan.idleWindowMs / 1000} s of nothing`);
    report.idle = await measureIdle(
      edgecfg.observed.stats,
      edgecfg.cpu,
      plan.idleWindowMs,
      plan.idleSettleMaxMs,
    );
  } finally {
    stopLoad();
    await Promise.allSettled(all.map((r) => r.dispose()));
  }
}

/** Last, alone on the machine: resharding a store of its own under CAS load (issue 18). */
async function reshardCell(plan: Plan, report: BenchReport): Promise<void> {
  if (plan.reshard === null) return;
  const o = plan.reshard;
  log(`reshard: ${o.namespaces} namespaces × ${o.keysPerNamespace} keys, 4 -> ${o.toShards}`);
  try {
    const r = await runReshardCell(o);
    report.reshard = r;
    log(
      `reshard: ${r.state}, ${r.moved} moved in ${(r.totalMs / 1000).toFixed(1)} s, pause ` +
        `${JSON.stringify(r.pauseMs)} ms, CAS/s ${r.opsPerSecond.ratio}× during, ${r.lost} lost`,
    );
  } catch (error) {
    report.reshard = `the reshard cell failed: ${(error as Error).message.split("\n")[0]}`;
    log(report.reshard);
  }
}

async function main(): Promise<void> {
  const plan = planFromArgs(process.argv.slice(2));
  const report = emptyReport(plan);
  const stateRoot = mkdtempSync(join(tmpdir(), "edgecfg-bench-"));
  log(`${plan.mode} run; state under ${stateRoot}`);
  try {
    await measureAll(stateRoot, plan, report);
    await reshardCell(plan, report);
  } finally {
    rmSync(stateRoot, { recursive: true, force: true });
  }
  report.finishedAt = new Date().toISOString();
  report.summary = summarize(
    report.cells,
    report.targets.edgecfg,
    report.wan,
    report.idle,
    report.txnWan,
    report.reshard,
  );
  addNotes(report);
  const files = writeReport(
    plan.outDir,
    report,
    renderChart(
      report.cells,
      targetLabels(report),
      `edgecfg ${plan.mode} benchmark, ${report.startedAt}`,
    ),
  );
  log(`wrote ${files.join(", ")}`);
  for (const r of report.summary)
    log(
      `${r.verdict.padEnd(4)} ${r.what}: ${r.value === undefined ? "n/a" : r.value.toFixed(2)} (target ${r.target})`,
    );
}

await main();
// Miniflare and undici may hold handles open for a while after dispose; the report is written.
process.exit(0);
