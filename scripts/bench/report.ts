// The report: one JSON document with everything measured, and a Markdown rendering of it that
// leads with the summary of ratios. Written to bench/results/latest.{json,md} and a timestamped copy.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { findCell, throughputRatio, type SummaryRow, type TargetId } from "./summary.ts";
import { scenarioInfo } from "./scenarios.ts";
import type { CellResult } from "./cell.ts";
import type { IdleResult } from "./idle.ts";
import type { ReshardResult } from "./reshard-cell.ts";
import type { ScenarioName } from "./types.ts";
import type { WanResult } from "./wan.ts";
import type { TxnWanResult } from "./wan-txn.ts";

export interface BenchReport {
  startedAt: string;
  finishedAt: string;
  mode: "quick" | "full";
  environment: { node: string; cpus: number; cpuModel: string; loadAverage: number[] };
  method: { warmupMs: number; runMs: number; runs: number; concurrencies: number[] };
  /** Per target: what ran ("backend raft", "etcd 3.4.23") or why it did not. */
  targets: Record<TargetId, string>;
  /** Per target: whether DO requests could be counted, or why not. */
  doCounters: Partial<Record<TargetId, string>>;
  summary: SummaryRow[];
  cells: CellResult[];
  skipped: { target: TargetId; scenario: ScenarioName; reason: string }[];
  wan: WanResult[];
  wanSkipped?: string;
  /** Cross-shard vs single-shard txn commits under the simulated WAN (wan-txn.ts). */
  txnWan?: TxnWanResult | string;
  idle?: IdleResult;
  /** Resharding 4 -> 8 under CAS load (reshard-cell.ts), or why it was not measured. */
  reshard?: ReshardResult | string;
  notes: string[];
}

const fmt = {
  ops: (n: number) => Math.round(n).toLocaleString("en-US"),
  ms: (n: number) => (n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2)),
  ratio: (n: number | undefined) => (n === undefined ? "—" : `${n.toFixed(2)}×`),
  maybe: (n: number | null, digits: number) => (n === null ? "n/a" : n.toFixed(digits)),
};

function summaryTable(rows: SummaryRow[]): string[] {
  const value = (r: SummaryRow) =>
    r.value === undefined
      ? "n/a"
      : r.unit === "×"
        ? fmt.ratio(r.value)
        : `${r.value.toFixed(r.unit === " ms" ? 0 : 1)}${r.unit}`;
  return [
    "| ratio | measured | target | verdict | detail |",
    "| --- | ---: | ---: | :---: | --- |",
    ...rows.map(
      (r) => `| ${r.what} | ${value(r)} | ${r.target} | **${r.verdict}** | ${r.detail} |`,
    ),
  ];
}

function ratioCells(cells: CellResult[], c: CellResult): string[] {
  const other = (target: TargetId, scenario = c.scenario) =>
    c.target === target && scenario === c.scenario
      ? undefined
      : throughputRatio(c, findCell(cells, target, scenario, c.concurrency));
  return [
    fmt.ratio(other("solo")),
    fmt.ratio(c.scenario === "health" ? undefined : other("edgecfg", "health")),
    fmt.ratio(other("etcd")),
  ];
}

/** How the report and the chart name each target. */
export function targetLabels(report: BenchReport): Record<TargetId, string> {
  return {
    edgecfg: `edgecfg (${report.targets.edgecfg})`,
    solo: "single-DO floor",
    etcd: "etcd",
    bare: "bare Worker+DO ceiling",
  };
}

function cellRow(cells: CellResult[], c: CellResult, label: string): string {
  const success = c.scenario === "contention" ? `${(c.successRatio * 100).toFixed(1)}%` : "";
  return `| ${label} | ${c.concurrency} | ${fmt.ops(c.opsPerSec)} | ${fmt.ms(c.p50Ms)} | ${fmt.ms(c.p99Ms)} | ${success} | ${c.errors} | ${fmt.maybe(c.serverCpuSecPer1kOps, 3)} | ${c.clientCpuSecPer1kOps.toFixed(3)} | ${fmt.maybe(c.doRequestsPerOp, 2)} | ${ratioCells(cells, c).join(" | ")} |`;
}

function scenarioSection(report: BenchReport, scenario: ScenarioName): string[] {
  const cells = report.cells.filter((c) => c.scenario === scenario);
  const skipped = report.skipped.filter((s) => s.scenario === scenario);
  if (cells.length === 0 && skipped.length === 0) return [];
  const label = (t: TargetId) => targetLabels(report)[t];
  return [
    `### ${scenario}: ${scenarioInfo[scenario].title}`,
    "",
    "| target | conc. | ops/s | p50 ms | p99 ms | CAS won | errors | server CPU s/1k ops | client CPU s/1k ops | DO req/op | vs single-DO | vs runtime floor | vs etcd |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ...cells.map((c) => cellRow(report.cells, c, label(c.target as TargetId))),
    ...skipped.map((s) => `\n_${label(s.target)}: not run: ${s.reason}_`),
    "",
  ];
}

