// The core's small pieces, each by the rule it keeps: bootstrap's refusals, membership changes
// and their refusals, the default configuration, the log's view of a storage that fails.
import { describe, expect, it } from "vitest";
import { AssertionError } from "../../src/base/index.ts";
import {
  confChangeError,
  decodeConfChange,
  encodeConfChange,
  isMember,
} from "../../src/raft/confchange.ts";
import { defaultRaftConfig } from "../../src/raft/config.ts";
import { ConfLog } from "../../src/raft/conflog.ts";
import { Inflights } from "../../src/raft/inflights.ts";
import { RaftLog } from "../../src/raft/log.ts";
import { committedIndex, hasQuorum, majority, voteResult } from "../../src/raft/quorum.ts";
import { Rand } from "../../src/raft/rand.ts";
import { MemoryStorage } from "../../src/raft/memory-storage.ts";
import { RawNode, bootstrap } from "../../src/raft/rawnode.ts";
import { BeyondLastIndexError, CompactedError } from "../../src/raft/storage.ts";
import type { ConfState, Entry } from "../../src/raft/types.ts";
import { enc } from "./harness.ts";

function entry(
  index: number,
  term: number,
  type: Entry["type"] = "normal",
  data = enc("x"),
): Entry {
  return { index, term, type, data };
}

describe("bootstrap", () => {
  it("refuses storage that already holds entries, even with no hard state written", () => {
    const storage = new MemoryStorage();
    storage.append([entry(1, 1)]);
    expect(() => bootstrap(storage, { voters: ["1"], learners: [] })).toThrow(
      /bootstrap: storage is not empty/,
    );
  });

  it("refuses storage that holds a hard state, even with no entries", () => {
    const storage = new MemoryStorage();
    storage.setHardState({ term: 3, vote: "2", commit: 0 });
    expect(() => bootstrap(storage, { voters: ["1"], learners: [] })).toThrow(
      /bootstrap: storage is not empty/,
    );
  });
  it("refuses a group without voters, and a member both voter and learner, saying which", () => {
    expect(() => bootstrap(new MemoryStorage(), { voters: [], learners: ["x"] })).toThrow(
      "bootstrap: a group needs at least one voter",
    );
    expect(() =>
      bootstrap(new MemoryStorage(), { voters: ["1", "2", "3"], learners: ["3", "2"] }),
    ).toThrow("bootstrap: 2, 3 cannot be both voter and learner");
  });
});

describe("§4.1 membership changes: what a change may do", () => {
  const conf: ConfState = { voters: ["1", "2"], learners: ["3"] };

  it("voters and learners are members; anyone else is not", () => {
    expect(isMember(conf, "1")).toBe(true);
    expect(isMember(conf, "3")).toBe(true);
    expect(isMember(conf, "4")).toBe(false);
    expect(isMember({ voters: [], learners: ["3"] }, "3")).toBe(true);
    expect(isMember({ voters: ["1"], learners: [] }, "1")).toBe(true);
  });

  it("each refusal names the member and the rule it breaks", () => {
    expect(confChangeError(conf, { type: "addVoter", nodeId: "3" })).toBe(
      "3 is already a member (use promoteLearner for a learner)",
    );
    expect(confChangeError(conf, { type: "addLearner", nodeId: "1" })).toBe(
      "1 is already a member",
    );
    expect(confChangeError(conf, { type: "addLearner", nodeId: "3" })).toBe(
      "3 is already a member",
    );
    expect(confChangeError(conf, { type: "promoteLearner", nodeId: "1" })).toBe(
      "1 is not a learner",
    );
    expect(confChangeError(conf, { type: "removeVoter", nodeId: "3" })).toBe("3 is not a voter");
    expect(
      confChangeError({ voters: ["1"], learners: [] }, { type: "removeVoter", nodeId: "1" }),
    ).toBe("cannot remove the last voter");
    expect(confChangeError(conf, { type: "removeLearner", nodeId: "2" })).toBe(
      "2 is not a learner",
    );
    expect(confChangeError(conf, { type: "addLearner", nodeId: "4" })).toBeUndefined();
    expect(confChangeError(conf, { type: "removeLearner", nodeId: "3" })).toBeUndefined();
    expect(confChangeError(conf, { type: "removeVoter", nodeId: "2" })).toBeUndefined();
  });

  it("a conf entry is refused unless it is a change of a known type to a named member", () => {
    expect(() => decodeConfChange(enc("null"))).toThrow("conf change: not an object");
    expect(() => decodeConfChange(enc("7"))).toThrow("conf change: not an object");
    expect(() => decodeConfChange(enc('{"type":"addVoter","nodeId":""}'))).toThrow(
      /conf change: invalid/,
    );
    expect(() => decodeConfChange(enc('{"type":"addVoter","nodeId":7}'))).toThrow(
      /conf change: invalid/,
    );
    expect(() => decodeConfChange(enc('{"type":"demote","nodeId":"7"}'))).toThrow(
      /conf change: invalid/,
    );
    const cc = { type: "removeLearner" as const, nodeId: "3" };
    expect(decodeConfChange(encodeConfChange(cc))).toEqual(cc);
  });
});

