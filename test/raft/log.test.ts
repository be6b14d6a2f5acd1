// The log as the core sees it (etcd's raftLog): what the caller persisted followed by what it has
// not persisted yet, read as one log. Each test is a moment between a Ready and its advance().
import { describe, expect, it } from "vitest";
import { RaftLog } from "../../src/raft/log.ts";
import { CompactedError } from "../../src/raft/storage.ts";
import type { Entry, Snapshot } from "../../src/raft/types.ts";
import { enc, singleVoterStorage } from "./harness.ts";

function entry(index: number, term: number, bytes = 1): Entry {
  return { index, term, type: "normal", data: new Uint8Array(bytes) };
}

function snapshot(index: number, term: number): Snapshot {
  return { metadata: { index, term, conf: { voters: ["1"], learners: [] } }, data: enc("s") };
}

/** A log whose storage holds 2..5 (term 2) after the bootstrap snapshot at 1. */
function persisted(entries: Entry[] = [entry(2, 2), entry(3, 2), entry(4, 2), entry(5, 2)]) {
  const storage = singleVoterStorage();
  storage.append(entries);
  return { storage, log: new RaftLog(storage, 0) };
}

const indexes = (es: Entry[]) => es.map((e) => e.index);

describe("one log over storage and unstable entries", () => {
  it("a snapshot not yet persisted replaces the log: entries before it are gone from view", () => {
    const { log } = persisted();
    log.restore(snapshot(10, 3));
    expect([log.firstIndex(), log.lastIndex(), log.committed]).toEqual([11, 10, 10]);
    expect(log.term(10)).toBe(3);
    // The storage still holds 2..5 until the Ready is persisted; the log must not show them.
    for (const i of [2, 5, 9]) expect(log.term(i), `term(${i})`).toBeUndefined();
    expect(log.term(11)).toBeUndefined();
    expect(log.hasPendingSnapshot()).toBe(true);
    expect(log.nextCommittedEntries(Infinity)).toEqual([]);
    // It is the log's snapshot now, and reading before it needs that snapshot.
    expect(log.snapshot().metadata).toMatchObject({ index: 10, term: 3 });
    expect(() => log.entries(3, 11, Infinity)).toThrow(CompactedError);
    expect(() => log.entries(10, 11, Infinity)).toThrow(CompactedError);
    expect(log.entries(11, 11, Infinity)).toEqual([]);
  });

  it("appending nothing changes nothing", () => {
    const { log } = persisted();
    expect(log.append([])).toBe(5);
    expect(log.lastIndex()).toBe(5);
  });

  it("entries appended after a snapshot not yet persisted are readable at once", () => {
    const { log } = persisted();
    log.restore(snapshot(10, 3));
    log.append([entry(11, 3), entry(12, 3)]);
    expect(indexes(log.entries(11, 13, Infinity))).toEqual([11, 12]);
    expect(log.term(12)).toBe(3);
    expect(log.lastTerm()).toBe(3);
    // Committed entries after the snapshot wait for it: the application installs it first.
    log.commitTo(12);
    expect(log.nextCommittedEntries(Infinity)).toEqual([]);
  });

  it("a conflicting append below the persisted tail hides the tail it replaces", () => {
    const { log } = persisted();
    log.append([entry(4, 3)]); // the leader of term 3 overwrites 4..5
    expect(log.lastIndex()).toBe(4);
    expect(log.term(4)).toBe(3);
    expect(log.term(5)).toBeUndefined(); // still in storage, but no longer in the log
    expect(log.entries(2, 5, Infinity).map((e) => `${e.index}/${e.term}`)).toEqual([
      "2/2",
      "3/2",
      "4/3",
    ]);
    expect(log.findConflict([entry(4, 3), entry(5, 3)])).toBe(5);
  });

  it("a read across storage and unstable entries stays contiguous when the byte limit stops it", () => {
    // 2 and 4 are small, 3 is large: a limit that stops before 3 must not go on with 4 or 5.
    const { log } = persisted([entry(2, 2), entry(3, 2, 100), entry(4, 2)]);
    log.append([entry(5, 2), entry(6, 2)]);
    expect(indexes(log.entries(2, 7, 10))).toEqual([2]);
    expect(indexes(log.entries(4, 7, 10))).toEqual([4, 5, 6]);
    expect(indexes(log.entries(2, 7, Infinity))).toEqual([2, 3, 4, 5, 6]);
    expect(indexes(log.entries(5, 7, 1))).toEqual([5]); // at least one
    expect(log.entries(6, 6, Infinity)).toEqual([]);
  });

  it("committed entries are handed out once, from the applied index on, within the byte limit", () => {
    const { log } = persisted();
    log.append([entry(6, 2)]);
    log.commitTo(6);
    expect(indexes(log.nextCommittedEntries(2))).toEqual([2, 3]);
    log.appliedTo(3);
    expect(indexes(log.nextCommittedEntries(Infinity))).toEqual([4, 5, 6]);
    log.appliedTo(6);
    expect(log.nextCommittedEntries(Infinity)).toEqual([]);
    log.appliedTo(0); // nothing handed out: a no-op
    expect(log.applied).toBe(6);
  });

  it("a restart resumes at the persisted commit, and the applied index the application gives", () => {
    const { storage } = persisted();
    storage.setHardState({ term: 2, vote: "", commit: 4 });
    expect(new RaftLog(storage, 0)).toMatchObject({ committed: 4, applied: 1 });
    expect(new RaftLog(storage, 3)).toMatchObject({ committed: 4, applied: 3 });
    // An applied index beyond the commit is capped at the commit.
    expect(new RaftLog(storage, 9)).toMatchObject({ committed: 4, applied: 4 });
  });

  it("fast backtracking finds the last index at or below a term, or where the log's view ends", () => {
    const { log } = persisted([entry(2, 2), entry(3, 2), entry(4, 4), entry(5, 5)]);
    expect(log.findConflictByTerm(5, 4)).toEqual({ index: 4, term: 4 });
    expect(log.findConflictByTerm(5, 3)).toEqual({ index: 3, term: 2 });
    expect(log.findConflictByTerm(5, 5)).toEqual({ index: 5, term: 5 });
    expect(log.findConflictByTerm(3, 0)).toEqual({ index: 0, term: 0 });
  });
});