function wanSection(report: BenchReport): string[] {
  if (report.wanSkipped !== undefined)
    return ["## Simulated WAN", "", `Not run: ${report.wanSkipped}`, ""];
  if (report.wan.length === 0) return [];
  return [
    "## Simulated WAN (CAS at concurrency 1, PUT latency)",
    "",
    "| profile | leader | quorum RTT ms, configured | as the runtime delivers it (floor) | commit p50 ms | p99 ms | ratio to floor | ratio to configured | note |",
    "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ...report.wan.map(
      (w) =>
        `| ${w.profile} | ${w.leader ?? "?"} | ${w.quorumRttMs ?? "n/a"} | ${w.deliveredRttMs === undefined ? "not measured" : fmt.ms(w.deliveredRttMs)} | ` +
        `${w.commitP50Ms === undefined ? "n/a" : fmt.ms(w.commitP50Ms)} | ${w.cell ? fmt.ms(w.cell.p99Ms) : "n/a"} | ${fmt.ratio(w.ratio)} | ${fmt.ratio(w.nominalRatio ?? w.ratio)} | ${w.note ?? ""} |`,
    ),
    "",
    "The delay is a timer inside the leader (fault injection), and this runtime's timers fire late. The floor is " +
      "that round trip as delivered: the p50 of a request to a Durable Object that sleeps that long, minus one that " +
      "does not (the bare Worker's /sleep), measured right after each profile.",
    "",
  ];
}

function idleSection(idle: IdleResult | undefined): string[] {
  if (idle === undefined) return [];
  const requests = idle.doRequestsPerMin === undefined ? "n/a" : idle.doRequestsPerMin.toFixed(1);
  return [
    "## Idle cost",
    "",
    `After the load, the shard settled in ${(idle.settledAfterMs / 1000).toFixed(1)} s; then over ${idle.windowMs / 1000} s: ` +
      `**${requests} DO requests/min**, server CPU ${idle.serverCpuSecPerMin.toFixed(3)} s/min.${idle.note ? ` (${idle.note})` : ""}`,
    "",
  ];
}

function reshardSection(r: ReshardResult | string | undefined): string[] {
  if (r === undefined) return [];
  if (typeof r === "string") return ["## Resharding under load", "", `Not measured: ${r}`, ""];
  const p = r.pauseMs;
  return [
    "## Resharding under load",
    "",
    `${r.ring} shards with ${r.namespaces} namespaces × ${r.keysPerNamespace} keys of 100 bytes, ` +
      `${r.clients} closed-loop CAS clients: ${r.state} in **${(r.totalMs / 1000).toFixed(1)} s**, ` +
      `${r.moved ?? "?"} namespaces moved (${r.bytes ?? "?"} bytes). Write pause per moved ` +
      `namespace (fence to activation): p50 ${p?.p50 ?? "?"} ms, **p99 ${p?.p99 ?? "?"} ms**, ` +
      `max ${p?.max ?? "?"} ms. CAS/s ${r.opsPerSecond.before} before, ${r.opsPerSecond.during} ` +
      `during (${r.opsPerSecond.ratio}×). ${r.errors} errors, ${r.lost} lost, ` +
      `${r.duplicated} duplicated writes.`,
    "",
  ];
}

export function renderMarkdown(report: BenchReport): string {
  const scenarios = Object.keys(scenarioInfo) as ScenarioName[];
  const m = report.method;
  return [
    `# edgecfg benchmark: ${report.mode} run, ${report.startedAt}`,
    "",
    ...summaryTable(report.summary),
    "",
    `Targets: edgecfg = ${report.targets.edgecfg}; single-DO floor = ${report.targets.solo}; etcd = ${report.targets.etcd}; ` +
      `bare Worker+DO ceiling = ${report.targets.bare} (scripts/bench/bare/worker.js: what this runtime does with no API, validation or replication).`,
    `Method: closed-loop clients, warmup ${m.warmupMs} ms, then ${m.runs} run(s) of ${m.runMs} ms per cell; ops/s, p50 and p99 are medians over the runs. Ratios divide ops/s at the same concurrency: with several runs, the median of the per-round ratios (the two runs of a round are neighbours in time). See bench/README.md.`,
    "",
    ...report.notes.map((n) => `- ${n}`),
    "",
    "## Cells",
    "",
    ...scenarios.flatMap((s) => scenarioSection(report, s)),
    ...wanSection(report),
    ...idleSection(report.idle),
    ...reshardSection(report.reshard),
    "## Environment",
    "",
    `Node ${report.environment.node}, ${report.environment.cpus} CPU(s) (${report.environment.cpuModel}), load average at start ${report.environment.loadAverage.map((l) => l.toFixed(2)).join(" ")}. DO counters: ${Object.entries(
      report.doCounters,
    )
      .map(([t, s]) => `${t}: ${s}`)
      .join("; ")}. Finished ${report.finishedAt}.`,
    "",
  ].join("\n");
}

/** Writes latest.{json,md,svg} and timestamped copies under runs/. */
export function writeReport(dir: string, report: BenchReport, svg: string): string[] {
  const stamp = report.startedAt.replace(/[:.]/g, "-");
  mkdirSync(join(dir, "runs"), { recursive: true });
  const files: [string, string][] = [
    ["latest.json", `${JSON.stringify(report, null, 2)}\n`],
    ["latest.md", renderMarkdown(report)],
    ["latest.svg", svg],
  ];
  for (const [name, text] of files) {
    writeFileSync(join(dir, name), text);
    writeFileSync(join(dir, "runs", `${stamp}-${report.mode}.${name.split(".")[1]}`), text);
  }
  return files.map(([name]) => join(dir, name));
}
