// The simulator in CI: fixed seed ranges (deterministic), 3 and 5 voters (even seeds run 3,
// odd seeds 5), every fault on. A failing seed's message carries the command that replays it
// with its trace. Sweeps of thousands of seeds: `npm run sim -- --seeds 10000`.
import { describe, expect, it } from "vitest";
import * as rawnode from "../../src/raft/rawnode.ts";
import * as memory from "../../src/raft/memory-storage.ts";
import * as confchange from "../../src/raft/confchange.ts";
import { coreFromModules, defaultCoreDir } from "./core.ts";
import { runSeed } from "./run.ts";

const core = coreFromModules(defaultCoreDir, { rawnode, memory, confchange });

/** 300 seeds in batches, so a failure report stays readable and each test has its own timeout. */
const seedsTotal = 300;
const seedsPerBatch = 50;
const batchTimeoutMs = 60_000;

function runBatch(
  from: number,
  count: number,
): { operations: number; leaseReads: number; failures: string[] } {
  let operations = 0;
  let leaseReads = 0;
  const failures: string[] = [];
  for (let seed = from; seed < from + count; seed++) {
    try {
      const r = runSeed({ seed, faults: true, trace: false, core });
      operations += r.operationsChecked;
      leaseReads += r.leaseReads;
    } catch (e) {
      failures.push(e instanceof Error ? e.message : String(e));
    }
  }
  return { operations, leaseReads, failures };
}

describe("cluster simulator with faults", () => {
  for (let from = 1; from <= seedsTotal; from += seedsPerBatch) {
    const to = from + seedsPerBatch - 1;
    it(
      `seeds ${from}..${to}: Raft safety after every step, liveness after healing, quiescence, linearizable history`,
      () => {
        const { operations, leaseReads, failures } = runBatch(from, seedsPerBatch);
        // Show every failing seed with its replay command, not just the first.
        expect(failures, failures.join("\n\n")).toEqual([]);
        expect(operations).toBeGreaterThan(0);
        // Read leases are exercised under faults too, not only ReadIndex.
        expect(leaseReads).toBeGreaterThan(0);
      },
      batchTimeoutMs,
    );
  }
});

describe("cluster simulator without faults", () => {
  it("serves every operation and quiesces", () => {
    const r = runSeed({
      seed: 1,
      faults: false,
      trace: false,
      core,
      faultPhaseTicks: 300,
      clients: 8,
    });
    expect(r.timedOut).toBe(0);
    expect(r.writesCompleted).toBeGreaterThan(100);
  });

  it("serves most reads on the leader's read lease", () => {
    // Seed 2 draws leases on (readLeaseMs 900 of voteRefusalMs 1800); reads sent to followers
    // still take a ReadIndex round.
    const r = runSeed({ seed: 2, faults: false, trace: false, core });
    expect(r.timedOut).toBe(0);
    expect(r.leaseReads).toBeGreaterThan(r.readsCompleted / 2);
  });
});
