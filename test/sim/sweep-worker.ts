// A worker thread of a seed sweep: receives batches of seeds, runs each, reports every result.
import "./ts-hooks.ts";

const { parentPort, workerData } = await import("node:worker_threads");
const { loadCore } = await import("./core.ts");
const { runSeed } = await import("./run.ts");

export interface SweepRequest {
  seeds: number[];
}

export type SweepReply =
  | {
      kind: "result";
      seed: number;
      profile: string;
      operations: number;
      ticks: number;
      writes: number;
      reads: number;
      leaseReads: number;
    }
  | { kind: "failure"; seed: number; message: string }
  | { kind: "batchDone" };

const data = workerData as {
  coreDir: string;
  nodes?: number;
  faults: boolean;
  skipQuiescence: boolean;
  ticks?: number;
};
const core = await loadCore(data.coreDir);
const port = parentPort;
if (port === null) throw new Error("sweep-worker.ts must run in a worker thread");

port.on("message", (request: SweepRequest) => {
  for (const seed of request.seeds) {
    try {
      const r = runSeed({
        seed,
        nodes: data.nodes,
        faults: data.faults,
        trace: false,
        core,
        skipQuiescence: data.skipQuiescence,
        faultPhaseTicks: data.ticks,
      });
      port.postMessage({
        kind: "result",
        seed,
        profile: r.profile,
        operations: r.operationsChecked,
        ticks: r.ticks,
        writes: r.writesCompleted,
        reads: r.readsCompleted,
        leaseReads: r.leaseReads,
      } satisfies SweepReply);
    } catch (e) {
      port.postMessage({
        kind: "failure",
        seed,
        message: e instanceof Error ? e.message : String(e),
      } satisfies SweepReply);
    }
  }
  port.postMessage({ kind: "batchDone" } satisfies SweepReply);
});
port.postMessage({ kind: "batchDone" } satisfies SweepReply);
