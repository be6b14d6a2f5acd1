// The core refuses, loudly and saying why, what would break its invariants: a configuration out of
// its limits, a write over a committed entry, a gap in the log, an index read out of range. A
// guard that fires on a legal call, or stays silent on an illegal one, is a bug either way.
import { describe, expect, it } from "vitest";
import { AssertionError } from "../../src/base/index.ts";
import { Inflights } from "../../src/raft/inflights.ts";
import { RaftLog } from "../../src/raft/log.ts";
import { MemoryStorage } from "../../src/raft/memory-storage.ts";
import { Progress } from "../../src/raft/progress.ts";
import { RawNode } from "../../src/raft/rawnode.ts";
import { Unstable } from "../../src/raft/unstable.ts";
import type { Entry, RaftConfig } from "../../src/raft/types.ts";
import { config, enc, singleVoterStorage } from "./harness.ts";

function entry(index: number, term: number): Entry {
  return { index, term, type: "normal", data: enc(`e${index}`) };
}

function node(overrides: Partial<RaftConfig>): RawNode {
  return new RawNode(config("1", overrides), singleVoterStorage());
}

describe("configuration limits", () => {
  it("accepts every limit at its boundary", () => {
    for (const overrides of [
      { heartbeatIntervalTicks: 1, electionTimeoutTicks: 2 },
      { inflightMessagesMax: 1 },
      { messageBytesMax: 1 },
      { messageBytesMax: 2 * 1024 * 1024 },
      { snapshotChunkBytesMax: 1 },
      { snapshotChunkBytesMax: 1024 * 1024 },
      { uncommittedBytesMax: 1 },
      { learnerBytesPerTick: 0 },
      { quiesceAfterTicks: 0 },
      { readLeaseMs: 0 },
      { readLeaseMs: 1, voteRefusalMs: 2 },
    ]) {
      expect(() => node(overrides), JSON.stringify(overrides)).not.toThrow();
    }
  });

  it.each([
    [{ id: "" }, "config.id must not be empty"],
    [
      { heartbeatIntervalTicks: 0, electionTimeoutTicks: 2 },
      "heartbeatIntervalTicks must be at least 1",
    ],
    [
      { heartbeatIntervalTicks: 3, electionTimeoutTicks: 3 },
      "electionTimeoutTicks must exceed heartbeatIntervalTicks",
    ],
    [{ inflightMessagesMax: 0 }, "inflightMessagesMax must be at least 1"],
    [{ messageBytesMax: 0 }, "messageBytesMax must be in [1, 2 MiB]"],
    [{ messageBytesMax: 2 * 1024 * 1024 + 1 }, "messageBytesMax must be in [1, 2 MiB]"],
    [{ snapshotChunkBytesMax: 0 }, "snapshotChunkBytesMax must be in [1, 1 MiB]"],
    [{ snapshotChunkBytesMax: 1024 * 1024 + 1 }, "snapshotChunkBytesMax must be in [1, 1 MiB]"],
    [{ uncommittedBytesMax: 0 }, "uncommittedBytesMax must be at least 1"],
    [{ learnerBytesPerTick: -1 }, "learnerBytesPerTick must not be negative"],
    [{ quiesceAfterTicks: -1 }, "quiesceAfterTicks must not be negative"],
    [{ readLeaseMs: -1 }, "readLeaseMs must not be negative"],
    [{ readLeaseMs: 5, voteRefusalMs: 5 }, "voteRefusalMs must exceed readLeaseMs"],
  ] as [Partial<RaftConfig>, string][])("refuses %j: %s", (overrides, message) => {
    expect(() => node(overrides)).toThrow(AssertionError);
    expect(() => node(overrides)).toThrow(message);
  });

  it("a configuration is refused at construction, even by a member that has no membership yet", () => {
    // A member to be added starts with empty storage: no progress, no window built yet.
    expect(
      () => new RawNode(config("new", { inflightMessagesMax: 0 }), new MemoryStorage()),
    ).toThrow("inflightMessagesMax must be at least 1");
  });

  it("a pipelining window of no message is refused by the window itself too", () => {
    expect(() => new Inflights(0)).toThrow("inflightMessagesMax must be at least 1");
    expect(new Inflights(1).full()).toBe(false);
  });
});

describe("the pipelining window's invariants", () => {
  it("refuses a message beyond the window and indexes that do not increase", () => {
    const w = new Inflights(2);
    w.add(3, 1);
    expect(() => w.add(3, 1)).toThrow("inflights: indexes must increase");
    w.add(4, 1);
    expect(() => w.add(5, 1)).toThrow("inflights: adding to a full window");
  });
});

