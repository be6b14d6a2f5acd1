// Idle cost: once the load has stopped and the shard has gone quiet, how many DO requests (and
// how much server CPU) a minute of nothing costs. The target is zero requests: a quiesced Raft
// group sets no alarms and sends no heartbeats until a client arrives.
import type { CpuMeter } from "./cpu.ts";
import type { StatsProbe } from "./stats.ts";

const settleStepMs = 1_000;

export interface IdleResult {
  windowMs: number;
  /** How long the shard took to stop making DO requests after the load (max if it never did). */
  settledAfterMs: number;
  quiesced: boolean | undefined;
  doRequestsPerMin: number | undefined;
  serverCpuSecPerMin: number;
  note?: string;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits until one settle step passes with no DO request (at most `settleMaxMs`); the time it took. */
async function settle(probe: StatsProbe, settleMaxMs: number): Promise<number> {
  const started = Date.now();
  let last = await probe.count();
  if (last === undefined) {
    await sleep(settleMaxMs); // no counters: give the shard the whole settle time
    return settleMaxMs;
  }
  while (Date.now() - started < settleMaxMs) {
    await sleep(settleStepMs);
    const now = await probe.count();
    if (now === last) break;
    last = now;
  }
  return Date.now() - started;
}

export async function measureIdle(
  probe: StatsProbe,
  cpu: CpuMeter,
  windowMs: number,
  settleMaxMs: number,
): Promise<IdleResult> {
  const settledAfterMs = await settle(probe, settleMaxMs);
  const [requestsBefore, cpuBefore] = [await probe.count(), cpu.seconds()];
  await sleep(windowMs);
  const [requestsAfter, cpuAfter] = [await probe.count(), cpu.seconds()];
  const perMin = 60_000 / windowMs;
  const requests =
    requestsBefore === undefined || requestsAfter === undefined
      ? undefined
      : (requestsAfter - requestsBefore) * perMin;
  return {
    windowMs,
    settledAfterMs,
    quiesced: requests === undefined ? undefined : requests === 0,
    doRequestsPerMin: requests,
    serverCpuSecPerMin: (cpuAfter - cpuBefore) * perMin,
    ...(probe.unavailable ? { note: `DO requests n/a: ${probe.unavailable}` } : {}),
  };
}