describe("ConfLog: a configuration takes effect when appended, and reverts when truncated", () => {
  const change = (index: number, nodeId: string): Entry =>
    entry(index, 2, "conf", encodeConfChange({ type: "addLearner", nodeId }));

  it("says whether an append or a truncation changed membership, and the newest conf entry not yet committed", () => {
    const log = new ConfLog({ voters: ["1"], learners: [] });
    expect(log.lastIndex()).toBe(0);
    expect(log.append([entry(2, 2)])).toBe(false); // no conf entry: membership unchanged
    expect(log.append([change(3, "a"), entry(4, 2), change(5, "b")])).toBe(true);
    expect(log.lastIndex()).toBe(5);
    expect(log.current().learners).toEqual(["a", "b"]);
    expect(log.truncateFrom(6)).toBe(false); // nothing of membership dropped
    expect(log.truncateFrom(5)).toBe(true);
    expect(log.lastIndex()).toBe(3);
    expect(log.current().learners).toEqual(["a"]);
    log.commitTo(3);
    expect(log.lastIndex()).toBe(0);
    expect(log.current().learners).toEqual(["a"]);
  });
});

describe("the pipelining window", () => {
  it("counts the bytes of the messages in flight, and frees them as acks arrive", () => {
    const w = new Inflights(3);
    w.add(2, 10);
    w.add(4, 5);
    w.add(7, 1);
    expect([w.count, w.bytes, w.full()]).toEqual([3, 16, true]);
    w.freeLE(4);
    expect([w.count, w.bytes, w.full()]).toEqual([1, 1, false]);
    w.freeFirstOne();
    expect([w.count, w.bytes]).toEqual([0, 0]);
  });
});

describe("the default configuration", () => {
  it("turns PreVote and CheckQuorum on and keeps messages and chunks at or under 1 MiB", () => {
    const cfg = defaultRaftConfig("a", 7);
    expect(cfg).toMatchObject({ id: "a", seed: 7, preVote: true, checkQuorum: true });
    expect(cfg.quiesceAfterTicks).toBe(20);
    expect(cfg.messageBytesMax).toBe(512 * 1024);
    expect(cfg.snapshotChunkBytesMax).toBe(512 * 1024);
    expect(defaultRaftConfig("a", 7, { preVote: false }).preVote).toBe(false);
  });

  it("lets a leader hold megabytes of uncommitted proposals before backpressure", () => {
    const storage = new MemoryStorage();
    bootstrap(storage, { voters: ["a", "b", "c"], learners: [] });
    const node = new RawNode(defaultRaftConfig("a", 7, { preVote: false }), storage);
    node.campaign();
    node.step({ type: "voteResp", from: "b", to: "a", term: 2 });
    expect(node.status().role).toBe("leader");
    const value = new Uint8Array(256 * 1024);
    // Nothing commits (no follower answers): 64 values of 256 KiB fill the 16 MiB exactly.
    for (let i = 0; i < 64; i++) expect(node.propose(value)).toEqual({ ok: true });
    expect(node.propose(value)).toMatchObject({ ok: false, reason: "backpressure" });
  });
});