describe("the log's invariants (§5.3, §5.4: committed entries are never overwritten)", () => {
  /** A log holding 2..5 of term 2 after the bootstrap snapshot, committed through `commit`. */
  function log(commit: number): RaftLog {
    const storage = singleVoterStorage();
    storage.append([entry(2, 2), entry(3, 2), entry(4, 2), entry(5, 2)]);
    const l = new RaftLog(storage, 0);
    l.commitTo(commit);
    return l;
  }

  it("refuses to append over a committed entry", () => {
    const l = log(3);
    expect(() => l.append([entry(3, 3)])).toThrow("log: appending at 3 would overwrite commit 3");
    expect(l.append([entry(4, 3)])).toBe(4);
  });

  it("refuses to append with a gap after the last entry", () => {
    const l = log(1);
    expect(() => l.append([entry(7, 2)])).toThrow("log: gap before 7");
    expect(l.append([entry(6, 2)])).toBe(6);
  });

  it("a leader's entries that conflict at or below the commit index are a safety violation", () => {
    const l = log(4);
    expect(() => l.maybeAppend(2, 2, [entry(3, 2), entry(4, 9)])).toThrow(
      "log: conflict at 4 is at or below commit 4",
    );
    expect(l.maybeAppend(4, 2, [entry(5, 9)])).toEqual({ lastNew: 5, appendedFrom: 5 });
  });

  it("refuses to commit beyond the last entry", () => {
    const l = log(1);
    expect(() => l.commitTo(6)).toThrow("log: commit 6 beyond last index 5");
    l.commitTo(5);
    expect(l.committed).toBe(5);
  });

  it("refuses to apply beyond the commit index or backwards", () => {
    const l = log(3);
    expect(() => l.appliedTo(4)).toThrow("log: applied 4 out of [1,3]");
    l.appliedTo(3);
    expect(() => l.appliedTo(2)).toThrow("log: applied 2 out of [3,3]");
    l.appliedTo(3);
    expect(l.applied).toBe(3);
  });

  it("refuses a range that is reversed or runs past the last entry", () => {
    const l = log(1);
    expect(() => l.entries(4, 3, Infinity)).toThrow("log: bad range [4,3)");
    expect(() => l.entries(2, 7, Infinity)).toThrow("log: bad range [2,7)");
    expect(l.entries(2, 6, Infinity).map((e) => e.index)).toEqual([2, 3, 4, 5]);
  });

  it("unstable entries are sliced only within what it holds", () => {
    const u = new Unstable(4);
    u.truncateAndAppend([entry(4, 2), entry(5, 2)]);
    expect(() => u.slice(3, 5)).toThrow("unstable: bad slice [3,5)");
    expect(() => u.slice(4, 7)).toThrow("unstable: bad slice [4,7)");
    expect(() => u.slice(5, 4)).toThrow("unstable: bad slice [5,4)");
    expect(u.slice(4, 6).map((e) => e.index)).toEqual([4, 5]);
    expect(u.slice(6, 6)).toEqual([]);
  });
});

describe("the leader's progress bookkeeping", () => {
  it("entries are never sent behind a follower's next index, nor to one installing a snapshot", () => {
    const pr = new Progress(5, 4, false);
    pr.maybeUpdate(4);
    pr.becomeReplicate();
    expect(() => pr.sentEntries(4, 1, 1)).toThrow("progress: sent entries behind next");
    pr.sentEntries(5, 1, 1);
    expect(pr.next).toBe(6);
    pr.becomeSnapshot({
      metadata: { index: 9, term: 2, conf: { voters: ["1"], learners: [] } },
      data: enc(""),
    });
    expect(() => pr.sentEntries(10, 1, 1)).toThrow("progress: sending entries in snapshot state");
  });
});

describe("MemoryStorage's invariants", () => {
  it("refuses entries that leave a gap or are not contiguous", () => {
    const s = new MemoryStorage();
    s.append([entry(1, 1)]);
    expect(() => s.append([entry(3, 1)])).toThrow("append: gap between 1 and 3");
    expect(() => s.append([entry(2, 1), entry(4, 1)])).toThrow("append: indexes not contiguous");
    s.append([entry(2, 1), entry(3, 1)]);
    expect(s.lastIndex()).toBe(3);
  });

  it("refuses a snapshot older than its own, and a compaction it cannot vouch for", () => {
    const s = new MemoryStorage();
    s.append([entry(1, 1), entry(2, 1), entry(3, 2)]);
    const snap = (index: number, term: number) => ({
      metadata: { index, term, conf: { voters: ["1"], learners: [] } },
      data: enc(""),
    });
    expect(() => s.compact(snap(3, 1))).toThrow(
      "compact: the snapshot's term does not match the log at 3",
    );
    expect(() => s.compact(snap(4, 2))).toThrow("compact: 4 is beyond the last index 3");
    s.compact(snap(2, 1));
    expect(() => s.compact(snap(1, 1))).toThrow("compact: 1 is older than the snapshot at 2");
    s.compact(snap(2, 1));
    s.applySnapshot(snap(5, 3));
    expect(() => s.applySnapshot(snap(4, 3))).toThrow("applySnapshot: 4 is older than 5");
    s.applySnapshot(snap(5, 3));
    expect(s.lastIndex()).toBe(5);
  });
});

describe("restart from storage", () => {
  it("refuses a hard state whose commit index lies beyond the log", () => {
    const storage = singleVoterStorage();
    storage.setHardState({ term: 1, vote: "", commit: 2 });
    expect(() => new RawNode(config("1"), storage)).toThrow(
      "hardState.commit 2 beyond the log's last index",
    );
  });
});
