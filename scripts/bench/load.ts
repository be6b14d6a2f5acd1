// The load generator: a separate process, so its CPU never counts as the server's. For each cell
// (scenario × concurrency against one target) `concurrency` closed-loop clients share a fresh
// keep-alive agent with a connection each; a warmup, then `runs` measured runs back to back.
// Protocol: one LoadSpec as JSON per stdin line; one JSON LoadMessage per stdout line ("start" and
// "end" of each run, so the parent samples server CPU and DO counters right there, then "done").
// The process stays up across cells (no start-up cost per cell) and exits when stdin closes.
//
//   echo '{"target":{...},"scenario":"read","concurrency":16,...}' | node scripts/bench/load.ts
import { createInterface } from "node:readline";
import { makeDriver, type Driver } from "./driver.ts";
import { makeClient, type Client, type Outcome } from "./scenarios.ts";
import type { LoadMessage, LoadSpec, RunResult } from "./types.ts";

function send(message: LoadMessage): void {
  process.stdout.write(`${JSON.stringify(message)}\n`);
}

/** Nearest-rank percentile of an ascending array; 0 when empty. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** All clients loop until the deadline; an op started before it is allowed to finish. */
async function drive(
  clients: Client[],
  durationMs: number,
): Promise<{ outcomes: Outcome[]; elapsedMs: number }> {
  const outcomes: Outcome[] = [];
  const started = performance.now();
  const deadline = started + durationMs;
  const loop = async (client: Client) => {
    while (performance.now() < deadline) outcomes.push(await client.op());
  };
  await Promise.all(clients.map(loop));
  return { outcomes, elapsedMs: performance.now() - started };
}

function summarize(outcomes: Outcome[], elapsedMs: number, clientCpuSeconds: number): RunResult {
  const statuses: Record<string, number> = {};
  for (const o of outcomes) statuses[o.status] = (statuses[o.status] ?? 0) + 1;
  const answered = outcomes.filter((o) => o.result !== "error");
  const latencies = answered.map((o) => o.latencyMs).sort((a, b) => a - b);
  return {
    elapsedMs,
    ops: answered.length,
    successes: answered.filter((o) => o.result !== "lost").length,
    errors: outcomes.length - answered.length,
    statuses,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    clientCpuSeconds,
  };
}

async function measuredRun(clients: Client[], spec: LoadSpec, run: number): Promise<void> {
  send({ type: "start", run });
  const cpuBefore = process.cpuUsage();
  const { outcomes, elapsedMs } = await drive(clients, spec.runMs);
  const cpu = process.cpuUsage(cpuBefore);
  send({ type: "end", run, result: summarize(outcomes, elapsedMs, (cpu.user + cpu.system) / 1e6) });
}

async function runSpec(spec: LoadSpec): Promise<void> {
  const driver: Driver = await makeDriver(spec.target, spec.concurrency);
  try {
    const indexes = Array.from({ length: spec.concurrency }, (_, i) => i);
    const clients = await Promise.all(
      indexes.map((i) => makeClient(spec.scenario, driver, spec.keys, i)),
    );
    try {
      await drive(clients, spec.warmupMs);
      for (let run = 0; run < spec.runs; run++) await measuredRun(clients, spec, run);
    } finally {
      await Promise.allSettled(clients.map((c) => c.close?.()));
    }
  } finally {
    await driver.close();
  }
}

if (import.meta.main) {
  for await (const line of createInterface({ input: process.stdin })) {
    try {
      await runSpec(JSON.parse(line) as LoadSpec);
      send({ type: "done" });
    } catch (error) {
      send({ type: "fatal", message: error instanceof Error ? error.message : String(error) });
    }
  }
}