describe("the log over a storage that fails", () => {
  /** A storage whose term() throws `error` for index 3, as one compacted or failing meanwhile would. */
  function failingAt3(error: Error): MemoryStorage {
    const storage = new MemoryStorage();
    bootstrap(storage, { voters: ["1"], learners: [] });
    storage.append([entry(2, 2), entry(3, 2), entry(4, 2)]);
    const term = storage.term.bind(storage);
    storage.term = (index: number) => {
      if (index === 3) throw error;
      return term(index);
    };
    return storage;
  }

  it("an index the storage reports as compacted or not yet written has no known term", () => {
    expect(new RaftLog(failingAt3(new CompactedError(3, 5)), 0).term(3)).toBeUndefined();
    expect(new RaftLog(failingAt3(new BeyondLastIndexError(3, 2)), 0).term(3)).toBeUndefined();
    expect(new RaftLog(failingAt3(new CompactedError(3, 5)), 0).term(4)).toBe(2);
  });

  it("a last entry whose term the storage cannot give is an error, not an unknown term", () => {
    const storage = failingAt3(new CompactedError(3, 5));
    storage.append([entry(2, 2), entry(3, 2)]); // 3 is now the last entry
    expect(() => new RaftLog(storage, 0).lastTerm()).toThrow(
      "log: term of the last index is unknown",
    );
  });

  it("any other storage failure propagates: it is not mistaken for a missing entry", () => {
    const log = new RaftLog(failingAt3(new Error("disk on fire")), 0);
    expect(() => log.term(3)).toThrow("disk on fire");
    expect(() => log.term(3)).not.toThrow(AssertionError);
  });
});

describe("election jitter is reproducible", () => {
  it("the PRNG is mulberry32 of the seed, so a simulator seed replays the same elections", () => {
    // Reference values of mulberry32 (computed apart from this code).
    const vectors: [number, number[]][] = [
      [1, [2693262067, 11749833, 2265367787, 4213581821]],
      [42, [2581720956, 1925393290, 3661312704, 2876485805]],
      [0xdeadbeef, [4043151706, 1147597007, 3315858022, 1538288752]],
    ];
    for (const [seed, expected] of vectors) {
      const r = new Rand(seed);
      expect(expected.map(() => r.nextUint32())).toEqual(expected);
    }
    const r = new Rand(7);
    expect(Array.from({ length: 6 }, () => r.intBelow(10))).toEqual([0, 0, 9, 6, 5, 4]);
  });

  it("a bound with one choice or none answers 0 and draws nothing: later draws are unchanged", () => {
    const r = new Rand(7);
    expect([r.intBelow(1), r.intBelow(0)]).toEqual([0, 0]);
    expect(Array.from({ length: 3 }, () => r.intBelow(10))).toEqual([0, 0, 9]);
  });
});

describe("majorities (§5.2, §5.3)", () => {
  it("a majority is more than half: 1 of 1, 2 of 2 and 3, 3 of 4 and 5", () => {
    expect([1, 2, 3, 4, 5].map(majority)).toEqual([1, 2, 2, 3, 3]);
  });

  it("quorum holds exactly when a majority of the voters is active", () => {
    const voters = ["a", "b", "c", "d"];
    expect(hasQuorum(voters, (id) => id !== "d")).toBe(true);
    expect(hasQuorum(voters, (id) => id === "a" || id === "b")).toBe(false);
    expect(hasQuorum(["a"], () => true)).toBe(true);
  });

  it("an election is lost as soon as too many voters refused, and pending while it can still be won", () => {
    const votes = (entries: [string, boolean][]) => new Map(entries);
    const five = ["a", "b", "c", "d", "e"];
    expect(
      voteResult(
        five,
        votes([
          ["a", true],
          ["b", false],
          ["c", false],
        ]),
      ),
    ).toBe("pending");
    expect(
      voteResult(
        five,
        votes([
          ["a", true],
          ["b", false],
          ["c", false],
          ["d", false],
        ]),
      ),
    ).toBe("lost");
    expect(
      voteResult(
        five,
        votes([
          ["a", true],
          ["b", true],
          ["c", true],
        ]),
      ),
    ).toBe("won");
    // By etcd's convention an empty voter set wins every election (and commits nothing).
    expect(voteResult([], votes([]))).toBe("won");
    expect(committedIndex([], () => 7)).toBe(0);
  });
});
