// The ratios that matter, each against its target, from the cells of one run. A ratio divides
// edgecfg's figure by a baseline measured in the same run on the same machine, so machine speed
// and noise that hit both sides cancel out.
import { median, type CellResult } from "./cell.ts";
import { summaryConcurrency } from "./plan.ts";
import type { IdleResult } from "./idle.ts";
import type { ReshardResult } from "./reshard-cell.ts";
import type { ScenarioName } from "./types.ts";
import type { WanResult } from "./wan.ts";
import type { TxnWanResult } from "./wan-txn.ts";

export type TargetId = "edgecfg" | "solo" | "etcd" | "bare";

export interface SummaryRow {
  what: string;
  value: number | undefined;
  /** How `value` is shown: a ratio (×), a count, or a duration. */
  unit: "×" | "/min" | " ms";
  target: string;
  verdict: "PASS" | "MISS" | "n/a";
  detail: string;
}

export function findCell(
  cells: CellResult[],
  target: TargetId,
  scenario: ScenarioName,
  concurrency: number,
): CellResult | undefined {
  return cells.find(
    (c) =>
      c.target === target &&
      c.scenario === scenario &&
      c.concurrency === concurrency &&
      c.opsPerSec > 0,
  );
}

/**
 * Throughput of `ours` over `theirs`; undefined if either is missing. With a run of each per
 * round (the full bench), the median of the per-round ratios: the two runs of a round are
 * neighbours in time, so a noisy phase of the machine hits both and cancels out.
 */
export function throughputRatio(
  ours: CellResult | undefined,
  theirs: CellResult | undefined,
): number | undefined {
  if (ours === undefined || theirs === undefined) return undefined;
  const paired = pairedRatios(ours, theirs);
  return paired === undefined ? ours.opsPerSec / theirs.opsPerSec : median(paired);
}

/** ours / theirs per round, when both ran once per round. */
function pairedRatios(ours: CellResult, theirs: CellResult): number[] | undefined {
  const rate = (r: CellResult["runs"][number]) => (r.ops * 1000) / r.elapsedMs;
  if (
    ours.runs.length < 2 ||
    ours.runs.length !== theirs.runs.length ||
    theirs.runs.some((r) => r.ops === 0)
  )
    return undefined;
  return ours.runs.map((r, i) => rate(r) / rate(theirs.runs[i]!));
}

function row(
  what: string,
  value: number | undefined,
  atLeast: number | undefined,
  atMost: number | undefined,
  unit: SummaryRow["unit"],
  detail: string,
): SummaryRow {
  const target = atLeast !== undefined ? `≥ ${atLeast}${unit}` : `≤ ${atMost}${unit}`;
  const ok =
    value === undefined
      ? undefined
      : (atLeast === undefined || value >= atLeast) && (atMost === undefined || value <= atMost);
  return {
    what,
    value,
    unit,
    target,
    verdict: ok === undefined ? "n/a" : ok ? "PASS" : "MISS",
    detail,
  };
}

const ops = (c: CellResult | undefined) =>
  c === undefined ? "n/a" : `${Math.round(c.opsPerSec)} ops/s`;
const cpuPerOp = (c: CellResult | undefined) =>
  c?.serverCpuSecPer1kOps == null ? "n/a" : `${c.serverCpuSecPer1kOps.toFixed(2)} ms`;

function vs(
  cells: CellResult[],
  what: string,
  ours: [TargetId, ScenarioName],
  theirs: [TargetId, ScenarioName],
  atLeast: number,
): SummaryRow {
  const a = findCell(cells, ours[0], ours[1], summaryConcurrency(ours[1]));
  const b = findCell(cells, theirs[0], theirs[1], summaryConcurrency(theirs[1]));
  const paired = a === undefined || b === undefined ? undefined : pairedRatios(a, b);
  const spread =
    paired === undefined || a === undefined || b === undefined
      ? ""
      : `; per round ${paired.map((r) => r.toFixed(2)).join(" ")} (ratio of the medians ${(a.opsPerSec / b.opsPerSec).toFixed(2)})`;
  return row(
    what,
    throughputRatio(a, b),
    atLeast,
    undefined,
    "×",
    `${ops(a)} vs ${ops(b)} (medians)${spread}; server CPU per op ${cpuPerOp(a)} vs ${cpuPerOp(b)}`,
  );
}

/** How the runtime ceiling (a bare Worker + DO, one workerd thread) compares with etcd here. */
function withCeiling(cells: CellResult[], r: SummaryRow): SummaryRow {
  const bare = findCell(cells, "bare", "cas", 64);
  const ratio = throughputRatio(bare, findCell(cells, "etcd", "cas", 64));
  if (ratio === undefined) return r;
  return {
    ...r,
    detail: `${r.detail}; the bare Worker + DO ceiling: ${ops(bare)} (${ratio.toFixed(2)}× etcd)`,
  };
}

function wanRow(wan: WanResult[]): SummaryRow {
  const measured = wan.filter((w) => w.ratio !== undefined);
  const worst = measured.sort((a, b) => b.ratio! - a.ratio!)[0];
  const detail =
    worst === undefined
      ? "not measured"
      : `worst of ${measured.length} profile(s): ${worst.profile}, p50 ${worst.commitP50Ms!.toFixed(1)} ms vs ` +
        (worst.deliveredRttMs === undefined
          ? `${worst.quorumRttMs} ms`
          : `${worst.deliveredRttMs.toFixed(1)} ms as delivered (${worst.quorumRttMs} ms configured: ${worst.nominalRatio?.toFixed(2)}×)`);
  return row("WAN commit p50 (CAS@1) vs quorum RTT", worst?.ratio, undefined, 1.1, "×", detail);
}

