// The cross-shard txn simulator in CI: 300 seeds must hold every check (atomicity, the
// bank total, an acyclic serialization graph, no intent after healing), and each planted bug
// must be caught within a few dozen seeds. `npm run sim:txn -- --seeds 20000` runs a long sweep.
import { describe, expect, it } from "vitest";
import type { Bugs } from "./client.ts";
import { findCycle } from "./checks.ts";
import { runTxnSeed } from "./run.ts";

function sweep(from: number, count: number, bugs?: Bugs) {
  const failures: string[] = [];
  let commits = 0;
  let aborts = 0;
  let audits = 0;
  for (let seed = from; seed < from + count; seed++) {
    try {
      const r = runTxnSeed({ seed, ...(bugs === undefined ? {} : { bugs }) });
      commits += r.commits;
      aborts += r.aborts;
      audits += r.audits;
    } catch (e) {
      failures.push(`seed ${seed}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  return { failures, commits, aborts, audits };
}

describe("cross-shard txns under coordinator and group crashes, cuts, loss and delay", () => {
  for (let from = 1; from <= 300; from += 50) {
    it(`seeds ${from}..${from + 49}: atomic, serializable, the bank's total kept, no intent left after healing`, () => {
      const r = sweep(from, 50);
      expect(r.failures, r.failures.join("\n")).toEqual([]);
      expect(r.commits).toBeGreaterThan(0);
      expect(r.aborts).toBeGreaterThan(0);
      expect(r.audits).toBeGreaterThan(0);
    }, 60_000);
  }
});

describe("the simulator catches the planted bugs", () => {
  it("a coordinator that commits before every prepare is durable", () => {
    const r = sweep(1, 20, { commitBeforePrepared: true });
    // The audits and the bank see money appear or vanish (a part committed without its prepare).
    expect(r.failures.length).toBeGreaterThan(10);
    expect(r.failures.join("\n")).toMatch(/atomicity|audits read totals|the bank holds/);
  }, 60_000);

  it("recovery that aborts after a commit decision", () => {
    const r = sweep(1, 40, { abortAfterCommit: true });
    expect(r.failures.length).toBeGreaterThan(10);
    expect(r.failures.join("\n")).toMatch(
      /atomicity: txn \S+ was decided commit but group \d+ resolved abort/,
    );
  }, 60_000);
});

describe("the serialization graph check", () => {
  it("finds a cycle and only a cycle", () => {
    expect(findCycle([new Set([1]), new Set([2]), new Set([0])])).toEqual([0, 1, 2, 0]);
    expect(findCycle([new Set([1, 2]), new Set([2]), new Set()])).toBeNull();
  });
});
