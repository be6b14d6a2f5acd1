// Drives the load-generator child (scripts/bench/load.ts) and samples the server around each
// measured run: CPU of the server's processes from /proc, DO request counters when it has them.
import { spawn } from "node:child_process";
import { join } from "node:path";
import { createInterface } from "node:readline";
import type { CpuMeter } from "./cpu.ts";
import type { LoadMessage, LoadSpec, RunResult } from "./types.ts";

const loadScript = join(import.meta.dirname, "load.ts");
/** Time a cell may take beyond its planned runs (connections, drain) before its child is killed. */
const childSlackMs = 60_000;

/** Total DO requests so far across a backend's replicas; undefined when it cannot tell. */
export type DoCounter = () => Promise<number | undefined>;

/** One measured run with the server-side figures sampled around it. */
export interface RunSample {
  result: RunResult;
  serverCpuSeconds: number;
  doRequests: number | undefined;
}

async function delta(
  before: Promise<number | undefined>,
  after: Promise<number | undefined>,
): Promise<number | undefined> {
  const [a, b] = await Promise.all([before, after]);
  return a === undefined || b === undefined ? undefined : b - a;
}

/** The load-generator child, kept across cells; a new one is spawned after a failure. */
interface LoadChild {
  send(spec: LoadSpec): void;
  next(): Promise<LoadMessage | undefined>;
  kill(): void;
}

let current: LoadChild | undefined;

function spawnLoad(): LoadChild {
  const child = spawn(process.execPath, [loadScript], { stdio: ["pipe", "pipe", "inherit"] });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  return {
    send: (spec) => child.stdin.write(`${JSON.stringify(spec)}\n`),
    next: async () => {
      const line = await lines.next();
      return line.done ? undefined : (JSON.parse(line.value) as LoadMessage);
    },
    kill: () => child.kill("SIGKILL"),
  };
}

/** Ends the load-generator child (at the end of the bench). */
export function stopLoad(): void {
  current?.kill();
  current = undefined;
}

/** Reads the child's messages for one spec until "done"; a child that fails or hangs is replaced. */
async function exchange(spec: LoadSpec, onMessage: (m: LoadMessage) => void): Promise<void> {
  const child = (current ??= spawnLoad());
  const timer = setTimeout(stopLoad, spec.warmupMs + spec.runs * spec.runMs + childSlackMs);
  try {
    child.send(spec);
    for (let m = await child.next(); m?.type !== "done"; m = await child.next()) {
      if (m === undefined)
        throw new Error("the load generator exited (or was killed after hanging)");
      if (m.type === "fatal") throw new Error(`load generator: ${m.message}`);
      onMessage(m);
    }
  } catch (error) {
    stopLoad();
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

/** Runs `spec` in the load-generator child; server CPU and DO counters are sampled at each run's start and end. */
export async function measure(
  spec: LoadSpec,
  cpu: CpuMeter,
  countDo: DoCounter | undefined,
): Promise<RunSample[]> {
  const count = countDo ?? (async () => undefined);
  const samples: Promise<RunSample>[] = [];
  let cpuAtStart = 0;
  let doAtStart: Promise<number | undefined> = Promise.resolve(undefined);
  await exchange(spec, (m) => {
    if (m.type === "start") {
      [cpuAtStart, doAtStart] = [cpu.seconds(), count()];
    } else if (m.type === "end") {
      const [serverCpuSeconds, doDelta] = [cpu.seconds() - cpuAtStart, delta(doAtStart, count())];
      samples.push(
        doDelta.then((doRequests) => ({ result: m.result, serverCpuSeconds, doRequests })),
      );
    }
  });
  if (samples.length < spec.runs)
    throw new Error(`load generator ended after ${samples.length} of ${spec.runs} runs`);
  return Promise.all(samples);
}