/** The schema's cost: server CPU per 4 KiB JSON PUT with a 20-property schema over without. */
function schemaCpuRow(cells: CellResult[]): SummaryRow {
  const a = findCell(cells, "edgecfg", "put4kSchema", 64);
  const b = findCell(cells, "edgecfg", "put4k", 64);
  const cpuA = a?.serverCpuSecPer1kOps;
  const cpuB = b?.serverCpuSecPer1kOps;
  const ratio = cpuA == null || cpuB == null || cpuB === 0 ? undefined : cpuA / cpuB;
  const detail = `server CPU per write ${cpuPerOp(a)} vs ${cpuPerOp(b)}; ${ops(a)} vs ${ops(b)}`;
  return row(
    "4 KiB JSON PUT@64 under a 20-property schema vs no schema: CPU per write",
    ratio,
    undefined,
    1.1,
    "×",
    detail,
  );
}

function idleRow(idle: IdleResult | undefined): SummaryRow {
  const detail =
    idle === undefined
      ? "not measured"
      : `over ${idle.windowMs / 1000} s after settling ${(idle.settledAfterMs / 1000).toFixed(1)} s; server CPU ${idle.serverCpuSecPerMin.toFixed(3)} s/min`;
  return row("idle DO requests per minute", idle?.doRequestsPerMin, undefined, 0, "/min", detail);
}

/** Issue 20: a cross-shard txn's commit p50 over a single-shard one's, under the same WAN. */
function txnWanRow(r: TxnWanResult | string | undefined): SummaryRow {
  const detail =
    r === undefined
      ? "not measured"
      : typeof r === "string"
        ? `not measured: ${r}`
        : `${r.profile} on every shard, 2 puts per txn at concurrency 1: p50 ` +
          `${r.crossShardP50Ms?.toFixed(1) ?? "n/a"} ms over 2 shards vs ` +
          `${r.singleShardP50Ms?.toFixed(1) ?? "n/a"} ms in one`;
  const ratio = typeof r === "object" ? r.ratio : undefined;
  return row("WAN cross-shard txn commit p50 vs single-shard", ratio, undefined, 2.2, "×", detail);
}

/** Issue 18: the write pause per moved namespace while resharding under CAS load. */
function reshardRow(r: ReshardResult | string | undefined): SummaryRow {
  const detail =
    r === undefined
      ? "not measured"
      : typeof r === "string"
        ? `not measured: ${r}`
        : `${r.ring} shards, ${r.namespaces} namespaces × ${r.keysPerNamespace} keys, ` +
          `${r.clients} CAS clients: ${r.moved ?? "?"} moved in ${(r.totalMs / 1000).toFixed(1)} s, ` +
          `pause p50 ${r.pauseMs?.p50 ?? "?"} ms, max ${r.pauseMs?.max ?? "?"} ms; ` +
          `CAS/s during ${r.opsPerSecond.ratio}× before; ${r.lost} lost, ${r.duplicated} duplicated`;
  const broken = typeof r === "object" && (r.state !== "done" || r.lost + r.duplicated > 0);
  const p99 = typeof r === "object" && !broken ? r.pauseMs?.p99 : undefined;
  return row("reshard write pause p99 per moved namespace", p99, undefined, 500, " ms", detail);
}

export function summarize(
  cells: CellResult[],
  backend: string,
  wan: WanResult[],
  idle: IdleResult | undefined,
  txnWan?: TxnWanResult | string,
  reshard?: ReshardResult | string,
): SummaryRow[] {
  return [
    vs(
      cells,
      `edgecfg (${backend}) CAS@64 vs single-DO CAS@64`,
      ["edgecfg", "cas"],
      ["solo", "cas"],
      0.8,
    ),
    withCeiling(
      cells,
      vs(
        cells,
        `edgecfg (${backend}) CAS@64 vs etcd CAS@64`,
        ["edgecfg", "cas"],
        ["etcd", "cas"],
        1.0,
      ),
    ),
    vs(
      cells,
      `edgecfg (${backend}) linearizable reads@64 vs single-DO reads@64`,
      ["edgecfg", "read"],
      ["solo", "read"],
      0.9,
    ),
    vs(
      cells,
      `edgecfg (${backend}) stale reads@64 vs runtime floor@64`,
      ["edgecfg", "stale"],
      ["edgecfg", "health"],
      0.8,
    ),
    vs(
      cells,
      `edgecfg (${backend}) bundle 304s@64 vs runtime floor@64`,
      ["edgecfg", "bundle"],
      ["edgecfg", "health"],
      0.8,
    ),
    vs(
      cells,
      `edgecfg (${backend}) OFREP bulk 304s@64 vs runtime floor@64`,
      ["edgecfg", "flags304"],
      ["edgecfg", "health"],
      0.8,
    ),
    vs(
      cells,
      `edgecfg (${backend}) OFREP single evaluations (3-rule targeting)@64 vs runtime floor@64`,
      ["edgecfg", "flagEval"],
      ["edgecfg", "health"],
      0.6,
    ),
    schemaCpuRow(cells),
    vs(
      cells,
      `edgecfg (${backend}) lock acquire + release cycles@16 vs etcd's lock service@16`,
      ["edgecfg", "lock"],
      ["etcd", "lock"],
      0.5,
    ),
    vs(
      cells,
      `edgecfg (${backend}) 2-shard txns@64 vs single-shard txns@64 (2 puts each)`,
      ["edgecfg", "txn2"],
      ["edgecfg", "txn1"],
      0.4,
    ),
    wanRow(wan),
    txnWanRow(txnWan),
    reshardRow(reshard),
    idleRow(idle),
  ];
}
