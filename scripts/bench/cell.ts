// A cell's figures (scenario × concurrency × target) from its measured runs, and the probe that
// decides whether a cell can run at all.
import type { CpuMeter } from "./cpu.ts";
import { makeDriver } from "./driver.ts";
import { measure, type DoCounter, type RunSample } from "./loadgen.ts";
import { makeClient } from "./scenarios.ts";
import type { BenchKeys, LoadSpec, RunResult, ScenarioName, Target } from "./types.ts";

export interface CellResult {
  target: string;
  scenario: ScenarioName;
  concurrency: number;
  runs: RunResult[];
  /** Medians over the runs. */
  opsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  /** Winning CAS PUTs / answered PUTs (1 for scenarios without a precondition). */
  successRatio: number;
  errors: number;
  serverCpuSecPer1kOps: number | null;
  clientCpuSecPer1kOps: number;
  doRequestsPerOp: number | null;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const sum = (values: readonly number[]) => values.reduce((a, b) => a + b, 0);

/** A cell's figures from its runs: medians for rates and latencies, totals for per-op costs. */
export function aggregate(
  target: string,
  scenario: ScenarioName,
  concurrency: number,
  samples: RunSample[],
  cpuKnown: boolean,
): CellResult {
  const runs = samples.map((s) => s.result);
  const ops = sum(runs.map((r) => r.ops));
  const doDeltas = samples.map((s) => s.doRequests);
  const doKnown = doDeltas.every((d) => d !== undefined) && ops > 0;
  return {
    target,
    scenario,
    concurrency,
    runs,
    opsPerSec: median(runs.map((r) => (r.ops * 1000) / r.elapsedMs)),
    p50Ms: median(runs.map((r) => r.p50Ms)),
    p99Ms: median(runs.map((r) => r.p99Ms)),
    successRatio: ops === 0 ? 0 : sum(runs.map((r) => r.successes)) / ops,
    errors: sum(runs.map((r) => r.errors)),
    serverCpuSecPer1kOps:
      ops === 0 || !cpuKnown ? null : (sum(samples.map((s) => s.serverCpuSeconds)) * 1000) / ops,
    clientCpuSecPer1kOps: ops === 0 ? 0 : (sum(runs.map((r) => r.clientCpuSeconds)) * 1000) / ops,
    doRequestsPerOp: doKnown ? sum(doDeltas as number[]) / ops : null,
  };
}

/** One operation of the scenario from this process: why the cell cannot run, or undefined if it can. */
export async function probeScenario(
  target: Target,
  scenario: ScenarioName,
  keys: BenchKeys,
): Promise<string | undefined> {
  const driver = await makeDriver(target, 1);
  try {
    const client = await makeClient(scenario, driver, keys, 0);
    const outcome = await client.op().finally(() => client.close?.());
    return outcome.result === "error"
      ? `a probe request answered ${outcome.status || "with a network error"}`
      : undefined;
  } catch (error) {
    return `probe failed: ${(error as Error).message}`;
  } finally {
    await driver.close();
  }
}

/** A whole cell in one child: warmup, then `spec.runs` runs back to back (the WAN cells use it). */
export async function runCell(
  target: string,
  spec: LoadSpec,
  cpu: CpuMeter,
  countDo?: DoCounter,
): Promise<CellResult> {
  return aggregate(
    target,
    spec.scenario,
    spec.concurrency,
    await measure(spec, cpu, countDo),
    cpu.pids.length > 0,
  );
}
