// Runs the plan's cells in interleaved rounds: every round runs each cell once (one warmup and one
// measured run in a fresh load-generator child), and a cell's figures are the medians over the
// rounds. A noisy neighbour on a shared machine then hits every target alike, instead of
// whichever target happened to run while it was busy. Every ratio compares neighbours in time,
// and the rounds alternate direction, so neither side of a ratio always runs first.
import { aggregate, type CellResult } from "./cell.ts";
import { measure, type RunSample } from "./loadgen.ts";
import type { Plan } from "./plan.ts";
import type { BenchReport } from "./report.ts";
import { log, type Runner } from "./runners.ts";
import { benchKeys } from "./seed.ts";
import type { ScenarioName } from "./types.ts";

interface Slot {
  runner: Runner;
  scenario: ScenarioName;
  concurrency: number;
  samples: RunSample[];
  /** Set when a run failed; the cell is then left out of later rounds and reported as skipped. */
  failed?: string;
}

/** Probes each (target, scenario) once; cells that cannot run are recorded as skipped. */
async function slotsOf(runners: Runner[], plan: Plan, report: BenchReport): Promise<Slot[]> {
  const slots: Slot[] = [];
  for (const runner of runners) {
    const reasons = new Map<ScenarioName, string | undefined>();
    for (const [scenario, concurrency] of plan.cells[runner.id]) {
      if (!reasons.has(scenario)) {
        const reason = await runner.probe(scenario);
        reasons.set(scenario, reason);
        if (reason !== undefined) report.skipped.push({ target: runner.id, scenario, reason });
      }
      if (reasons.get(scenario) === undefined)
        slots.push({ runner, scenario, concurrency, samples: [] });
    }
  }
  // Neighbours in time are what gets compared: same concurrency, same scenario, each target.
  return slots.sort(
    (a, b) =>
      a.concurrency - b.concurrency ||
      scenarioOrder.indexOf(a.scenario) - scenarioOrder.indexOf(b.scenario),
  );
}

/**
 * Scenarios in the order they run at each concurrency: the runtime floor (/healthz) between the
 * two scenarios whose ratios divide by it, so those too compare neighbours in time (sorted by
 * name, mix and linearizable reads ran in between, and the groups they woke still ticked).
 */
const scenarioOrder: ScenarioName[] = [
  "flags304",
  "bundle",
  "health",
  "stale",
  "flagEval",
  "read",
  "cas",
  "contention",
  "mix",
  // Neighbours: their ratio is the schema's cost per write.
  "put4k",
  "put4kSchema",
  "lock",
  "keepalive",
  // Neighbours: their ratios are the cost of a txn's fan-out over shards.
  "txn1",
  "txn2",
  "txn4",
];

function logCell(c: CellResult): void {
  const won = c.scenario === "contention" ? `, CAS won ${(c.successRatio * 100).toFixed(1)}%` : "";
  const cpu = c.serverCpuSecPer1kOps === null ? "n/a" : c.serverCpuSecPer1kOps.toFixed(3);
  log(
    `${c.target} ${c.scenario}@${c.concurrency}: ${Math.round(c.opsPerSec)} ops/s, p50 ${c.p50Ms.toFixed(2)} ms, p99 ${c.p99Ms.toFixed(2)} ms${won}, errors ${c.errors}, server CPU ${cpu} s/1k ops`,
  );
}

/** One run of one cell; a failure (a crashed or hung load generator) marks the cell instead of ending the bench. */
async function runSlot(slot: Slot, plan: Plan): Promise<void> {
  const spec = {
    target: slot.runner.target,
    scenario: slot.scenario,
    concurrency: slot.concurrency,
    warmupMs: plan.warmupMs,
    runMs: plan.runMs,
    runs: 1,
    keys: benchKeys,
  };
  try {
    const [sample] = await measure(spec, slot.runner.cpu, slot.runner.countDo);
    slot.samples.push(sample!);
    log(
      `  ${slot.runner.id} ${slot.scenario}@${slot.concurrency}: ${Math.round((sample!.result.ops * 1000) / sample!.result.elapsedMs)} ops/s`,
    );
  } catch (error) {
    slot.failed = (error as Error).message;
    log(`  ${slot.runner.id} ${slot.scenario}@${slot.concurrency} failed: ${slot.failed}`);
  }
}

export async function runRounds(runners: Runner[], plan: Plan, report: BenchReport): Promise<void> {
  const slots = await slotsOf(runners, plan, report);
  for (let round = 0; round < plan.runs; round++) {
    log(`round ${round + 1} of ${plan.runs}: ${slots.length} cells`);
    // Odd rounds run backwards: a drift within a round (a heap growing, a neighbour waking) then
    // favours neither side of a ratio.
    for (const slot of round % 2 === 0 ? slots : [...slots].reverse())
      if (slot.failed === undefined) await runSlot(slot, plan);
  }
  for (const slot of slots) {
    if (slot.failed !== undefined) {
      report.skipped.push({
        target: slot.runner.id,
        scenario: slot.scenario,
        reason: `@${slot.concurrency} failed: ${slot.failed}`,
      });
      continue;
    }
    const cell = aggregate(
      slot.runner.id,
      slot.scenario,
      slot.concurrency,
      slot.samples,
      slot.runner.cpu.pids.length > 0,
    );
    report.cells.push(cell);
    logCell(cell);
  }
}
