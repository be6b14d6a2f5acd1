// What the core accepted and the caller has not yet persisted (etcd's unstable log): the entries
// after `offset`, or a snapshot. Persisting a Ready moves them out; a newer append may replace
// them first, and must survive the late acknowledgment of what it replaced.
import { describe, expect, it } from "vitest";
import { Unstable } from "../../src/raft/unstable.ts";
import type { Entry, Snapshot } from "../../src/raft/types.ts";
import { enc } from "./harness.ts";

function entry(index: number, term: number): Entry {
  return { index, term, type: "normal", data: enc(`e${index}`) };
}

function snapshot(index: number, term: number): Snapshot {
  return { metadata: { index, term, conf: { voters: ["1"], learners: [] } }, data: enc("s") };
}

const terms = (u: Unstable) => u.entries.map((e) => `${e.index}/${e.term}`);

describe("unstable entries", () => {
  it("hold nothing at first: no first or last index, no term", () => {
    const u = new Unstable(5);
    expect([u.maybeFirstIndex(), u.maybeLastIndex(), u.maybeTerm(5), u.maybeTerm(4)]).toEqual([
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
  });

  it("an append that follows on extends; one that starts earlier replaces from there", () => {
    const u = new Unstable(5);
    u.truncateAndAppend([entry(5, 1), entry(6, 1)]);
    u.truncateAndAppend([entry(7, 1)]);
    expect(terms(u)).toEqual(["5/1", "6/1", "7/1"]);
    u.truncateAndAppend([entry(6, 2)]);
    expect(terms(u)).toEqual(["5/1", "6/2"]);
    expect([u.offset, u.maybeLastIndex(), u.maybeTerm(6), u.maybeTerm(7)]).toEqual([
      5,
      6,
      2,
      undefined,
    ]);
    // Before the offset: everything unstable goes, and the offset moves back.
    u.truncateAndAppend([entry(3, 3)]);
    expect([u.offset, ...terms(u)]).toEqual([3, "3/3"]);
    u.truncateAndAppend([]);
    expect(terms(u)).toEqual(["3/3"]);
  });

  it("persisted entries leave, unless they were replaced since the Ready handed them out", () => {
    const u = new Unstable(5);
    u.truncateAndAppend([entry(5, 1), entry(6, 1), entry(7, 1)]);
    u.stableTo(6, 1);
    expect([u.offset, ...terms(u)]).toEqual([7, "7/1"]);
    u.truncateAndAppend([entry(7, 2), entry(8, 2)]);
    u.stableTo(7, 1); // the old 7/1 was persisted; 7/2 replaced it: keep it
    expect([u.offset, ...terms(u)]).toEqual([7, "7/2", "8/2"]);
    u.stableTo(6, 1); // before the offset: already gone
    expect([u.offset, ...terms(u)]).toEqual([7, "7/2", "8/2"]);
    u.stableTo(8, 2);
    expect([u.offset, u.entries.length, u.maybeLastIndex()]).toEqual([9, 0, undefined]);
  });

  it("a snapshot gives the first index after it, its own index and term, and is persisted once", () => {
    const u = new Unstable(5);
    u.truncateAndAppend([entry(5, 1)]);
    u.restore(snapshot(10, 3));
    expect([u.offset, u.entries.length]).toEqual([11, 0]);
    expect([u.maybeFirstIndex(), u.maybeLastIndex(), u.maybeTerm(10)]).toEqual([11, 10, 3]);
    expect([u.maybeTerm(9), u.maybeTerm(11)]).toEqual([undefined, undefined]);
    u.truncateAndAppend([entry(11, 3)]);
    expect([u.maybeLastIndex(), u.maybeTerm(11), u.maybeTerm(10)]).toEqual([11, 3, 3]);
    u.stableSnapTo(9); // not this snapshot
    expect(u.snapshot).toBeDefined();
    u.stableSnapTo(10);
    expect(u.snapshot).toBeUndefined();
    expect(u.maybeFirstIndex()).toBeUndefined();
  });
});
